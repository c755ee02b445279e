/**
 * Speed of the i386 CPU alone: runs samples/guests/x86/compute.elf (multiboot-loaded, console and
 * exit port as bare port handlers, no board) and, where QEMU is installed, the same ELF under
 * `qemu-system-i386 -M pc` in the same run. Prints one JSON object. With paging on, in the same
 * run: `computePaging` is compute.elf again under an identity map of 4 KiB pages (the TLB fast
 * paths instead of the flat ones; same instructions and cycles), and `kernelPaging` the x86
 * kernel sample on the PC board (paging, two ring-3 processes, PIT preemption). Usage:
 *   node --import tsx bench/x86-cpu.ts [--print] [--interpret] [--no-qemu] [guest.elf]
 * --print copies the guest's console to stderr; --interpret turns the block compiler off.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  costTableHash,
  createBoard,
  PhysicalMemory,
  PortBus,
  SimClock,
  StopReason,
  StopSignal,
} from "../src/machine/index.js";
import { loadMultiboot } from "../src/machine/loader/index.js";
import { CR0_PG, PTE_P, PTE_U, PTE_W, X86Cpu } from "../src/machine/x86/index.js";
import { commit, timeQemu } from "./common.js";

const DEFAULT_ELF = fileURLToPath(new URL("../samples/guests/x86/compute.elf", import.meta.url));
const KERNEL_ELF = fileURLToPath(new URL("../samples/guests/x86/kernel/kernel.elf", import.meta.url));
const RAM = 32 << 20;
/** The identity map for `paging`: page directory and 8 tables in the last 64 KiB of RAM. */
const PAGE_DIR = RAM - 0x10000;

/** Identity-maps all of RAM with 4 KiB pages (supervisor/user, writable) and turns paging on. */
function identityPaging(cpu: X86Cpu, memory: PhysicalMemory): void {
  for (let t = 0; t < RAM >>> 22; t++) {
    const table = PAGE_DIR + 0x1000 * (t + 1);
    memory.write32(PAGE_DIR + 4 * t, table | PTE_P | PTE_W | PTE_U);
    for (let i = 0; i < 1024; i++)
      memory.write32(table + 4 * i, (((t << 10) | i) << 12) | PTE_P | PTE_W | PTE_U);
  }
  cpu.cr3 = PAGE_DIR;
  cpu.cr0 = cpu.cr0 | CR0_PG;
}

export interface X86CpuBenchOptions {
  file?: string;
  interpret?: boolean;
  qemu?: boolean;
  print?: boolean;
}

/** Runs the guest on the bare CPU; returns console output, counts and timings. */
function runPvkit(file: string, interpret: boolean, paging = false) {
  const memory = new PhysicalMemory(RAM);
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
  if (paging) identityPaging(cpu, memory);
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

/** The kernel sample on the PC board to completion: counts, timings and its output. */
function runKernel(interpret: boolean) {
  let output = "";
  const board = createBoard("x86", { console: (b) => (output += String.fromCharCode(b)) });
  board.loadGuest(new Uint8Array(readFileSync(KERNEL_ELF)), KERNEL_ELF);
  const cpu = (board as unknown as { cpu: X86Cpu }).cpu;
  cpu.blockCompiler = !interpret;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  board.run(4e9);
  const seconds = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  const cpuSeconds = (c1.user + c1.system) / 1e6;
  const s = board.stats();
  const instructions = Number(s.instructions);
  return {
    guest: "kernel/kernel.elf",
    instructions,
    simulatedCycles: Number(s.cycles),
    wallSeconds: Number(seconds.toFixed(3)),
    cpuSeconds: Number(cpuSeconds.toFixed(3)),
    instructionsPerSecond: Math.round(instructions / seconds),
    instructionsPerCpuSecond: Math.round(instructions / cpuSeconds),
    blocksCompiled: cpu.blocksCompiled,
    pageWalks: cpu.paging.walks,
    completed: output.includes("DONE"),
  };
}

export async function benchX86Cpu(opts: X86CpuBenchOptions = {}) {
  const file = opts.file ?? DEFAULT_ELF;
  const r = runPvkit(file, opts.interpret === true);
  const p = runPvkit(file, opts.interpret === true, true);
  const k = runKernel(opts.interpret === true);
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
    computePaging: {
      instructions: p.cpu.stats.instructions,
      simulatedCycles: p.clock.cycles,
      wallSeconds: Number(p.seconds.toFixed(3)),
      cpuSeconds: Number(p.cpuSeconds.toFixed(3)),
      instructionsPerSecond: Math.round(p.cpu.stats.instructions / p.seconds),
      instructionsPerCpuSecond: Math.round(p.cpu.stats.instructions / p.cpuSeconds),
      blocksCompiled: p.cpu.blocksCompiled,
      completed: p.ok && p.output === r.output,
    },
    kernelPaging: k,
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
  if (!result.completed || !result.computePaging.completed || !result.kernelPaging.completed)
    process.exitCode = 1;
}
