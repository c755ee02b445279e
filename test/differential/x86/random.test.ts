/**
 * Differential test of the i386 interpreter: random instruction sequences (random-sequence.ts)
 * patched into samples/guests/x86/harness.elf, run under qemu-system-i386 and on pvkit; every
 * sequence's registers, scratch memory and EFLAGS must agree, except flags the manuals leave
 * undefined. Many sequences share one QEMU boot.
 *
 * PVKIT_FC_SEED and PVKIT_FC_RUNS override the fixed seed and the number of boots.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parseElf32 } from "../../../src/machine/loader/elf.js";
import { requires } from "../../setup/requires.js";
import { hasQemuI386, runPvkitPc, runQemuI386 } from "./qemu.js";
import { assemble, COMPARED, type Sequence, sequenceArbitrary } from "./random-sequence.js";

const HARNESS = "samples/guests/x86/harness.elf";
const SEQUENCES_PER_BOOT = 48;
const CODE_AREA = 0x8000;

const harness = new Uint8Array(readFileSync(HARNESS));
const elf = parseElf32(harness, { file: HARNESS });
const sym = (name: string) => {
  const s = elf.symbols.find((x) => x.name === name);
  if (!s) throw new Error(`${HARNESS} has no symbol ${name}`);
  return s.value;
};
const codeAddr = sym("harness_code");
const dumpAddr = sym("harness_dump");
const scratch = sym("scratch");

/** File offset of virtual address `va` in the harness image. */
function fileOffset(va: number): number {
  const seg = elf.loadSegments.find((p) => va >= p.vaddr && va < p.vaddr + p.filesz);
  if (!seg) throw new Error(`0x${va.toString(16)} is not in a loaded segment of ${HARNESS}`);
  return va - seg.vaddr + seg.offset;
}

function patched(code: Uint8Array): Uint8Array {
  if (code.length > CODE_AREA)
    throw new Error(`generated code (${code.length} bytes) exceeds the harness code area`);
  const image = harness.slice();
  image.set(code, fileOffset(codeAddr));
  return image;
}

interface Dump {
  regs: number[];
  eflags: number;
  memory: string;
}
function parseDumps(output: string): Dump[] {
  return output
    .split("\n")
    .filter((l) => l.startsWith("R "))
    .map((l) => {
      const [r, m] = l.slice(2).split(" M ");
      const words = r!.split(" ").map((w) => Number.parseInt(w, 16));
      return { regs: words.slice(0, 7), eflags: words[7]!, memory: m! };
    });
}

const dir = mkdtempSync(join(tmpdir(), "pvkit-x86-random-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let boot = 0;

describe.skipIf(!hasQemuI386)(
  requires("random i386 sequences: QEMU vs pvkit", hasQemuI386, "qemu-system-i386"),
  () => {
    it("the unpatched harness runs and prints nothing per sequence", async () => {
      const q = await runQemuI386(HARNESS);
      expect(q.output).toBe("harness\nDONE\n");
      expect(runPvkitPc(HARNESS).output).toBe(q.output);
    });

    it("registers, memory and defined flags agree", async () => {
      const seed = Number(process.env.PVKIT_FC_SEED ?? 20261126);
      const numRuns = Number(process.env.PVKIT_FC_RUNS ?? 3);
      await fc.assert(
        fc.asyncProperty(
          fc.array(sequenceArbitrary(scratch), {
            minLength: SEQUENCES_PER_BOOT,
            maxLength: SEQUENCES_PER_BOOT,
          }),
          async (seqs: Sequence[]) => {
            const { code, listings, undefinedAtEnd } = assemble(seqs, codeAddr, dumpAddr);
            const image = patched(code);
            const path = join(dir, `harness-${boot++}.elf`);
            writeFileSync(path, image);
            const q = await runQemuI386(path).catch((e: Error) => {
              // Name the sequence QEMU was in (the one after the last complete dump line).
              const done = parseDumps(e.message).length;
              throw new Error(
                `${e.message.slice(0, 300)}…\nstuck in sequence ${done}:\n  ${listings[done]?.join("\n  ")}`,
              );
            });
            const p = runPvkitPc(image, { file: path, maxInstructions: 50_000_000 });
            const qd = parseDumps(q.output);
            const pd = parseDumps(p.output);
            expect(qd.length, `QEMU printed ${qd.length} of ${seqs.length} sequences:\n${q.output}`).toBe(
              seqs.length,
            );
            for (let i = 0; i < seqs.length; i++) {
              const mask = COMPARED & ~undefinedAtEnd[i]!;
              const where = `sequence ${i}:\n  ${listings[i]!.join("\n  ")}\nQEMU : ${JSON.stringify(qd[i])}\npvkit: ${JSON.stringify(pd[i])}\n${pd.length <= i ? p.board.diagnostic() : ""}`;
              expect(pd[i], where).toBeDefined();
              expect(
                pd[i]!.regs.map((v) => v.toString(16)),
                where,
              ).toEqual(qd[i]!.regs.map((v) => v.toString(16)));
              expect((pd[i]!.eflags & mask).toString(16), where).toBe((qd[i]!.eflags & mask).toString(16));
              expect(pd[i]!.memory, where).toBe(qd[i]!.memory);
            }
            expect(p.exit).toBe(0);
          },
        ),
        { seed, numRuns, endOnFailure: true },
      );
    });
  },
);
