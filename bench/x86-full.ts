/**
 * Benchmark of x86 full virtualization (the VMware-style monitor, src/full-virt/x86), one JSON
 * object:
 *
 *  - `compute`: compute.elf natively (PC board) and fully virtualized (one domain through the
 *    hypervisor) for the same number of guest instructions — by default its first phase (crc32,
 *    30 M instructions; `--compute-full` runs it to the end): cycles per guest instruction, wall
 *    and process CPU time of each;
 *  - `kernel`: the x86 kernel sample (two ring-3 processes: compute at 1/6 size, and kbench's
 *    4000 null syscalls, 64 demand-zero faults, a page sweep, 200 yields) natively and fully
 *    virtualized: total cycles, wall time, same output, and per trap vector the count and the
 *    monitor cycles per trap — beside Adams & Agesen's measurements (ASPLOS 2006, REFERENCE.md:
 *    syscall 11 native / 51 software VMM; page fault 1093 / 3927; `in` 3209 / ~210; PTE write
 *    391 software VMM), for context only: the cost table (hash printed) is never tuned to them;
 *  - `pv`: the x86 PV kernel (samples/guests/x86/pv-kernel: the same processes over Xen's x86_32
 *    PV interface) in the monitor's x86 PV mode: cycles beside native and full, monitor cycles,
 *    bounces by vector, hypercalls by number, direct-paging counts, same process output.
 *
 * Usage: node --import tsx bench/x86-full.ts [--compute-full] (also part of `npm run bench`).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runFullVirtX86, runX86Domains } from "../src/hypervisor/index.js";
import { costTableHash, createBoard } from "../src/machine/index.js";

const GUESTS = fileURLToPath(new URL("../samples/guests/x86/", import.meta.url));
const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;
/** CPU seconds of this process since `c0` (wall time also counts other processes' turns). */
function cpuSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

function native(file: string, maxInstructions: number) {
  let output = "";
  const board = createBoard("x86", { console: (b) => (output += String.fromCharCode(b)) });
  board.loadGuest(new Uint8Array(readFileSync(file)), file);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  board.run(maxInstructions);
  const wallSeconds = (performance.now() - t0) / 1000;
  const s = board.stats();
  return {
    output,
    cycles: Number(s.cycles),
    instructions: Number(s.instructions),
    wallSeconds,
    cpuSeconds: cpuSince(c0),
  };
}

async function full(file: string, maxCycles?: number) {
  const c0 = process.cpuUsage();
  const res = await runFullVirtX86([{ name: "guest", file, bytes: new Uint8Array(readFileSync(file)) }], {
    out: () => {},
    ramMib: 32,
    ...(maxCycles !== undefined ? { maxCycles } : {}),
  });
  const d = res.domains[0]!;
  const cpu = res.vcpus[0]!.machine.cpu;
  return {
    output: d.output,
    cycles: res.cycles,
    instructions: cpu.stats.instructions,
    guestCycles: d.guestCycles,
    monitorCycles: d.monitorCycles,
    wallSeconds: res.wallMs / 1000,
    cpuSeconds: cpuSince(c0),
    blocksCompiled: cpu.blocksCompiled,
    state: d.state,
    diagnostic: d.diagnostic,
    stats: d.stats,
  };
}

