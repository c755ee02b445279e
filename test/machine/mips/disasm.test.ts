/** The disassembler: objdump-style text, a round trip through the test assembler for random
 * encodings of every table entry, and agreement with GNU objdump on the committed sample ELFs. */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decode, disassemble, OPCODES } from "../../../src/machine/mips/index.js";
import { requires } from "../../setup/requires.js";
import { assemble, encode } from "./asm.js";

const PC = 0x80001000;

function hasObjdump(): boolean {
  try {
    execFileSync("mipsel-linux-gnu-objdump", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("MIPS disassembler", () => {
  it("prints objdump-style text and aliases", () => {
    const cases: [string, number, string][] = [
      ["nop", 0, "nop"],
      ["addu", encode("addu", ["a0", "v0", "zero"], PC), "move a0,v0"],
      ["addiu", encode("addiu", ["sp", "sp", -32], PC), "addiu sp,sp,-32"],
      ["lw", encode("lw", ["ra", 20, "sp"], PC), "lw ra,20(sp)"],
      ["sll", encode("sll", ["v1", "v0", 2], PC), "sll v1,v0,0x2"],
      ["ori", encode("ori", ["t0", "t0", 0xbeef], PC), "ori t0,t0,0xbeef"],
      ["beq", encode("beq", ["zero", "zero", PC - 12], PC), "b 0x80000ff4"],
      ["bne", encode("bne", ["v0", "zero", PC + 8], PC), "bnez v0,0x80001008"],
      ["jal", encode("jal", [0x80100c60], PC), "jal 0x80100c60"],
      ["jalr", encode("jalr", ["ra", "t9"], PC), "jalr t9"],
      ["mfc0", encode("mfc0", ["k0", "c0_epc"], PC), "mfc0 k0,c0_epc"],
      ["mfc0 sel", encode("mfc0", ["t0", 16, 1], PC), "mfc0 t0,c0_config1"],
      ["hypcall", 0x42000028 | (3 << 11), "hypcall 0x3"],
      ["reserved", 0xdc000000, ".word 0xdc000000"],
      ["syscall", encode("syscall", [], PC), "syscall"],
      ["teq", encode("teq", ["a0", "zero", 7], PC), "teq a0,zero,0x7"],
    ];
    for (const [what, w, text] of cases) expect(disassemble(w, PC), what).toBe(text);
  });

  it("round-trips random encodings of every entry through the test assembler", () => {
    const entries = OPCODES.map((d, i) => ({ d, i })).filter(({ d }) => d.coprocessor === undefined);
    fc.assert(
      fc.property(fc.constantFrom(...entries), fc.integer({ min: 0, max: 0xffffffff }), ({ d, i }, bits) => {
        let w = (d.match | (bits & ~d.mask)) >>> 0;
        if (d.rtIsRd) w = ((w & ~(31 << 16)) | (((w >>> 11) & 31) << 16)) >>> 0;
        expect(decode(w)).toBe(i);
        const text = disassemble(w, PC);
        expect(assemble(text, PC) >>> 0, text).toBe(w);
      }),
      { numRuns: 5000 },
    );
  });

  describe.skipIf(!hasObjdump())(
    requires("against GNU objdump", hasObjdump(), "mipsel-linux-gnu-objdump"),
    () => {
      it("agrees on every instruction of the committed sample ELFs", () => {
        const dir = fileURLToPath(new URL("../../../samples/guests/mips/", import.meta.url));
        const files = [
          ...readdirSync(dir)
            .filter((f) => f.endsWith(".elf"))
            .map((f) => dir + f),
          ...readdirSync(`${dir}kernel`)
            .filter((f) => f.endsWith(".elf"))
            .map((f) => `${dir}kernel/${f}`),
        ];
        expect(files.length).toBeGreaterThan(0);
        // objdump keeps `negu` even with no-aliases; symbols and 0x prefixes are not compared.
        const norm = (s: string) =>
          s
            .replace(/<[^>]*>/g, "")
            .replace(/0x/g, "")
            .replace(/^negu\s+(\w+),(\w+)/, "subu $1,zero,$2")
            .replace(/\s+/g, " ")
            .trim();
        let total = 0;
        const bad: string[] = [];
        for (const f of files) {
          const out = execFileSync("mipsel-linux-gnu-objdump", ["-d", "-M", "no-aliases", f], {
            encoding: "utf8",
          });
          for (const line of out.split("\n")) {
            const m = /^([0-9a-f]+):\t([0-9a-f]{8}) \t(.*)$/.exec(line);
            if (!m) continue;
            total++;
            const mine = disassemble(Number.parseInt(m[2]!, 16), Number.parseInt(m[1]!, 16), {
              aliases: false,
            });
            if (norm(mine) !== norm(m[3]!)) bad.push(`${m[1]}: ${m[3]} vs ${mine}`);
          }
        }
        expect(total).toBeGreaterThan(1000);
        expect(bad.slice(0, 10)).toEqual([]);
      });
    },
  );
});
