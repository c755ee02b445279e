/**
 * Runs blkfront guests against a blkback driver domain (dom0) on one simulated machine: the
 * toolstack's part (create the domains, write the vbd device entries), then the scheduler
 * until every domain powers off.
 *
 *   npx tsx samples/ts-guests/blk/run-blk.ts [image-file]
 *
 * Without an argument a 4 MiB image is created in the system temp directory.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hypervisor, installPvCore, launchTsGuest, type PvCore } from "../../../src/hypervisor/index.js";
import { PhysicalMemory } from "../../../src/machine/index.js";
import {
  type BlkBackendOptions,
  type BlkFrontendOptions,
  type BlockStore,
  FileBlockStore,
} from "../../../src/pv-drivers/index.js";
import { BlkBackGuest } from "./blk-backend.js";
import { BlkFrontGuest, type BlkWorkload, demoWorkload } from "./blk-frontend.js";

export interface BlkRunOptions {
  /** One entry per front-end domain: its disk and workload. */
  guests: { store: BlockStore; workload: BlkWorkload; front?: BlkFrontendOptions; pages?: number }[];
  back?: BlkBackendOptions;
  /** Pages of the driver domain. Default 160. */
  backPages?: number;
  /** Called with the machine before the guests start (tracing, extra store entries). */
  before?: (hv: Hypervisor, pv: PvCore) => void;
}

export async function runBlk(o: BlkRunOptions) {
  const hv = new Hypervisor({ memory: new PhysicalMemory(32 << 20) });
  const pv = installPvCore(hv);
  const disks = new Map<number, BlockStore>();
  for (const [i, g] of o.guests.entries()) disks.set(i + 1, g.store);
  const backGuest = new BlkBackGuest(disks, o.back);
  const back = launchTsGuest(hv, backGuest, { privileged: true, paused: true, pages: o.backPages ?? 160 });
  const fronts = o.guests.map((g) => {
    const guest = new BlkFrontGuest(g.workload, g.front);
    const d = launchTsGuest(hv, guest, { paused: true, pages: g.pages ?? 128 });
    pv.storeService.toolstack.addDevice({
      type: "vbd",
      frontend: d.domain.domid,
      backend: back.domain.domid,
      devid: 0,
    });
    return { guest, domain: d.domain };
  });
  o.before?.(hv, pv);
  hv.unpause(back.domain.domid);
  for (const f of fronts) hv.unpause(f.domain.domid);
  const end = await hv.run(50_000_000_000);
  return { hv, pv, end, back: { guest: backGuest, domain: back.domain }, fronts };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), "pvkit-blk-")), "disk.img");
  const store = process.argv[2] ? FileBlockStore.open(path) : FileBlockStore.create(path, 8192);
  const r = await runBlk({ guests: [{ store, workload: demoWorkload }] });
  store.close();
  const c = r.back.guest.backs.get(1)!.counters;
  console.log(
    `blkback: ${c.requests} requests, ${c.sectorsWritten} sectors written, ${c.flushes} flush(es) on ${path}`,
  );
  console.log(`run ended: ${r.end}; front ${r.fronts[0]!.domain.state}, back ${r.back.domain.state}`);
}
