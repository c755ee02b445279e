/**
 * The workloads as data: name, architectures, what each measures, which roles it needs, and how
 * to run it over those roles. A workload resolves roles from its run's container; it never asks
 * which profile it runs under (profiles.ts decides what fills each role).
 */
import { readFileSync } from "node:fs";
import type { DependencyContainer } from "tsyringe";
import type { DiskJob, DiskPath } from "./disk-path.js";
import { KBENCH_PARTS, type KbenchPart, kernelImage, Program } from "./mips-kernel.js";
import type { NetJob, NetPath } from "./net-path.js";
import type { NfsJob, NfsPath } from "./nfs-path.js";
import type { GuestImage, GuestRunner, GuestRunResult } from "./runners.js";
import { samplePath } from "./samples.js";
import { DiskPathToken, GuestFilesToken, GuestRunnerToken, NetPathToken, NfsPathToken } from "./tokens.js";
import {
  type CellFigures,
  type GuestFiles,
  isUnavailable,
  type Unavailable,
  type WorkloadArch,
} from "./types.js";

export type Role = "GuestRunner" | "GuestFiles" | "DiskPath" | "NetPath" | "NfsPath";

export interface WorkloadContext {
  readonly quick: boolean;
  /** Results already measured in this run under the same container (baselines), by key. */
  readonly memo: Map<string, Promise<GuestRunResult>>;
}

export interface WorkloadResult {
  readonly figures: CellFigures;
  readonly label?: string;
}

export interface Workload {
  readonly name: string;
  readonly arches: readonly WorkloadArch[];
  readonly measures: string;
  readonly roles: readonly Role[];
  /** Measures one cell, or says why it cannot. Throws only on a broken run. */
  run(c: DependencyContainer, ctx: WorkloadContext): Promise<WorkloadResult | Unavailable>;
}

function role<T>(c: DependencyContainer, token: symbol): T | Unavailable {
  return c.resolve<T | Unavailable>(token);
}

/** The runner and the file `which` of this profile, or why there is none. */
function guest(
  c: DependencyContainer,
  which: keyof GuestFiles,
): { runner: GuestRunner; rel: string } | Unavailable {
  const runner = role<GuestRunner>(c, GuestRunnerToken);
  if (isUnavailable(runner)) return runner;
  const rel = c.resolve<GuestFiles>(GuestFilesToken)[which];
  if (isUnavailable(rel)) return rel;
  return { runner, rel };
}

function file(rel: string): GuestImage {
  const f = samplePath(rel);
  return { name: rel, file: f, bytes: new Uint8Array(readFileSync(f)) };
}

function mustFinish(r: GuestRunResult, what: string): GuestRunResult {
  if (!r.finished) throw new Error(`${what}: the guest did not finish: ${r.diagnostic}`);
  return r;
}

/** Cycles per guest instruction: comparable whether or not the run was capped. */
function perInstruction(r: GuestRunResult): CellFigures {
  const n = r.figures.instructions ?? 0;
  return { ...r.figures, cyclesPerOp: n > 0 ? r.figures.cycles / n : 0 };
}

/** Compute budgets: full virtualization interprets kseg0 / ring-1 code, so compute.elf is capped. */
const COMPUTE_ELF_BUDGET = { quick: 2_000_000, full: 30_000_000 };
const COMPUTE_PROC_QUICK_BUDGET = 3_000_000;

function computeElf(): Workload["run"] {
  return async (c, ctx) => {
    const g = guest(c, "computeElf");
    if (isUnavailable(g)) return g;
    const budget = ctx.quick ? COMPUTE_ELF_BUDGET.quick : COMPUTE_ELF_BUDGET.full;
    const r = await g.runner.run(file(g.rel), budget);
    return {
      figures: perInstruction(r),
      label: `first ${budget / 1e6} M cycles/instructions; key: cycles per instruction`,
    };
  };
}

