/**
 * Random MIPS32 R1 instruction sequences (random-program.ts) run inside the harness guest on
 * QEMU's mipssim and on pvkit: every register, HI/LO, the scratch memory and the exception
 * record must match. Cases are batched (96 per QEMU boot) to keep QEMU runs few.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { mips, StopReason } from "../../../src/machine/index.js";
import { HARNESS_ELF, patchHarness } from "./harness-image.js";
import { runPvkitMips } from "./pvkit-run.js";
import { hasQemuMips, runQemuMips } from "./qemu.js";
import { BLOCK_WORDS, blockWordName, parseCaseLines, type RandomCase, randomCase } from "./random-program.js";

const CASES_PER_RUN = 96;
const RUNS = Number(process.env.PVKIT_DIFF_RUNS ?? 2);

const dir = mkdtempSync(join(tmpdir(), "pvkit-diff-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function describeCase(c: RandomCase, n: number, start: number, code: Uint32Array, codeBase: number): string {
  const lines = [`case ${n} (sequence at 0x${start.toString(16)}):`, ...c.units.map((u) => `    ${u.text}`)];
  lines.push("  as assembled:");
  const first = (start - codeBase) >>> 2;
  const len = c.units.reduce((a, u) => a + u.items.length, 0);
  for (let k = first; k < first + len; k++) {
    const pc = codeBase + 4 * k;
    lines.push(
      `    ${pc.toString(16)}: ${code[k]!.toString(16).padStart(8, "0")}  ${mips.disassemble(code[k]!, pc | 0)}`,
    );
  }
  lines.push(
    `  initial regs: ${c.regs.map((v, k) => `$${k}=${v.toString(16)}`).join(" ")} hi=${c.hi.toString(16)} lo=${c.lo.toString(16)}`,
  );
  return lines.join("\n");
}

describe("the differential harness on pvkit alone", () => {
  it("runs a known case: ALU result, overflow exception recorded, memory written", () => {
    const c: RandomCase = {
      regs: Array.from({ length: 32 }, (_, k) => (k === 2 ? 0x7fffffff : k)),
      hi: 0x1234,
      lo: 0x5678,
      scratch: Array.from({ length: 256 }, (_, k) => k),
      hiloUndefined: false,
      units: [
        { items: [{ w: 0x24010005 }], text: "addiu $1,$0,5" }, // $1 = 5
        { items: [{ w: 0x00411820 }], text: "add $3,$2,$1" }, // overflow: $3 unchanged
        { items: [{ w: 0xaf810010 }], text: "sw $1,16($28)" },
      ],
    };
    const { bytes } = patchHarness([c]);
    const r = runPvkitMips(bytes, HARNESS_ELF, 10_000_000);
    expect(r.stop, r.diagnostic).toBe(StopReason.Exit);
    const w = parseCaseLines(r.output).get(0)!;
    expect(w).toHaveLength(BLOCK_WORDS);
    expect(w[68 + 1]).toBe(5);
    expect(w[68 + 3]).toBe(3);
    expect(w[64]).toBe(1); // one exception
    expect(w[65]).toBe(12 << 2); // Ov
    expect(w[4]).toBe(5); // scratch[16..19]
    expect(w[68 + 32]).toBe(0x1234);
    expect(w[68 + 33]).toBe(0x5678);
  });
});

describe("the differential harness: a fault in a delay slot", () => {
  it("records Cause.BD and EPC = the branch, and resumes at the epilogue", () => {
    const c: RandomCase = {
      regs: Array.from({ length: 32 }, (_, k) => (k === 2 ? 0x7fffffff : k)),
      hi: 0,
      lo: 0,
      scratch: new Array(256).fill(0),
      hiloUndefined: false,
      units: [
        { items: [{ w: 0x24010005 }], text: "addiu $1,$0,5" },
        { items: [{ branch: 0x10000000, target: 4 }], text: "beq $0,$0 -> end" },
        { items: [{ w: 0x00411820 }], text: "add $3,$2,$1 (overflows, in the delay slot)" },
        { items: [{ w: 0x24040009 }], text: "addiu $4,$0,9 (skipped)" },
      ],
    };
    const { bytes, batch } = patchHarness([c]);
    const r = runPvkitMips(bytes, HARNESS_ELF, 10_000_000);
    expect(r.stop, r.diagnostic).toBe(StopReason.Exit);
    const w = parseCaseLines(r.output).get(0)!;
    expect(w[64]).toBe(1);
    expect(w[65]).toBe((12 << 2) | 1); // Ov, BD
    expect(w[66]).toBe(batch.caseStarts[0]! + 4); // EPC = the beq
    expect(w[68 + 1]).toBe(5);
    expect(w[68 + 3]).toBe(3);
    expect(w[68 + 4]).toBe(4);
  });
});

describe.skipIf(!hasQemuMips)(
  "random R1 sequences: pvkit matches qemu-system-mipsel -M mipssim register for register",
  () => {
    it(`${RUNS} × ${CASES_PER_RUN} random cases`, async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(randomCase, { minLength: CASES_PER_RUN, maxLength: CASES_PER_RUN }),
          async (cases) => {
            const { bytes, batch } = patchHarness(cases);
            const file = join(dir, `harness-${run++}.elf`);
            writeFileSync(file, bytes);
            // QEMU runs in its own process while pvkit runs here.
            const qemuRun = runQemuMips(file, { timeoutMs: 30_000 });
            const mine = runPvkitMips(bytes, file, 50_000_000);
            const qemuOut = await qemuRun;
            expect(mine.stop, mine.diagnostic).toBe(StopReason.Exit);
            const q = parseCaseLines(qemuOut);
            const p = parseCaseLines(mine.output);
            expect(q.size).toBe(cases.length);
            for (let n = 0; n < cases.length; n++) {
              const qw = q.get(n)!;
              const pw = p.get(n);
              const diffs: string[] = [];
              for (let k = 0; k < BLOCK_WORDS; k++) {
                if (cases[n]!.hiloUndefined && k >= 68 + 32) continue;
                if (qw[k] !== pw?.[k]) {
                  diffs.push(
                    `${blockWordName(k)}: qemu ${qw[k]?.toString(16)} pvkit ${pw?.[k]?.toString(16)}`,
                  );
                }
              }
              if (diffs.length > 0) {
                throw new Error(
                  `${diffs.join("\n")}\n${describeCase(cases[n]!, n, batch.caseStarts[n]!, batch.code, batch.codeBase)}`,
                );
              }
            }
          },
        ),
        { numRuns: RUNS, endOnFailure: true },
      );
    });
  },
);
