/**
 * Provider of the `DiskPath` role for the `pv` profile: a blkfront TypeScript domain drives a
 * blkback driver domain on a real image file (samples/ts-guests/blk `runBlk`, as bench/blk.ts
 * does). Rows are "modelled": the guest is TypeScript, its work is charged by the cost model
 * (DESIGN.md "Guests").
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBlk } from "../../samples/ts-guests/blk/run-blk.js";
import { FileBlockStore } from "../pv-drivers/index.js";
import type { CellFigures } from "./types.js";

export interface DiskJob {
  readonly pattern: "sequential" | "random";
  /** 4 KiB requests, even ones writes, odd ones reads. */
  readonly requests: number;
  readonly queueDepth: number;
  readonly diskSectors: number;
  /**
   * How an emulated-disk driver moves data: bus-master DMA (what an OS's IDE driver uses on a
   * PIIX controller) or PIO (every 32-bit word a register access). The PV path has one way.
   */
  readonly transfer: "dma" | "pio";
}

/** The role: run a block job and measure it. */
export interface DiskPath {
  run(job: DiskJob): Promise<CellFigures>;
}

/** What a disk job needs of a driver: blkfront and the emulated IDE driver both fit. */
export interface JobDisk {
  read(sector: number, count: number): Promise<Uint8Array>;
  write(sector: number, data: Uint8Array): Promise<void>;
}

/**
 * The job itself, the same on every path: `queueDepth` workers issue 4 KiB requests, even ones
 * writes of 0x5a, odd ones reads; sequential, or random from xorshift32 with a fixed seed (the
 * same pattern on every run).
 */
export async function runDiskJob(disk: JobDisk, job: DiskJob): Promise<void> {
  let x = 0x9e3779b9;
  const sectorOf = (i: number) => {
    if (job.pattern === "sequential") return (i * 8) % job.diskSectors;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % (job.diskSectors / 8)) * 8;
  };
  const payload = new Uint8Array(4096).fill(0x5a);
  let issued = 0;
  const worker = async () => {
    while (issued < job.requests) {
      const i = issued++;
      const s = sectorOf(i);
      if (i % 2 === 0) await disk.write(s, payload);
      else await disk.read(s, 8);
    }
  };
  await Promise.all(Array.from({ length: job.queueDepth }, worker));
}

export class PvBlkDiskPath implements DiskPath {
  async run(job: DiskJob): Promise<CellFigures> {
    const dir = mkdtempSync(join(tmpdir(), "pvkit-compare-blk-"));
    try {
      const store = FileBlockStore.create(join(dir, "disk.img"), job.diskSectors);
      const r = await runBlk({
        guests: [{ store, front: { bufferPages: 40 }, workload: (disk) => runDiskJob(disk, job) }],
      });
      store.close();
      const front = r.fronts[0]!;
      if (front.guest.failure) throw front.guest.failure;
      const back = r.back.guest.backs.get(1)!;
      const fe = front.guest.front!.ring!.counters;
      const be = back.ring!.counters;
      let hypercalls = 0;
      for (const d of [front.domain, r.back.domain])
        for (const n of d.stats.hypercallsByNumber) hypercalls += n;
      return {
        cycles: front.guest.timing.cycles,
        hypercalls,
        notifications: fe.notifications + be.notifications,
        bytesCopied: back.counters.bytesCopied,
        bytesMapped: back.counters.bytesMapped,
        wallMs: front.guest.timing.wallMs,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
