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
}

/** The role: run a block job and measure it. */
export interface DiskPath {
  run(job: DiskJob): Promise<CellFigures>;
}

export class PvBlkDiskPath implements DiskPath {
  async run(job: DiskJob): Promise<CellFigures> {
    const dir = mkdtempSync(join(tmpdir(), "pvkit-compare-blk-"));
    try {
      const store = FileBlockStore.create(join(dir, "disk.img"), job.diskSectors);
      // xorshift32 with a fixed seed: the random pattern is the same on every run.
      let x = 0x9e3779b9;
      const sectorOf = (i: number) => {
        if (job.pattern === "sequential") return (i * 8) % job.diskSectors;
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        return ((x >>> 0) % (job.diskSectors / 8)) * 8;
      };
      const payload = new Uint8Array(4096).fill(0x5a);
      const r = await runBlk({
        guests: [
          {
            store,
            front: { bufferPages: 40 },
            workload: async (disk) => {
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
            },
          },
        ],
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
