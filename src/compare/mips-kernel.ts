/**
 * The MIPS kernel sample (samples/guests/mips/kernel) as a measurement subject: `proc_config`
 * patched to choose what pid 1 and pid 2 run (main.c), the kbench parts with their operation
 * counts (the sample's README), and one native / one Disco measurement. Moved here from
 * bench/disco.ts so the benchmark and `pvkit compare` share it.
 */
import { readFileSync } from "node:fs";
import { type FullVirtResult, runFullVirt, runNative } from "../hypervisor/index.js";
import { type CostName, EM_MIPS, parseElf32 } from "../machine/index.js";
import { samplePath } from "./samples.js";

/** Programs for `proc_config` (main.c): {program, argument} per pid. */
export const Program = { None: 0, Compute: 1, Kbench: 2 } as const;
/** kbench's argument bits (include/syscalls.h KB_*). */
export const Kbench = { Syscalls: 0x01, PageFaults: 0x02, TlbSweep: 0x04, Yields: 0x08 } as const;

export interface KernelImage {
  readonly name: string;
  readonly file: string;
  readonly bytes: Uint8Array;
}

/** A copy of a kernel ELF with consecutive 32-bit words at `symbol` replaced by `words`. */
function patchWords(elf: Uint8Array, file: string, symbol: string, words: readonly number[]): Uint8Array {
  const img = parseElf32(elf, { file, machine: EM_MIPS });
  const sym = img.symbols.find((s) => s.name === symbol);
  if (!sym) throw new Error(`${file}: no ${symbol} symbol`);
  const size = 4 * words.length;
  const seg = img.loadSegments.find((p) => sym.value >= p.vaddr && sym.value + size <= p.vaddr + p.filesz);
  if (!seg) throw new Error(`${file}: ${symbol} is not in the file image`);
  const out = elf.slice();
  const view = new DataView(out.buffer);
  words.forEach((w, i) => {
    view.setUint32(seg.offset + (sym.value - seg.vaddr) + 4 * i, w >>> 0, true);
  });
  return out;
}

/**
 * `build` (kernel.elf or kernel-ksseg.elf under mips/kernel/, or a path under samples/guests/
 * when `rel` is true: mips/pv-kernel/pv-kernel.elf has the same `proc_config`) with
 * `proc_config` = {pid1, pid2}.
 */
export function kernelImage(
  build: string,
  pid1: readonly [number, number],
  pid2: readonly [number, number],
  rel = false,
): KernelImage {
  const file = samplePath(rel ? build : `mips/kernel/${build}`);
  const bytes = patchWords(new Uint8Array(readFileSync(file)), file, "proc_config", [...pid1, ...pid2]);
  return { name: build, file, bytes };
}

export interface KbenchPart {
  readonly name: string;
  readonly pid1: readonly [number, number];
  readonly pid2: readonly [number, number];
  /** Operations the part performs (README of the kernel sample). */
  readonly ops: number;
  readonly unit: string;
  /** The empty baseline to subtract: one kbench process doing nothing, or two (context switch). */
  readonly baseline: { readonly pid1: readonly [number, number]; readonly pid2: readonly [number, number] };
}

const ONE_EMPTY = { pid1: [Program.Kbench, 0], pid2: [Program.None, 0] } as const;
/**
 * README of the kernel sample: 4000 getpid, 128 demand-zero faults, 128 pages × 40 rounds of TLB
 * sweep, 200 yields per process (two processes ping-ponging).
 */
export const KBENCH_PARTS: readonly KbenchPart[] = [
  {
    name: "syscall",
    pid1: [Program.Kbench, Kbench.Syscalls],
    pid2: [Program.None, 0],
    ops: 4000,
    unit: "getpid",
    baseline: ONE_EMPTY,
  },
  {
    name: "page fault",
    pid1: [Program.Kbench, Kbench.PageFaults],
    pid2: [Program.None, 0],
    ops: 128,
    unit: "fault",
    baseline: ONE_EMPTY,
  },
  {
    name: "TLB miss",
    pid1: [Program.Kbench, Kbench.TlbSweep],
    pid2: [Program.None, 0],
    ops: 5120,
    unit: "page touched",
    baseline: ONE_EMPTY,
  },
  {
    name: "context switch",
    pid1: [Program.Kbench, Kbench.Yields],
    pid2: [Program.Kbench, Kbench.Yields],
    ops: 400,
    unit: "yield",
    baseline: { pid1: [Program.Kbench, 0], pid2: [Program.Kbench, 0] },
  },
];

export interface Measured {
  readonly cycles: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly output: string;
}

/** Runs `f` and returns its value with wall and process CPU seconds. */
export function timed<T>(f: () => T): { value: T; wallSeconds: number; cpuSeconds: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const wallSeconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wallSeconds, cpuSeconds: (c.user + c.system) / 1e6 };
}

/** The image natively on a mipssim board; throws if the kernel does not reach its exit port. */
export function measureNative(g: KernelImage): Measured & { instructions: number } {
  const r = timed(() => runNative([g], { out: () => {} })[0]!);
  if (r.value.exitValue !== 0) throw new Error(`${g.name}: native run did not finish: ${r.value.diagnostic}`);
  return {
    cycles: r.value.cycles,
    instructions: r.value.instructions,
    wallSeconds: r.wallSeconds,
    cpuSeconds: r.cpuSeconds,
    output: r.value.output,
  };
}

/** The image as one Disco domain; throws if the domain does not power off with 0. */
export async function measureFull(
  g: KernelImage,
  costs?: Readonly<Record<CostName, number>>,
): Promise<Measured & { userCycles: number; monitorCycles: number; result: FullVirtResult }> {
  const c0 = process.cpuUsage();
  const res = await runFullVirt([g], { out: () => {}, ...(costs ? { costs } : {}) });
  const c = process.cpuUsage(c0);
  const d = res.domains[0]!;
  if (d.exitValue !== 0) throw new Error(`${g.name}: full run did not finish: ${d.diagnostic ?? d.state}`);
  return {
    cycles: res.cycles,
    wallSeconds: res.wallMs / 1000,
    cpuSeconds: (c.user + c.system) / 1e6,
    output: d.output,
    userCycles: d.stats.cycles[2]!,
    monitorCycles: d.monitorCycles,
    result: res,
  };
}
