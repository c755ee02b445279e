/**
 * Speed of the i386 CPU alone: runs samples/guests/x86/compute.elf (multiboot-loaded, console and
 * exit port as bare port handlers, no board) and, where QEMU is installed, the same ELF under
 * `qemu-system-i386 -M pc` in the same run. Prints one JSON object. Usage:
 *   node --import tsx bench/x86-cpu.ts [--print] [--interpret] [--no-qemu] [guest.elf]
 * --print copies the guest's console to stderr; --interpret turns the block compiler off.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  costTableHash,
  PhysicalMemory,
  PortBus,
  SimClock,
  StopReason,
  StopSignal,
} from "../src/machine/index.js";
import { loadMultiboot } from "../src/machine/loader/index.js";
import { X86Cpu } from "../src/machine/x86/index.js";
import { commit, timeQemu } from "./common.js";

const DEFAULT_ELF = fileURLToPath(new URL("../samples/guests/x86/compute.elf", import.meta.url));

export interface X86CpuBenchOptions {
  file?: string;
  interpret?: boolean;
  qemu?: boolean;
  print?: boolean;
}

/** Runs the guest on the bare CPU; returns console output, counts and timings. */
function runPvkit(file: string, interpret: boolean) {
  const memory = new PhysicalMemory(32 << 20);
  const ports = new PortBus();
  const clock = new SimClock();
  const stop = new StopSignal();
  let output = "";
  ports.register(0x3f8, 8, {
    name: "console",
    // LSR (0x3FD) reads "transmitter empty" so the guest's polling loop exits at once.
    read: (port) => (port === 0x3fd ? 0x60 : 0),
    write: (port, _size, value) => {
      if (port === 0x3f8) output += String.fromCharCode(value);
    },
  });
  ports.register(0x501, 2, { name: "exit", read: () => 0xff, write: (_p, _s, v) => stop.request(v) });
  const mb = loadMultiboot(new Uint8Array(readFileSync(file)), memory, { file });
  const cpu = new X86Cpu({ memory, ports, clock, stop });
  cpu.resetMultiboot(mb.entry, mb.infoAddress);
  cpu.blockCompiler = !interpret;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let reason: StopReason;
  do reason = cpu.run(50_000_000);
  while (reason === StopReason.Budget);
  const seconds = (performance.now() - t0) / 1000;
  // CPU time of this process: on a shared machine wall time also counts other processes' turns.
  const c1 = process.cpuUsage(c0);
  const cpuSeconds = (c1.user + c1.system) / 1e6;
  return {
    cpu,
    clock,
    output,
    seconds,
    cpuSeconds,
    ok: reason === StopReason.Exit && output.includes("DONE"),
  };
}

export async function benchX86Cpu(opts: X86CpuBenchOptions = {}) {
  const file = opts.file ?? DEFAULT_ELF;
  const r = runPvkit(file, opts.interpret === true);
  if (opts.print) process.stderr.write(r.output);
  const qemuArgs = ["-M", "pc", "-display", "none", "-monitor", "none", "-serial", "stdio"];
  qemuArgs.push("-device", "isa-debug-exit,iobase=0x501,iosize=2", "-kernel", file);
  const qemuSeconds =
    opts.qemu === false || !r.ok ? null : await timeQemu("qemu-system-i386", qemuArgs, r.output);
  return {
    bench: "x86-cpu",
    commit: commit(),
    costTableHash: costTableHash(),
    guest: file.split("/").pop(),
    mode: opts.interpret ? "interpreter" : "block compiler",
    instructions: r.cpu.stats.instructions,
    simulatedCycles: r.clock.cycles,
    wallSeconds: Number(r.seconds.toFixed(3)),
    cpuSeconds: Number(r.cpuSeconds.toFixed(3)),
    instructionsPerSecond: Math.round(r.cpu.stats.instructions / r.seconds),
    instructionsPerCpuSecond: Math.round(r.cpu.stats.instructions / r.cpuSeconds),
    completed: r.ok,
    blocksCompiled: r.cpu.blocksCompiled,
    qemuSeconds: qemuSeconds === null ? null : Number(qemuSeconds.toFixed(3)),
    ratioPvkitToQemu: qemuSeconds === null ? null : Number((r.seconds / qemuSeconds).toFixed(3)),
    node: process.version,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const result = await benchX86Cpu({
    file: args.find((a) => !a.startsWith("--")),
    interpret: args.includes("--interpret"),
    qemu: !args.includes("--no-qemu"),
    print: args.includes("--print"),
  });
  console.log(JSON.stringify(result));
  if (!result.completed) process.exitCode = 1;
}
