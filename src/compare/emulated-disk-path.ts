/**
 * Provider of the `DiskPath` role for the `native` and `full` profiles: one TS guest drives an
 * emulated IDE disk (src/guest-sdk/emulated IdeDisk) on a raw image file in FileBlockStore's
 * format, through its port interface (samples/ts-guests/emulated `runIde`). The same driver code
 * on both: under `full` every register access traps into the monitor (`trapped`), under `native`
 * it is a bus access (`direct`); the job is `runDiskJob`, as on the PV path.
 *
 * Figures cover the workload only (after IDENTIFY): `traps` counts the port instructions and
 * virtual interrupts that are exits under `full`; `notifications` the device interrupts;
 * `bytesCopied` the payload the device model moved between the image and guest memory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runIde } from "../../samples/ts-guests/emulated/run-ide.js";
import type { PortIoMode, TsGuestPortIo } from "../hypervisor/index.js";
import { type CostName, FileDiskImage } from "../machine/index.js";
import { FileBlockStore } from "../pv-drivers/index.js";
import { type DiskJob, type DiskPath, runDiskJob } from "./disk-path.js";
import type { CellFigures } from "./types.js";

export class EmulatedDiskPath implements DiskPath {
  constructor(
    readonly mode: PortIoMode,
    private readonly costs?: Readonly<Record<CostName, number>>,
  ) {}

  async run(job: DiskJob): Promise<CellFigures> {
    const dir = mkdtempSync(join(tmpdir(), "pvkit-compare-ide-"));
    const path = join(dir, "disk.img");
    FileBlockStore.create(path, job.diskSectors).close();
    const image = new FileDiskImage(path);
    try {
      let io: TsGuestPortIo | null = null;
      let start = { calls: 0, accesses: 0, interrupts: 0, worldSwitches: 0, monitorCycles: 0 };
      let end = start;
      const snap = (ws: number, mc: number) => ({
        calls: io!.calls,
        accesses: io!.accesses,
        interrupts: io!.interrupts,
        worldSwitches: ws,
        monitorCycles: mc,
      });
      let domainStats: { worldSwitches: number; monitorCycles: number } | null = null;
      const r = await runIde({
        mode: this.mode,
        ...(this.costs ? { costs: this.costs } : {}),
        guests: [
          {
            image,
            busMaster: job.transfer === "dma",
            workload: async (disk) => {
              const s = domainStats!;
              start = snap(s.worldSwitches, s.monitorCycles);
              await runDiskJob(disk, job);
              end = snap(s.worldSwitches, s.monitorCycles);
            },
          },
        ],
        before: (_hv, guests) => {
          domainStats = guests[0]!.domain.stats;
          io = guests[0]!.io;
        },
      });
      const g = r.guests[0]!;
      if (g.guest.failure) throw g.guest.failure;
      if (r.end !== "all-halted") throw new Error(`emulated disk: run ended ${r.end}`);
      const calls = end.calls - start.calls;
      const interrupts = end.interrupts - start.interrupts;
      const trapped = this.mode === "trapped";
      return {
        cycles: g.guest.timing.cycles,
        ...(trapped
          ? {
              traps: { "port I/O": calls, "virtual interrupt": interrupts },
              worldSwitches: end.worldSwitches - start.worldSwitches,
              monitorCycles: end.monitorCycles - start.monitorCycles,
            }
          : {}),
        hypercalls: 0,
        notifications: interrupts,
        bytesCopied: job.requests * 4096,
        bytesMapped: 0,
        wallMs: g.guest.timing.wallMs,
      };
    } finally {
      image.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
