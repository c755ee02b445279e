/**
 * Provider of the `NfsPath` role for the `pv` profile: N nfsfront TypeScript domains mount one
 * export of the real NFS server through the nfsif back end and its shared buffer cache
 * (samples/ts-guests/nfs `runNfs`). Rows are "modelled" (TS guests, DESIGN.md "Guests").
 *
 * The mix per guest: READDIR, LOOKUP + GETATTR of every shared file, a full read of every
 * shared file (all guests read the same files: Disco's sharing case), CREATE of a private file
 * and `writes` × 4 KiB FILE_SYNC WRITEs to it; then guest 0 rewrites the first page of the
 * first shared file (invalidating it) and every guest reads that file again.
 *
 * Figures: `cycles` = the slowest guest's workload; `hypercalls` of every domain;
 * `notifications` of every ring; `bytesMapped` = READ data handed over as cache-frame grants
 * plus record bytes through mapped call/reply pages; `bytesCopied` = GNTTABOP_copy bytes;
 * `machineBytes` = the distinct machine frames holding file data at the end (buffer cache and
 * the guests' page caches) × 4 KiB.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { yieldUntil } from "../../samples/ts-guests/nfs/nfs-frontend.js";
import { runNfs } from "../../samples/ts-guests/nfs/run-nfs.js";
import { type NfsFrontend, type NfsReadPath, SyncNfsExport } from "../pv-drivers/index.js";
import type { CellFigures } from "./types.js";

export interface NfsJob {
  /** Guests mounting the export at once. */
  readonly guests: number;
  /** Shared files every guest reads, and their size in bytes. */
  readonly files: number;
  readonly fileBytes: number;
  /** 4 KiB WRITEs per guest to its own file. */
  readonly writes: number;
}

/** What a run measured, beyond the cell's figures (for labels and tests). */
export interface NfsRunFigures extends CellFigures {
  /** RPCs the guests issued. */
  readonly rpcs: number;
  /** Distinct machine frames holding file data at the end. */
  readonly dataFrames: number;
  /** Pages of the shared files (what one copy of them takes). */
  readonly sharedPages: number;
}

/** The role: run an NFS job and measure it. */
export interface NfsPath {
  run(job: NfsJob): Promise<NfsRunFigures>;
}

export class PvNfsPath implements NfsPath {
  constructor(readonly readPath: NfsReadPath = "map") {}

  async run(job: NfsJob): Promise<NfsRunFigures> {
    const top = mkdtempSync(join(tmpdir(), "pvkit-compare-nfs-"));
    const exportDir = join(top, "export");
    mkdirSync(exportDir);
    for (let f = 0; f < job.files; f++) {
      const data = new Uint8Array(job.fileBytes);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31 + f) & 0xff;
      writeFileSync(join(exportDir, `shared-${f}.dat`), data);
    }
    const server = await SyncNfsExport.start({ exportDir, stateFile: join(top, "state.json") });
    try {
      let arrived = 0;
      const sync = async (nfs: NfsFrontend) => {
        const gen = Math.floor(arrived / job.guests);
        arrived++;
        await yieldUntil(nfs, () => arrived >= (gen + 1) * job.guests);
      };
      const block = new Uint8Array(4096).fill(0x5a);
      const r = await runNfs({
        server,
        guests: Array.from({ length: job.guests }, (_, g) => ({
          front: { readPath: this.readPath, cachePages: 128 },
          pages: 320,
          workload: async (nfs: NfsFrontend) => {
            const root = nfs.root!;
            const names = await nfs.readdir(root);
            const handles: Uint8Array[] = [];
            for (const name of names.filter((n) => n.startsWith("shared-")).sort()) {
              const { fh } = await nfs.lookup(root, name);
              await nfs.getattr(fh);
              handles.push(fh);
            }
            for (const fh of handles) {
              const data = await nfs.readFile(fh);
              if (data.length !== job.fileBytes) throw new Error(`short read: ${data.length} bytes`);
            }
            const mine = await nfs.create(root, `guest-${nfs.env.domid}.dat`);
            for (let i = 0; i < job.writes; i++) await nfs.write(mine, i * 4096, block);
            await sync(nfs);
            if (g === 0) await nfs.write(handles[0]!, 0, block);
            await sync(nfs);
            const again = await nfs.readFile(handles[0]!);
            if (again[0] !== 0x5a) throw new Error("a guest read stale data after the rewrite");
          },
        })),
      });
      for (const f of r.fronts) if (f.guest.failure) throw f.guest.failure;
      if (r.end !== "all-halted") throw new Error(`nfs-mix: run ended ${r.end}`);
      let notifications = 0;
      let bytesMapped = 0;
      let bytesCopied = 0;
      for (const b of r.back.guest.backs.values()) {
        notifications += b.ring?.counters.notifications ?? 0;
        bytesMapped += b.counters.bytesMapped + b.counters.recordBytesMapped;
        bytesCopied += b.counters.bytesCopied;
      }
      let rpcs = 0;
      let cycles = 0;
      let wallMs = 0;
      for (const f of r.fronts) {
        notifications += f.guest.front?.ring?.counters.notifications ?? 0;
        rpcs += f.guest.front?.counters.calls ?? 0;
        cycles = Math.max(cycles, f.guest.timing.cycles);
        wallMs = Math.max(wallMs, f.guest.timing.wallMs);
      }
      let hypercalls = 0;
      for (const d of [r.back.domain, ...r.fronts.map((f) => f.domain)])
        for (const n of d.stats.hypercallsByNumber) hypercalls += n;
      return {
        cycles,
        hypercalls,
        notifications,
        bytesCopied,
        bytesMapped,
        machineBytes: r.atEnd.machineFrames * 4096,
        wallMs,
        rpcs,
        dataFrames: r.atEnd.machineFrames,
        sharedPages: job.files * Math.ceil(job.fileBytes / 4096),
      };
    } finally {
      await server.close();
      rmSync(top, { recursive: true, force: true });
    }
  }
}