export async function benchX86Full(opts: { computeFull?: boolean } = {}) {
  // 1. compute.elf: the same guest instructions both ways.
  const computeFile = `${GUESTS}compute.elf`;
  const f = await full(computeFile, opts.computeFull ? undefined : 30e6);
  const n = native(computeFile, opts.computeFull ? 4e9 : f.instructions);
  const compute = {
    instructions: { native: n.instructions, full: f.instructions },
    nativeCycles: n.cycles,
    fullCycles: f.cycles,
    nativeCyclesPerInstruction: round(n.cycles / n.instructions),
    fullCyclesPerInstruction: round(f.cycles / f.instructions),
    overheadCycles: round(f.cycles / f.instructions / (n.cycles / n.instructions) - 1),
    fullMonitorCycles: f.monitorCycles,
    nativeWallSeconds: round(n.wallSeconds, 3),
    fullWallSeconds: round(f.wallSeconds, 3),
    nativeCpuSeconds: round(n.cpuSeconds, 3),
    fullCpuSeconds: round(f.cpuSeconds, 3),
    fullBlocksCompiled: f.blocksCompiled,
    sameOutput: n.output === f.output,
    note: opts.computeFull
      ? "to completion"
      : "first 30 M cycles fully virtualized (crc32 phase) and the same instruction count natively",
  };

  // 2. The kernel sample.
  const kernelFile = `${GUESTS}kernel/kernel.elf`;
  const kn = native(kernelFile, 4e9);
  const kf = await full(kernelFile);
  const s = kf.stats;
  const perVector: Record<string, { traps: number; monitorCyclesPerTrap: number }> = {};
  const names: Record<number, string> = {
    3: "breakpoint (patched IRET/PUSHF…)",
    13: "#GP (privileged, I/O)",
    14: "#PF",
    32: "timer IRQ",
    128: "int 0x80 syscall",
  };
  s.trapsByVector.forEach((count, v) => {
    if (count > 0)
      perVector[`${v} ${names[v] ?? ""}`.trim()] = {
        traps: count,
        monitorCyclesPerTrap: round(s.monitorCyclesByVector[v]! / count, 1),
      };
  });
  const kernel = {
    nativeCycles: kn.cycles,
    fullCycles: kf.cycles,
    ratio: round(kf.cycles / kn.cycles),
    fullGuestCycles: kf.guestCycles,
    fullMonitorCycles: kf.monitorCycles,
    nativeWallSeconds: round(kn.wallSeconds, 3),
    fullWallSeconds: round(kf.wallSeconds, 3),
    nativeCpuSeconds: round(kn.cpuSeconds, 3),
    fullCpuSeconds: round(kf.cpuSeconds, 3),
    fullBlocksCompiled: kf.blocksCompiled,
    sameOutput: kn.output === kf.output,
    perVector,
    // A syscall under the monitor is two traps: INT 0x80 reflected, then the patched IRET.
    syscallRoundTripMonitorCycles: round(
      s.monitorCyclesByVector[128]! / s.trapsByVector[128]! +
        s.monitorCyclesByVector[3]! / s.trapsByVector[3]!,
      1,
    ),
    stats: s.toJSON(),
  };
  // 3. The PV kernel in the x86 PV mode (same processes; its first 4 boot lines differ).
  const pvFile = `${GUESTS}pv-kernel/pv-kernel.elf`;
  const pr = await runX86Domains(
    [{ name: "pv", file: pvFile, bytes: new Uint8Array(readFileSync(pvFile)), pv: true }],
    { out: () => {} },
  );
  const pd = pr.domains[0]!;
  const ps = pd.stats.toJSON();
  const tail = (o: string) => o.split("\n").slice(4).join("\n");
  const pv = {
    pvCycles: pr.cycles,
    ratioToNative: round(pr.cycles / kn.cycles),
    ratioToFull: round(pr.cycles / kf.cycles),
    pvGuestCycles: pd.guestCycles,
    pvMonitorCycles: pd.monitorCycles,
    fullMonitorCycles: kf.monitorCycles,
    pvWallSeconds: round(pr.wallMs / 1000, 3),
    state: pd.state,
    sameProcessOutput: tail(pd.output) === tail(kn.output),
    note: "the x86 PV kernel: kernel.elf's processes over Xen x86_32 PV (trap bounces, hypercalls, pinned page tables)",
    stats: ps,
  };
  return {
    bench: "x86-full",
    costTable: costTableHash(),
    compute,
    kernel,
    pv,
    adamsAgesen2006: {
      source: "Adams & Agesen, ASPLOS 2006 (REFERENCE.md); context only, the cost table is not tuned to it",
      syscall: { native: 11, softwareVmm: 51, hardwareVmm: 11 },
      pageFault: { native: 1093, softwareVmm: 3927, hardwareVmm: 11242 },
      in: { native: 3209, softwareVmm: 210, hardwareVmm: 15826 },
      pteWrite: { softwareVmm: 391, hardwareVmm: 12733 },
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchX86Full({ computeFull: process.argv.includes("--compute-full") })));
}
