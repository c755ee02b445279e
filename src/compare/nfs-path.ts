/**
 * Providers of the `NfsPath` role: the same NFS mix over the PV path (`PvNfsPath`: nfsfront
 * domains on the nfsif ring, the driver domain's shared buffer cache) and over the emulated path
 * (`EmulatedNfsPath`: the same RPCs in UDP/IP datagrams through each guest's NE2000, trapped under
 * `full`, direct under `native`). Both answer with the real NFS server (SyncNfsExport). Rows are
 * "modelled" (TS guests, DESIGN.md "Guests").
 *
 * The mix per guest: READDIR, LOOKUP + GETATTR of every shared file, a full read of every
 * shared file (all guests read the same files: Disco's sharing case), CREATE of a private file
 * and `writes` × 4 KiB WRITEs to it (FILE_SYNC; 1 KiB datagrams over UDP); then guest 0 rewrites
 * the first page of the first shared file and every guest reads that file again.
 *
 * Figures: `cycles` = the slowest guest's workload; `hypercalls` of every domain;
 * `notifications` = ring notifications (PV) or device interrupts (emulated); `bytesMapped` =
 * READ data handed over as cache-frame grants plus record bytes through mapped call/reply pages;
 * `bytesCopied` = GNTTABOP_copy bytes (PV) or bytes through the cards' data ports (emulated);
 * `machineBytes` (PV) = the distinct machine frames holding file data at the end × 4 KiB.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runNe2000 } from "../../samples/ts-guests/emulated/run-ne2000.js";
import { attachNfsUdpServer, NfsUdpClient, UDP_TRANSFER } from "../../samples/ts-guests/nfs/nfs-udp.js";
import { runNfs } from "../../samples/ts-guests/nfs/run-nfs.js";
import { ip4 } from "../../samples/ts-guests/nfs/udp-ip.js";
import { Hypercall, SchedOp } from "../hypercalls/index.js";
import type { PortIoMode } from "../hypervisor/index.js";
import { type CostName, CostTable } from "../machine/index.js";
import {
  type Nfs3Client,
  type NfsFrontend,
  type NfsReadPath,
  SyncNfsExport,
  VirtualSwitch,
} from "../pv-drivers/index.js";
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
  /** Distinct machine frames holding file data at the end (PV), or −1 where not measured. */
  readonly dataFrames: number;
  /** Pages of the shared files (what one copy of them takes). */
  readonly sharedPages: number;
}

/** The role: run an NFS job and measure it. */
export interface NfsPath {
  run(job: NfsJob): Promise<NfsRunFigures>;
}

/** A temporary export holding the shared files; the real server on it. */
async function withExport<T>(job: NfsJob, fn: (server: SyncNfsExport) => Promise<T>): Promise<T> {
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
    return await fn(server);
  } finally {
    await server.close();
    rmSync(top, { recursive: true, force: true });
  }
}

/** A barrier of `n` guests in simulated time (`yieldOnce` is the guest's SCHEDOP_yield). */
function barrier(n: number): (yieldOnce: () => Promise<unknown>) => Promise<void> {
  let arrived = 0;
  return async (yieldOnce) => {
    const gen = Math.floor(arrived / n);
    arrived++;
    for (let i = 0; arrived < (gen + 1) * n; i++) {
      if (i > 100_000) throw new Error("nfs-mix: a guest never reached the barrier");
      await yieldOnce();
    }
  };
}

/** The mix of one guest (index `g`) over any transport; `maxWrite` bounds one WRITE. */
async function mix(
  nfs: Nfs3Client,
  job: NfsJob,
  g: number,
  name: string,
  maxWrite: number,
  sync: () => Promise<void>,
): Promise<void> {
  const root = nfs.root!;
  const names = await nfs.readdir(root);
  const handles: Uint8Array[] = [];
  for (const n of names.filter((x) => x.startsWith("shared-")).sort()) {
    const { fh } = await nfs.lookup(root, n);
    await nfs.getattr(fh);
    handles.push(fh);
  }
  for (const fh of handles) {
    const data = await nfs.readFile(fh);
    if (data.length !== job.fileBytes) throw new Error(`short read: ${data.length} bytes`);
  }
  const block = new Uint8Array(4096).fill(0x5a);
  const write = async (fh: Uint8Array, at: number) => {
    for (let o = 0; o < block.length; o += maxWrite)
      await nfs.write(fh, at + o, block.subarray(o, o + maxWrite));
  };
  const mine = await nfs.create(root, name);
  for (let i = 0; i < job.writes; i++) await write(mine, i * 4096);
  await sync();
  if (g === 0) await write(handles[0]!, 0);
  await sync();
  const again = await nfs.readFile(handles[0]!);
  if (again[0] !== 0x5a) throw new Error("a guest read stale data after the rewrite");
}

