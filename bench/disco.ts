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
 *  - `pv` (and the `pv*` fields of `compute`): the PV kernel (samples/guests/mips/pv-kernel, the
 *    same sources with Disco's HAL change) with the same `proc_config`, as a domain in Disco's PV
 *    mode: cycles per operation beside native and full (relinked), same cost table, and whether
 *    it printed what the native kernel printed.
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
import { runFullVirt } from "../src/hypervisor/index.js";
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

/**
 * The PV kernel (samples/guests/mips/pv-kernel, same sources with the HAL swapped) with the same
 * `proc_config`, as one domain in Disco's PV mode; same cost table as native and full.
 */
function pvKernel(pid1: readonly [number, number], pid2: readonly [number, number]): KernelImage {
  return { ...kernel("../pv-kernel/pv-kernel.elf", pid1, pid2), name: "pv-kernel.elf" };
}

async function pv(g: KernelImage): Promise<Measured & { userCycles: number; monitorCycles: number }> {
  const c0 = process.cpuUsage();
  const res = await runFullVirt([{ ...g, pv: true }], { out: () => {} });
  const c = process.cpuUsage(c0);
  const d = res.domains[0]!;
  if (d.exitValue !== 0) throw new Error(`${g.name}: PV run did not finish: ${d.diagnostic ?? d.state}`);
  return {
    cycles: res.cycles,
    wallSeconds: res.wallMs / 1000,
    cpuSeconds: (c.user + c.system) / 1e6,
    output: d.output,
    userCycles: d.stats.cycles[2]!,
    monitorCycles: d.monitorCycles,
  };
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
  const p1 = await pv(pvKernel([1, 0], [0, 0]));
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
    pvCycles: p1.cycles,
    pvOverheadCycles: round(p1.cycles / n.cycles - 1),
    pvMonitorCycles: p1.monitorCycles,
    pvWallSeconds: round(p1.wallSeconds, 3),
    pvSameOutput: n.output === p1.output,
  };

  // 2. Kernel-intensive microbenchmarks (README of the kernel sample: 4000 getpid, 128
  // demand-zero faults, 128 pages × 40 rounds of TLB sweep, 200 yields per process).
  const parts = KBENCH_PARTS;
  const table = [];
  const nativeOutputs = new Map<string, string>();
  for (const build of ["kernel-ksseg.elf", "kernel.elf"] as const) {
    const base = kernel(build, KBENCH_PARTS[0]!.baseline.pid1, KBENCH_PARTS[0]!.baseline.pid2);
    const baseN = native(base);
    const baseF = await full(base);
    for (const p of parts) {
      const g = kernel(build, p.pid1, p.pid2);
      const pn = native(g);
      const pf = await full(g);
      if (build === "kernel-ksseg.elf") nativeOutputs.set(p.name, pn.output);
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
  // PV beside native and full (relinked): the same parts, the same cost table.
  const pvTable = [];
  {
    const b = KBENCH_PARTS[0]!.baseline;
    const baseP = (await pv(pvKernel(b.pid1, b.pid2))).cycles;
    for (const p of parts) {
      const pp = await pv(pvKernel(p.pid1, p.pid2));
      let bp = baseP;
      if (p.name === "context switch") bp = (await pv(pvKernel(p.baseline.pid1, p.baseline.pid2))).cycles;
      const row = table.find((t) => t.benchmark === p.name && t.kernel.startsWith("ksseg"))!;
      const perOpPv = (pp.cycles - bp) / p.ops;
      pvTable.push({
        kernel: "pv (HAL changed, Disco PV mode)",
        benchmark: p.name,
        ops: p.ops,
        unit: p.unit,
        pvCycles: pp.cycles,
        pvCyclesPerOp: round(perOpPv, 1),
        nativeCyclesPerOp: row.nativeCyclesPerOp,
        fullCyclesPerOp: row.fullCyclesPerOp,
        pvOverFull: round(perOpPv / row.fullCyclesPerOp, 2),
        pvOverNative: round(perOpPv / row.nativeCyclesPerOp, 2),
        sameOutputAsNative: pp.output === nativeOutputs.get(p.name),
        pvWallSeconds: round(pp.wallSeconds, 3),
      });
    }
  }
  return {
    bench: "disco",
    commit: commit(),
    costTableHash: costTableHash(),
    compute,
    kernel: table,
    pv: pvTable,
    node: process.version,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchDisco()));
}
