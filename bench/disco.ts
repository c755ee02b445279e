/**
 * Benchmark of Disco full virtualization on the MIPS machine (issue 8), one JSON object:
 *
 *  - `compute`: the sample kernel (ksseg build) with `proc_config` = compute alone — the
 *    user-mode workload — run natively on a mipssim board and fully virtualized as one Disco
 *    domain in the same process: simulated cycles, wall and CPU seconds of each, the overhead
 *    in cycles (target ≤ 5 %), and a check that both printed the same;
 *  - `kernel`: kbench parts selected through `proc_config` (null syscalls, page faults, TLB
 *    sweep, context switches = two kbench processes ping-ponging through `yield`), each natively,
 *    fully virtualized with the relinked kernel (direct), and with the unrelinked kseg0 kernel
 *    (interpreted by the monitor): cycles, the cost per operation above a baseline run that does
 *    nothing, and the full/native ratio.
 *
 * The cost table (src/machine/cost.ts, hash printed) was fixed before these were measured.
 * Usage: node --import tsx bench/disco.ts (also part of `npm run bench`).
 */
import { execFileSync } from "node:child_process";
import {
  KBENCH_PARTS,
  type KernelImage,
  kernelImage as kernel,
  type Measured,
  measureFull,
  measureNative as native,
  Program,
} from "../src/compare/index.js";
import { costTableHash } from "../src/machine/cost.js";

// The kernel image, the native/full measurements and the kbench parts live in src/compare
// (shared with `pvkit compare`).

function commit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

async function full(g: KernelImage): Promise<Measured & { userCycles: number; monitorCycles: number }> {
  return measureFull(g);
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

export async function benchDisco() {
  // 1. The user-mode compute process alone.
  // Each twice, alternating, keeping the faster wall/CPU time of each (JIT warm-up and other
  // load on the machine disturb the first run); cycles are deterministic.
  const computeImg = kernel("kernel-ksseg.elf", [Program.Compute, 0], [Program.None, 0]);
  const n1 = native(computeImg);
  const f1 = await full(computeImg);
  const n2 = native(computeImg);
  const f2 = await full(computeImg);
  const n = {
    ...n1,
    wallSeconds: Math.min(n1.wallSeconds, n2.wallSeconds),
    cpuSeconds: Math.min(n1.cpuSeconds, n2.cpuSeconds),
  };
  const f = {
    ...f1,
    wallSeconds: Math.min(f1.wallSeconds, f2.wallSeconds),
    cpuSeconds: Math.min(f1.cpuSeconds, f2.cpuSeconds),
  };
  if (n1.cycles !== n2.cycles || f1.cycles !== f2.cycles)
    throw new Error("simulated cycles differ between identical runs");
  const compute = {
    config: "kernel-ksseg.elf, proc_config {compute, -}",
    nativeCycles: n.cycles,
    fullCycles: f.cycles,
    overheadCycles: round(f.cycles / n.cycles - 1),
    fullGuestUserCycles: f.userCycles,
    fullMonitorCycles: f.monitorCycles,
    nativeWallSeconds: round(n.wallSeconds, 3),
    fullWallSeconds: round(f.wallSeconds, 3),
    overheadWall: round(f.wallSeconds / n.wallSeconds - 1),
    nativeCpuSeconds: round(n.cpuSeconds, 3),
    fullCpuSeconds: round(f.cpuSeconds, 3),
    sameOutput: n.output === f.output,
    targetOverheadCycles: 0.05,
  };

  // 2. Kernel-intensive microbenchmarks (README of the kernel sample: 4000 getpid, 128
  // demand-zero faults, 128 pages × 40 rounds of TLB sweep, 200 yields per process).
  const parts = KBENCH_PARTS;
  const table = [];
  for (const build of ["kernel-ksseg.elf", "kernel.elf"] as const) {
    const base = kernel(build, KBENCH_PARTS[0]!.baseline.pid1, KBENCH_PARTS[0]!.baseline.pid2);
    const baseN = native(base);
    const baseF = await full(base);
    for (const p of parts) {
      const g = kernel(build, p.pid1, p.pid2);
      const pn = native(g);
      const pf = await full(g);
      // The context-switch run has two kbench processes: its baseline is two empty ones.
      let bn = baseN.cycles;
      let bf = baseF.cycles;
      if (p.name === "context switch") {
        const b2 = kernel(build, p.baseline.pid1, p.baseline.pid2);
        bn = native(b2).cycles;
        bf = (await full(b2)).cycles;
      }
      const perOpNative = (pn.cycles - bn) / p.ops;
      const perOpFull = (pf.cycles - bf) / p.ops;
      table.push({
        kernel: build === "kernel.elf" ? "kseg0 (interpreted)" : "ksseg (relinked, direct)",
        benchmark: p.name,
        ops: p.ops,
        unit: p.unit,
        nativeCycles: pn.cycles,
        fullCycles: pf.cycles,
        nativeCyclesPerOp: round(perOpNative, 1),
        fullCyclesPerOp: round(perOpFull, 1),
        ratioPerOp: round(perOpFull / perOpNative, 2),
        sameOutput: pn.output === pf.output,
        nativeWallSeconds: round(pn.wallSeconds, 3),
        fullWallSeconds: round(pf.wallSeconds, 3),
      });
    }
  }
  return {
    bench: "disco",
    commit: commit(),
    costTableHash: costTableHash(),
    compute,
    kernel: table,
    node: process.version,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchDisco()));
}
