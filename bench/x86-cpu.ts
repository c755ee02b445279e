/**
 * Speed of the i386 interpreter alone: runs samples/guests/x86/compute.elf (multiboot-loaded,
 * console and exit port as bare port handlers, no board) and prints
 * {commit, costTableHash, instructionsPerSecond, ...} as JSON. Usage:
 *   node --import tsx bench/x86-cpu.ts [--print] [--interpret] [guest.elf]
 * --print copies the guest's console to stderr; --interpret turns the block compiler off.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
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

const args = process.argv.slice(2);
const printOutput = args.includes("--print");
const interpretOnly = args.includes("--interpret");
const file =
  args.find((a) => !a.startsWith("--")) ??
  new URL("../samples/guests/x86/compute.elf", import.meta.url).pathname;
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
cpu.blockCompiler = !interpretOnly;

const t0 = performance.now();
const c0 = process.cpuUsage();
let reason: StopReason;
do reason = cpu.run(50_000_000);
while (reason === StopReason.Budget);
const seconds = (performance.now() - t0) / 1000;
// CPU time of this process: on a shared machine wall time also counts other processes' turns.
const c1 = process.cpuUsage(c0);
const cpuSeconds = (c1.user + c1.system) / 1e6;

let commit = "unknown";
try {
  commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
} catch {
  // Not a git checkout: leave "unknown".
}
if (printOutput) process.stderr.write(output);
const ok = reason === StopReason.Exit && output.includes("DONE");
console.log(
  JSON.stringify({
    commit,
    costTableHash: costTableHash(),
    guest: file.split("/").pop(),
    mode: interpretOnly ? "interpreter" : "block compiler",
    instructions: cpu.stats.instructions,
    simulatedCycles: clock.cycles,
    wallSeconds: Number(seconds.toFixed(3)),
    cpuSeconds: Number(cpuSeconds.toFixed(3)),
    instructionsPerSecond: Math.round(cpu.stats.instructions / seconds),
    instructionsPerCpuSecond: Math.round(cpu.stats.instructions / cpuSeconds),
    completed: ok,
    blocksCompiled: cpu.blocksCompiled,
  }),
);
if (!ok) process.exitCode = 1;