function kbench(part: KbenchPart): Workload["run"] {
  return async (c, ctx) => {
    const g = guest(c, "kernelSample");
    if (isUnavailable(g)) return g;
    const baseKey = `${g.rel}:${part.baseline.pid1}:${part.baseline.pid2}`;
    let base = ctx.memo.get(baseKey);
    if (!base) {
      base = g.runner.run(kernelImage(g.rel, part.baseline.pid1, part.baseline.pid2, true));
      ctx.memo.set(baseKey, base);
    }
    const b = mustFinish(await base, `${part.name} baseline`);
    const r = mustFinish(await g.runner.run(kernelImage(g.rel, part.pid1, part.pid2, true)), part.name);
    const perOp = (r.figures.cycles - b.figures.cycles) / part.ops;
    // An operation costs at least a cycle: less means the run and its baseline end at the same
    // time for another reason (the MIPS PV kernel spins until its scheduler slice ends, so both
    // end at ~1 M cycles), and the difference measures nothing.
    if (perOp < 1)
      return {
        unavailable: `below resolution: run ${r.figures.cycles} vs baseline ${b.figures.cycles} cycles (the guest's end time is quantized)`,
      };
    return {
      figures: { ...r.figures, cyclesPerOp: perOp },
      label: `${part.ops} × ${part.unit}; key: cycles per ${part.unit} above the empty baseline`,
    };
  };
}

function disk(pattern: DiskJob["pattern"], transfer: DiskJob["transfer"] = "dma"): Workload["run"] {
  return async (c, ctx) => {
    const path = role<DiskPath>(c, DiskPathToken);
    if (isUnavailable(path)) return path;
    const requests = ctx.quick ? 32 : 256;
    const figures = await path.run({ pattern, requests, queueDepth: 8, diskSectors: 32768, transfer });
    return {
      figures: { ...figures, cyclesPerOp: figures.cycles / requests },
      label: `modelled (TS guests); ${requests} × 4 KiB, queue depth 8${transfer === "pio" ? ", IDE by PIO" : ""}; key: cycles per request`,
    };
  };
}

function net(kind: NetJob["kind"]): Workload["run"] {
  return async (c, ctx) => {
    const path = role<NetPath>(c, NetPathToken);
    if (isUnavailable(path)) return path;
    const frames = ctx.quick ? 16 : 256;
    const job: NetJob =
      kind === "stream"
        ? { kind, frames, frameBytes: 1500, batch: 16 }
        : { kind, frames, frameBytes: 64, batch: 1 };
    const figures = await path.run(job);
    return {
      figures: { ...figures, cyclesPerOp: figures.cycles / frames },
      label:
        kind === "stream"
          ? `modelled (TS guests); ${frames} × 1500-byte frames, batches of 16, one ack each; key: cycles per frame`
          : `modelled (TS guests); ${frames} × 64-byte ping/pong; key: cycles per round trip`,
    };
  };
}

/** nfs-mix: N guests on one export (PvNfsPath, EmulatedNfsPath). */
async function nfsMix(c: DependencyContainer, ctx: WorkloadContext): Promise<WorkloadResult | Unavailable> {
  const path = role<NfsPath>(c, NfsPathToken);
  if (isUnavailable(path)) return path;
  const job: NfsJob = ctx.quick
    ? { guests: 2, files: 1, fileBytes: 32 * 1024, writes: 4 }
    : { guests: 4, files: 2, fileBytes: 128 * 1024, writes: 16 };
  const f = await path.run(job);
  const { rpcs, dataFrames, sharedPages, ...figures } = f;
  const frames =
    dataFrames >= 0
      ? `file data in ${dataFrames} machine frames (one copy of the shared files: ${sharedPages}, a private copy per guest: ${job.guests * sharedPages})`
      : "each guest receives its own copy through its card (1 KiB datagrams)";
  return {
    // The transports need different RPC counts (64 KiB vs 1 KiB transfers): the key is the whole mix.
    figures: { ...figures, cyclesPerOp: figures.cycles },
    label: `modelled (TS guests); ${job.guests} guests read ${job.files} × ${job.fileBytes / 1024} KiB shared files, write ${job.writes} × 4 KiB, metadata; ${rpcs} RPCs; ${frames}; key: cycles of the mix (slowest guest)`,
  };
}