export class PvNfsPath implements NfsPath {
  constructor(readonly readPath: NfsReadPath = "map") {}

  run(job: NfsJob): Promise<NfsRunFigures> {
    return withExport(job, async (server) => {
      const sync = barrier(job.guests);
      const r = await runNfs({
        server,
        guests: Array.from({ length: job.guests }, (_, g) => ({
          front: { readPath: this.readPath, cachePages: 128 },
          pages: 320,
          workload: (nfs: NfsFrontend) =>
            mix(nfs.nfs3, job, g, `guest-${nfs.env.domid}.dat`, 65536, () =>
              sync(() => nfs.env.hypercalls.schedYield()),
            ),
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
    });
  }
}

/** The NE2000's data port, from its base (0x300 + 0x10). */
const NE_DATA_PORT = 0x310;

export class EmulatedNfsPath implements NfsPath {
  constructor(
    readonly mode: PortIoMode,
    private readonly costs: Readonly<Record<CostName, number>> = CostTable,
  ) {}

  run(job: NfsJob): Promise<NfsRunFigures> {
    return withExport(job, async (server) => {
      const sw = new VirtualSwitch();
      const sync = barrier(job.guests);
      const clients: NfsUdpClient[] = [];
      const r = await runNe2000({
        mode: this.mode,
        costs: this.costs,
        sw,
        before: (hv) => {
          attachNfsUdpServer(sw, server, hv.clock, this.costs);
        },
        guests: Array.from({ length: job.guests }, (_, g) => ({
          pages: 48,
          workload: async (dev, inbox, ctx) => {
            const client = new NfsUdpClient(dev, inbox, ip4(10, 0, 0, g + 2));
            clients.push(client);
            await client.nfs3.mount(server.exportPath);
            await mix(client.nfs3, job, g, `guest-${g}.dat`, UDP_TRANSFER, () =>
              sync(() => ctx.hypercall(Hypercall.sched_op, SchedOp.yield, 0)),
            );
          },
        })),
      });
      for (const g of r.guests) if (g.guest.failure) throw g.guest.failure;
      if (r.end !== "all-halted") throw new Error(`nfs-mix (emulated): run ended ${r.end}`);
      let cycles = 0;
      let wallMs = 0;
      let calls = 0;
      let interrupts = 0;
      let dataAccesses = 0;
      let worldSwitches = 0;
      let monitorCycles = 0;
      let hypercalls = 0;
      for (const g of r.guests) {
        cycles = Math.max(cycles, g.guest.timing.cycles);
        wallMs = Math.max(wallMs, g.guest.timing.wallMs);
        calls += g.io.calls;
        interrupts += g.io.interrupts;
        dataAccesses += g.io.accessesByPort[NE_DATA_PORT] ?? 0;
        worldSwitches += g.domain.stats.worldSwitches;
        monitorCycles += g.domain.stats.monitorCycles;
        for (const n of g.domain.stats.hypercallsByNumber) hypercalls += n;
      }
      return {
        cycles,
        ...(this.mode === "trapped"
          ? {
              traps: { "port I/O": calls, "virtual interrupt": interrupts },
              worldSwitches,
              monitorCycles,
            }
          : {}),
        hypercalls,
        notifications: interrupts,
        // Word accesses to the data port: 2 bytes each.
        bytesCopied: dataAccesses * 2,
        bytesMapped: 0,
        wallMs,
        rpcs: clients.reduce((s, c) => s + c.calls, 0),
        dataFrames: -1,
        sharedPages: job.files * Math.ceil(job.fileBytes / 4096),
      };
    });
  }
}
