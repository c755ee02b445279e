/**
 * Benchmark of the MIPS CPU: guest instructions per second on `samples/guests/mips/compute.elf`
 * (CRC32, SHA-256, sort, matrix multiply; ~300 M instructions), run on the bare CPU with the
 * mipssim UART and exit port, and — where qemu-system-mipsel is installed — the wall time of QEMU
 * `-M mipssim` on the same ELF in the same run (until the same console output has appeared; QEMU
 * ignores pvkit's exit port, so it is killed once the output is complete).
 *
 * Prints one JSON object: commit, costTableHash, instructions, cycles, seconds (wall),
 * instructionsPerSecond (wall), cpuSeconds / instructionsPerCpuSecond (process CPU time, which
 * other load on the machine disturbs less), qemuSeconds, ratioPvkitToQemu (wall / wall), and the
 * last console line. The compilation of guest code is included in the timings.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SimClock } from "../src/machine/clock.js";
import { CostTable, costTableHash } from "../src/machine/cost.js";
import { StopReason, StopSignal } from "../src/machine/cpu.js";
import { EXIT_PORT, ExitPort } from "../src/machine/devices/exit-port.js";
import { Uart16550 } from "../src/machine/devices/uart-16550.js";
import { PortBus } from "../src/machine/io-ports.js";
import { EM_MIPS, loadElf32, mipsKseg0ToPhys } from "../src/machine/loader/elf.js";
import { PhysicalMemory } from "../src/machine/memory.js";
import { MipsCpu, MipsPhysBus } from "../src/machine/mips/index.js";
import { commit, timeQemu } from "./common.js";

const ELF = fileURLToPath(new URL("../samples/guests/mips/compute.elf", import.meta.url));

export interface MipsCpuBenchResult {
  bench: "mips-cpu";
  commit: string;
  costTableHash: string;
  elf: string;
  instructions: number;
  cycles: number;
  seconds: number;
  instructionsPerSecond: number;
  /** Process CPU time of the run and instructions per CPU second (less sensitive to other load). */
  cpuSeconds: number;
  instructionsPerCpuSecond: number;
  exitCode: number;
  output: string;
  qemuSeconds: number | null;
  ratioPvkitToQemu: number | null;
  node: string;
}

/** Runs the ELF on the bare CPU; returns output, counts and wall seconds. */
export function runPvkit(bytes: Uint8Array, maxInstructions = 5e9) {
  const memory = new PhysicalMemory(128 * 1024 * 1024);
  const ports = new PortBus();
  const clock = new SimClock();
  const stop = new StopSignal();
  const bus = new MipsPhysBus(memory, ports);
  const cpu = new MipsCpu({ memory, bus, clock, stop });
  let out = "";
  new Uart16550(ports, 0x3f8, {
    sink: (b) => (out += String.fromCharCode(b)),
    irq: { set: (l) => cpu.setIrq(4, l) },
  });
  new ExitPort(ports, stop, EXIT_PORT);
  const loaded = loadElf32(bytes, memory, { file: ELF, machine: EM_MIPS, toPhysical: mipsKseg0ToPhys });
  cpu.reset(loaded.entry);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let why: StopReason = StopReason.Budget;
  while (cpu.stats.instructions < maxInstructions) {
    why = cpu.run(1e8);
    if (why !== StopReason.Budget) break;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const used = process.cpuUsage(cpu0);
  const cpuSeconds = (used.user + used.system) / 1e6;
  if (why !== StopReason.Exit) {
    throw new Error(
      `compute.elf did not exit (stop reason ${why}):\n${cpu.recentInstructions(8).join("\n")}`,
    );
  }
  return {
    out,
    seconds,
    cpuSeconds,
    instructions: cpu.stats.instructions,
    cycles: clock.cycles,
    exitCode: stop.exitCode,
  };
}

/** Wall seconds QEMU mipssim needs to print `expected` (see timeQemu). */
export function runQemu(expected: string, timeoutMs = 120_000): Promise<number | null> {
  const args = ["-M", "mipssim", "-kernel", ELF, "-nographic", "-monitor", "none", "-serial", "stdio"];
  return timeQemu("qemu-system-mipsel", args, expected, timeoutMs);
}

export async function benchMipsCpu(opts: { qemu?: boolean } = {}): Promise<MipsCpuBenchResult> {
  const bytes = new Uint8Array(readFileSync(ELF));
  const r = runPvkit(bytes);
  const qemuSeconds = opts.qemu === false ? null : await runQemu(r.out);
  return {
    bench: "mips-cpu",
    commit: commit(),
    costTableHash: costTableHash(CostTable),
    elf: "samples/guests/mips/compute.elf",
    instructions: r.instructions,
    cycles: r.cycles,
    seconds: Number(r.seconds.toFixed(3)),
    instructionsPerSecond: Math.round(r.instructions / r.seconds),
    cpuSeconds: Number(r.cpuSeconds.toFixed(3)),
    instructionsPerCpuSecond: Math.round(r.instructions / r.cpuSeconds),
    exitCode: r.exitCode,
    output: r.out.trim().split("\n").slice(-1)[0] ?? "",
    qemuSeconds: qemuSeconds === null ? null : Number(qemuSeconds.toFixed(3)),
    ratioPvkitToQemu: qemuSeconds === null ? null : Number((r.seconds / qemuSeconds).toFixed(3)),
    node: process.version,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  benchMipsCpu({ qemu: !process.argv.includes("--no-qemu") }).then((r) => console.log(JSON.stringify(r)));
}