const kbenchName = (p: KbenchPart) => p.name.replace(/ /g, "-").toLowerCase();

export const WORKLOADS: readonly Workload[] = [
  {
    name: "compute",
    arches: ["mips"],
    measures: "CPU-bound user process of the MIPS kernel sample (proc_config {compute, -})",
    roles: ["GuestRunner", "GuestFiles"],
    run: async (c, ctx) => {
      const g = guest(c, "kernelSample");
      if (isUnavailable(g)) return g;
      const img = kernelImage(g.rel, [Program.Compute, 0], [Program.None, 0], true);
      if (ctx.quick) {
        const r = await g.runner.run(img, COMPUTE_PROC_QUICK_BUDGET);
        return { figures: perInstruction(r), label: "quick: first 3 M; key: cycles per instruction" };
      }
      return {
        figures: perInstruction(mustFinish(await g.runner.run(img), "compute")),
        label: "to completion; key: cycles per instruction",
      };
    },
  },
  {
    name: "compute-elf",
    arches: ["mips"],
    measures: "standalone compute.elf (crc32, sort, matrix…), no kernel",
    roles: ["GuestRunner", "GuestFiles"],
    run: computeElf(),
  },
  {
    name: "compute-elf",
    arches: ["x86"],
    measures: "standalone compute.elf (crc32, sort, matrix…), no kernel",
    roles: ["GuestRunner", "GuestFiles"],
    run: computeElf(),
  },
  ...KBENCH_PARTS.map(
    (p): Workload => ({
      name: kbenchName(p),
      arches: ["mips"],
      measures: `kernel microbenchmark: ${p.name} (kbench in the MIPS kernel sample, ${p.ops} × ${p.unit})`,
      roles: ["GuestRunner", "GuestFiles"],
      run: kbench(p),
    }),
  ),
  {
    name: "kernel",
    arches: ["x86"],
    measures:
      "the x86 kernel sample end to end (compute at 1/6 size + kbench: syscalls, faults, sweep, yields)",
    roles: ["GuestRunner", "GuestFiles"],
    run: async (c) => {
      const g = guest(c, "kernelSample");
      if (isUnavailable(g)) return g;
      const r = mustFinish(await g.runner.run(file(g.rel)), "x86 kernel");
      return { figures: r.figures, label: "to completion; key: cycles" };
    },
  },
  {
    name: "blk-seq",
    arches: ["ts"],
    measures: "PV block I/O, sequential 4 KiB requests (50 % writes) on an image file",
    roles: ["DiskPath"],
    run: disk("sequential"),
  },
  {
    name: "blk-rand",
    arches: ["ts"],
    measures: "PV block I/O, random 4 KiB requests (50 % writes) on an image file",
    roles: ["DiskPath"],
    run: disk("random"),
  },
  {
    name: "blk-seq-pio",
    arches: ["ts"],
    measures:
      "blk-seq with the emulated IDE driven by PIO (every 32-bit word a register access) instead of bus-master DMA",
    roles: ["DiskPath"],
    run: disk("sequential", "pio"),
  },
  {
    name: "net-stream",
    arches: ["ts"],
    measures: "PV network stream: 1500-byte frames netfront → netback → switch → netback → netfront",
    roles: ["NetPath"],
    run: net("stream"),
  },
  {
    name: "net-rr",
    arches: ["ts"],
    measures: "PV network request-response: 64-byte ping/pong between two guests through the switch",
    roles: ["NetPath"],
    run: net("rr"),
  },
  {
    name: "nfs-mix",
    arches: ["ts"],
    measures:
      "NFSv3 read/write/metadata mix: N guests mount one export and read the same files (PV: nfsif ring + shared buffer cache)",
    roles: ["NfsPath"],
    run: nfsMix,
  },
];

/** Distinct workload names, in order. */
export const WORKLOAD_NAMES: readonly string[] = [...new Set(WORKLOADS.map((w) => w.name))];
