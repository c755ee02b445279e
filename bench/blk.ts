/**
 * blkif benchmark: a blkfront TS domain drives a blkback driver domain on a real image file
 * with 4 KiB requests (one segment each, 50 % reads, 50 % writes), sequential and random, at
 * queue depths 1…32, over both data paths (grant map vs grant copy). Reports requests per
 * second (wall clock and simulated), notifications per request in each direction, pushes and
 * back-end batches per request, and payload bytes copied vs mapped, with simulated cycles and
 * wall time. Rows are "modelled" (a TS guest; DESIGN.md "Guests").
 *
 *   node --import tsx bench/blk.ts        (one JSON object on stdout)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBlk } from "../samples/ts-guests/blk/run-blk.js";
import { CPU_CLOCK_HZ, costTableHash } from "../src/machine/cost.js";
import { type BlkDataPath, FileBlockStore } from "../src/pv-drivers/index.js";

const REQUESTS = 256;
const DISK_SECTORS = 32768; // 16 MiB
const DEPTHS = [1, 2, 4, 8, 16, 32];

async function row(dir: string, pattern: "sequential" | "random", depth: number, dataPath: BlkDataPath) {
  const path = join(dir, `${pattern}-${depth}-${dataPath}.img`);
  const store = FileBlockStore.create(path, DISK_SECTORS);
  let x = 0x9e3779b9;
  const nextSector = (i: number) => {
    if (pattern === "sequential") return (i * 8) % DISK_SECTORS;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % (DISK_SECTORS / 8)) * 8;
  };
  const payload = new Uint8Array(4096).fill(0x5a);
  const r = await runBlk({
    back: { dataPath },
    guests: [
      {
        store,
        front: { bufferPages: 40 },
        workload: async (disk) => {
          let issued = 0;
          const worker = async () => {
            while (issued < REQUESTS) {
              const i = issued++;
              const s = nextSector(i);
              if (i % 2 === 0) await disk.write(s, payload);
              else await disk.read(s, 8);
            }
          };
          await Promise.all(Array.from({ length: depth }, worker));
        },
      },
    ],
  });
  store.close();
  rmSync(path, { force: true });
  const fg = r.fronts[0]!.guest;
  if (fg.failure) throw fg.failure;
  const back = r.back.guest.backs.get(1)!;
  const fe = fg.front!.ring!.counters;
  const be = back.ring!.counters;
  const c = back.counters;
  return {
    pattern,
    queueDepth: depth,
    dataPath,
    requests: c.requests,
    wallMs: Math.round(fg.timing.wallMs),
    cycles: fg.timing.cycles,
    wallRequestsPerSec: Math.round((c.requests / fg.timing.wallMs) * 1000),
    simRequestsPerSec: Math.round((c.requests / fg.timing.cycles) * CPU_CLOCK_HZ),
    notificationsPerRequestFrontToBack: fe.notifications / fe.produced,
    notificationsPerRequestBackToFront: be.notifications / be.produced,
    notificationsPerRequest: (fe.notifications + be.notifications) / fe.produced,
    pushesPerRequest: fe.pushes / fe.produced,
    backendBatchesPerRequest: c.batches / c.requests,
    bytesCopied: c.bytesCopied,
    bytesMapped: c.bytesMapped,
    pagesMapped: c.pagesMapped,
  };
}

export async function benchBlk() {
  const dir = mkdtempSync(join(tmpdir(), "pvkit-bench-blk-"));
  const rows = [];
  try {
    for (const pattern of ["sequential", "random"] as const)
      for (const dataPath of ["map", "copy"] as const)
        for (const depth of DEPTHS) rows.push(await row(dir, pattern, depth, dataPath));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    bench: "blk",
    label: "modelled (TS guests)",
    requestBytes: 4096,
    requestsPerRow: REQUESTS,
    costTable: costTableHash(),
    rows,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchBlk()));
}
