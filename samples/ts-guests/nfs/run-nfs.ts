/**
 * Runs NFS front-end guests against the NFS driver domain on one simulated machine: the real
 * NFS server in a worker thread (SyncNfsExport, also on loopback TCP when asked), the driver
 * domain with the shared buffer cache, N front ends with the vnfs device entries.
 *
 *   npx tsx samples/ts-guests/nfs/run-nfs.ts [export-dir] [guests]
 *
 * Without arguments a temporary export with one 64 KiB file is read by 3 guests; the output
 * shows that the data took 16 machine frames, not 48.
 *
 * Guests that coordinate wait in simulated time (`yieldUntil`): a host promise would park a
 * guest outside its slice.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Domain,
  Hypervisor,
  installPvCore,
  launchTsGuest,
  type PvCore,
} from "../../../src/hypervisor/index.js";
import { PhysicalMemory } from "../../../src/machine/index.js";
import {
  type NfsBackendOptions,
  type NfsFrontend,
  type NfsFrontendOptions,
  SyncNfsExport,
  type SyncRecordHandler,
} from "../../../src/pv-drivers/index.js";
import { NfsBackGuest } from "./nfs-backend.js";
import { NfsFrontGuest, type NfsWorkload, yieldUntil } from "./nfs-frontend.js";

export interface NfsRunOptions {
  /** The server (one SyncNfsExport may serve several runs). */
  server: SyncRecordHandler & { readonly exportPath: string };
  guests: { workload: NfsWorkload; front?: NfsFrontendOptions; pages?: number; disconnect?: boolean }[];
  back?: NfsBackendOptions;
  /** Buffer-cache frames. Default 256 (1 MiB). */
  cacheFrames?: number;
  /** Pages of the driver domain. Default 512. */
  backPages?: number;
  before?: (hv: Hypervisor, pv: PvCore) => void;
}

export async function runNfs(o: NfsRunOptions) {
  const hv = new Hypervisor({ memory: new PhysicalMemory(64 << 20) });
  const pv = installPvCore(hv);
  const frontIds: number[] = [];
  const backGuest = new NfsBackGuest(o.server, o.server.exportPath, frontIds, o.cacheFrames ?? 256, o.back);
  const back = launchTsGuest(hv, backGuest, { privileged: true, paused: true, pages: o.backPages ?? 512 });
  // Every guest waits (in simulated time) for the others after its workload; the first through
  // measures the page caches while all mappings are still held, then all disconnect.
  let arrived = 0;
  /** dataFrames: guests' page caches; machineFrames: those and the buffer cache's frames, distinct. */
  const atEnd = { dataFrames: -1, machineFrames: -1, cycles: 0 };
  const barrier = async (nfs: NfsFrontend) => {
    arrived++;
    await yieldUntil(nfs, () => arrived === fronts.length);
    if (atEnd.dataFrames < 0) {
      atEnd.dataFrames = dataFramesOf(fronts);
      const cachePfns = backGuest.cache?.framePfns() ?? [];
      atEnd.machineFrames = dataFramesOf(fronts, { domain: back.domain, pfns: cachePfns });
      atEnd.cycles = hv.clock.cycles;
    }
  };
  const fronts = o.guests.map((g) => {
    const guest = new NfsFrontGuest(g.workload, g.front, g.disconnect ?? true, barrier);
    const d = launchTsGuest(hv, guest, { paused: true, pages: g.pages ?? 192 });
    frontIds.push(d.domain.domid);
    return { guest, domain: d.domain };
  });
  for (const f of fronts)
    pv.storeService.toolstack.addDevice({
      type: "vnfs",
      frontend: f.domain.domid,
      backend: back.domain.domid,
      devid: 0,
    });
  o.before?.(hv, pv);
  hv.unpause(back.domain.domid);
  for (const f of fronts) hv.unpause(f.domain.domid);
  const end = await hv.run(50_000_000_000);
  return { hv, pv, end, back: { guest: backGuest, domain: back.domain }, fronts, atEnd };
}

/** Distinct machine frames behind the guests' page caches (the memory their file data takes). */
export function dataFramesOf(
  fronts: readonly { guest: NfsFrontGuest; domain: Domain }[],
  cache?: { domain: Domain; pfns: readonly number[] },
): number {
  const mfns = new Set<number>();
  if (cache) for (const pfn of cache.pfns) mfns.add(cache.domain.p2m.lookup(pfn));
  for (const f of fronts) {
    const front = f.guest.front;
    if (!front) continue;
    for (const e of front.pageCache.values()) {
      const pfn = e.kind === "map" ? e.mapping.pfn : e.pfn;
      mfns.add(f.domain.p2m.lookup(pfn));
    }
  }
  return mfns.size;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let dir = process.argv[2];
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), "pvkit-nfs-"));
    const data = new Uint8Array(65536);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    writeFileSync(join(dir, "shared.bin"), data);
  }
  const n = Number(process.argv[3] ?? 3);
  const server = await SyncNfsExport.start({
    exportDir: dir,
    stateFile: join(tmpdir(), "pvkit-nfs-sample-state.json"),
    tcpPort: 0,
  });
  console.log(`NFS server: export ${server.exportPath}, also on tcp 127.0.0.1:${server.tcpPort}`);
  const workload: NfsWorkload = async (nfs) => {
    const names = await nfs.readdir(nfs.root!);
    let bytes = 0;
    for (const name of names) {
      const { fh, attrs } = await nfs.lookup(nfs.root!, name);
      if (attrs?.type === 1) bytes += (await nfs.readFile(fh)).length;
    }
    console.log(`dom${nfs.env.domid}: ${names.length} names, read ${bytes} bytes`);
  };
  const r = await runNfs({
    server,
    guests: Array.from({ length: n }, () => ({ workload })),
  });
  const cache = r.back.guest.cache!;
  console.log(
    `run ended: ${r.end}; buffer cache: ${cache.residentPages} pages resident, ${cache.stats.hits} hits, ${cache.stats.misses} misses, ${cache.stats.sharedGrants} shared grants; guests' data in ${r.atEnd.dataFrames} machine frames`,
  );
  await server.close();
}
