/**
 * Sample guests print the same natively (each on its own mipssim board) and fully virtualized
 * (Disco domains sharing one CPU), alone and four at a time.
 *
 * Runtime: the kernel runs with `proc_config` patched to two kbench processes (all parts /
 * syscalls, page faults and yields) instead of compute + kbench, because compute is ~300 M user instructions
 * (seconds per run, more on a loaded machine). The compute-bearing runs — the kernel's default
 * configuration and compute.elf, whose kernel-mode code is interpreted by the monitor — are in
 * the slow block (PVKIT_SLOW_TESTS=1) and in `bench/disco.ts`, which checks their output too.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type MipsGuestImage, runFullVirt, runNative } from "../../../src/hypervisor/index.js";
import { Kbench, Program, withProcs } from "../../differential/mips-kernel/run-kernel.js";

const DIR = "samples/guests/mips";
const SLOW = process.env.PVKIT_SLOW_TESTS === "1";

function image(file: string, name = file.split("/").pop()!): MipsGuestImage {
  return { name, file, bytes: new Uint8Array(readFileSync(file)) };
}

function kbenchKernel(build: string, name: string): MipsGuestImage {
  const file = `${DIR}/kernel/${build}`;
  const bytes = withProcs(
    new Uint8Array(readFileSync(file)),
    file,
    [Program.Kbench, Kbench.All],
    [Program.Kbench, Kbench.Syscalls | Kbench.PageFaults | Kbench.Yields],
  );
  return { name, file, bytes };
}

function native(g: MipsGuestImage): string {
  const [r] = runNative([g], { out: () => {} });
  expect(r!.exitValue).toBe(0);
  return r!.output;
}

/** With the isolation oracle (every guest access checked; slower) when `oracle`. */
async function full(guests: MipsGuestImage[], oracle = false) {
  const lines: string[] = [];
  const res = await runFullVirt(guests, { out: (l) => lines.push(l), oracle });
  for (const d of res.domains) {
    expect(d.diagnostic).toBeNull();
    expect(d.state).toBe("shutdown");
    expect(d.exitValue).toBe(0);
  }
  expect(res.hypervisor.oracleViolations).toEqual([]);
  return { res, lines };
}

describe("sample guests: native vs full virtualization", () => {
  it("hello: alone and four at a time (prefixed console lines)", async () => {
    const hello = image(`${DIR}/hello.elf`);
    const want = native(hello);
    expect(want).toContain("Hello from a pvkit guest (mips)");
    const alone = await full([hello], true);
    expect(alone.res.domains[0]!.output).toBe(want);
    expect(alone.lines.join("\n")).toBe(want.trimEnd());
    const four = await full(
      [1, 2, 3, 4].map((i) => ({ ...hello, name: `h${i}` })),
      true,
    );
    for (const d of four.res.domains) expect(d.output).toBe(want);
    const wantLines = want.trimEnd().split("\n");
    for (let i = 1; i <= 4; i++) {
      expect(four.lines.filter((l) => l.startsWith(`[h${i}] `)).map((l) => l.slice(5))).toEqual(wantLines);
    }
    // hello runs in kseg0 kernel mode: all of it interpreted, every UART access emulated.
    const s = alone.res.domains[0]!.stats;
    expect(s.counts[1]).toBeGreaterThan(0);
    expect(s.counts[0]).toBe(0);
    expect(s.counts[9]).toBeGreaterThan(0);
  });

  it("kernel, both builds (kbench: all parts + syscalls/faults/yields, via proc_config): alone and four at a time", async () => {
    const ksseg = kbenchKernel("kernel-ksseg.elf", "ksseg");
    const kseg0 = kbenchKernel("kernel.elf", "kseg0");
    const want = native(ksseg);
    expect(native(kseg0)).toBe(want);
    expect(want).toContain("*** PVKIT KERNEL DONE ***");
    expect(want).toContain("kbench: tlb sweep");
    for (const g of [ksseg, kseg0]) {
      const alone = await full([g]);
      expect(alone.res.domains[0]!.output).toBe(want);
    }
    const four = await full([
      { ...ksseg, name: "k1" },
      { ...kseg0, name: "k2" },
      { ...ksseg, name: "k3" },
      { ...kseg0, name: "k4" },
    ]);
    for (const d of four.res.domains) expect(d.output).toBe(want);
    const [k1, k2] = four.res.domains;
    // The relinked kernel runs directly; the kseg0 kernel's kernel code is interpreted.
    expect(k1!.stats.counts[0]).toBeGreaterThan(0);
    expect(k1!.stats.counts[1]).toBeLessThan(200);
    expect(k2!.stats.counts[1]).toBeGreaterThan(100_000);
  }, 120_000);
});

describe.skipIf(!SLOW)("compute-bearing guests (slow: PVKIT_SLOW_TESTS=1)", () => {
  it("kernel default configuration (compute + kbench), both builds, full = expected output", async () => {
    const expected = readFileSync("test/differential/mips-kernel/expected-output.txt", "latin1");
    for (const build of ["kernel-ksseg.elf", "kernel.elf"]) {
      const r = await full([image(`${DIR}/kernel/${build}`)]);
      expect(r.res.domains[0]!.output).toBe(expected);
    }
  }, 600_000);

  it("compute.elf (interpreted kseg0) prints what it prints natively", async () => {
    const g = image(`${DIR}/compute.elf`);
    const r = await full([g]);
    expect(r.res.domains[0]!.output).toBe(native(g));
  }, 1_200_000);
});
