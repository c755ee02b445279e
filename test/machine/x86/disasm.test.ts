/**
 * The disassembler against GNU objdump (-M intel) on the committed x86 guests, instruction by
 * instruction, and round trips through the test assembler. Both read the same opcode table.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EM_386, parseElf32 } from "../../../src/machine/index.js";
import { decodeInstruction, disassembleAt, virtClass } from "../../../src/machine/x86/index.js";
import { requires } from "../../setup/requires.js";
import { asm } from "./asm.js";

function hasObjdump(): boolean {
  try {
    execFileSync("objdump", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const GUESTS = [
  "samples/guests/x86/compute.elf",
  "samples/guests/x86/kernel/kernel.elf",
  "samples/guests/x86/mbinfo.elf",
];

describe.skipIf(!hasObjdump())(
  requires("x86 disassembler vs objdump -M intel", hasObjdump(), "objdump"),
  () => {
    for (const file of GUESTS) {
      it.skipIf(!existsSync(file))(`${file}: every instruction matches`, () => {
        const dump = execFileSync("objdump", ["-d", "-M", "intel", "--no-show-raw-insn", file], {
          encoding: "utf8",
        });
        const img = parseElf32(new Uint8Array(readFileSync(file)), { file, machine: EM_386 });
        const seg = img.loadSegments[0]!;
        // objdump prints branch targets as "call   1002f0 <main>"; we print "call   0x1002f0".
        const norm = (s: string) =>
          s
            .replace(/\s+<[^>]*>/, "")
            .replace(/\s+/g, " ")
            .replace(/^(call|jmp|j[a-z]+|loop[a-z]*) ([0-9a-f]+)$/, "$1 0x$2")
            .trim();
        const mismatches: string[] = [];
        let count = 0;
        for (const line of dump.split("\n")) {
          const m = /^\s+([0-9a-f]+):\t(.*)$/.exec(line);
          if (!m) continue;
          const ref = m[2]!;
          if (ref.startsWith("(bad)") || ref.startsWith(".byte")) continue;
          const addr = Number.parseInt(m[1]!, 16);
          const off = addr - seg.vaddr + seg.offset;
          const ours = disassembleAt(img.bytes.subarray(off, off + 15), addr).text;
          count++;
          if (norm(ours) !== norm(ref)) mismatches.push(`${addr.toString(16)}: "${ours}" vs "${ref}"`);
        }
        expect(count).toBeGreaterThan(100);
        expect(mismatches.slice(0, 10)).toEqual([]);
      });
    }
  },
);

describe("x86 disassembler", () => {
  it("round-trips the test assembler's output", () => {
    const lines = [
      "mov    eax,DWORD PTR [ebp-0x8]",
      "add    DWORD PTR [eax+ecx*4+0x10],0x5",
      "lea    esi,[ebx+edi*8]",
      "movzx  eax,BYTE PTR [ecx]",
      "shl    edx,cl",
      "imul   eax,ebx,0x64",
      "xchg   ecx,eax",
      "cmpxchg DWORD PTR [esi],edx",
      "mov    cr3,eax",
      "mov    eax,fs",
      "int    0x80",
      "iret",
      "rep movs DWORD PTR es:[edi],DWORD PTR ds:[esi]",
      "bswap  edi",
      "push   0xffffffff",
    ];
    const src = lines
      .map((l) =>
        l
          .replace(/DWORD PTR/g, "dword")
          .replace(/BYTE PTR/g, "byte")
          .replace("rep movs dword es:[edi],dword ds:[esi]", "rep movsd")
          .replace("push   0xffffffff", "push -1"),
      )
      .join("\n");
    const bytes = asm(src, 0);
    const out: string[] = [];
    for (let pos = 0; pos < bytes.length; ) {
      const r = disassembleAt(bytes.subarray(pos), pos);
      out.push(r.text);
      pos += r.length;
    }
    expect(out).toEqual(lines);
  });

  it("decodes virtualization classes from the table", () => {
    const cls = (src: string) => {
      const d = decodeInstruction(asm(src, 0));
      return virtClass(d.opcode, d.modrm?.reg ?? 0);
    };
    expect(cls("pushf")).toBe("sensitive");
    expect(cls("sgdt [eax]")).toBe("sensitive");
    expect(cls("lgdt [eax]")).toBe("privileged");
    expect(cls("mov cr0, eax")).toBe("privileged");
    expect(cls("cli")).toBe("iopl");
    expect(cls("out 0x80, al")).toBe("iopl");
    expect(cls("push cs")).toBe("sensitive");
    expect(cls("call far 0x08:0x1000")).toBe("sensitive");
    expect(cls("add eax, ebx")).toBe("none");
    expect(decodeInstruction(new Uint8Array([0x66, 0x0f, 0x01, 0x10])).operandSize).toBe(2);
  });
});
