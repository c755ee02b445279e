/**
 * Provider of the `NetPath` role for the `native` and `full` profiles: two TS guests, each with
 * an emulated NE2000 (src/guest-sdk/emulated Ne2000Nic) cabled to one VirtualSwitch
 * (samples/ts-guests/emulated `runNe2000`), run the job of `netJobWorkloads` — the PV path's.
 * Under `full` every register access traps into the monitor; under `native` it is a bus access.
 *
 * Figures: `cycles` are the sender's workload (after START), as on the PV path; the counts cover
 * both guests from START (every card initialised) to the end of each one's workload: `traps` (port instructions and virtual interrupts, exits under `full`),
 * `notifications` (device interrupts), `bytesCopied` (bytes through the cards' data ports:
 * frames into and out of card RAM, receive headers included).
 */
import { type Ne2000RunGuest, runNe2000 } from "../../samples/ts-guests/emulated/run-ne2000.js";
import type { NetDeviceWorkload } from "../../samples/ts-guests/net/net-frontend.js";
import type { PortIoMode } from "../hypervisor/index.js";
import type { CostName } from "../machine/index.js";
import { type NetJob, type NetPath, netJobWorkloads } from "./net-path.js";
import type { CellFigures } from "./types.js";

/** The NE2000's data port, from its base (0x300 + 0x10). */
const NE_DATA_PORT = 0x310;

interface Counts {
  calls: number;
  interrupts: number;
  dataAccesses: number;
  worldSwitches: number;
  monitorCycles: number;
}

export class EmulatedNetPath implements NetPath {
  constructor(
    readonly mode: PortIoMode,
    private readonly costs?: Readonly<Record<CostName, number>>,
  ) {}

  async run(job: NetJob): Promise<CellFigures> {
    const { sender, receiver } = netJobWorkloads(job);
    let guests: readonly Ne2000RunGuest[] = [];
    const total: Counts = { calls: 0, interrupts: 0, dataAccesses: 0, worldSwitches: 0, monitorCycles: 0 };
    const snap = (g: Ne2000RunGuest): Counts => ({
      calls: g.io.calls,
      interrupts: g.io.interrupts,
      dataAccesses: g.io.accessesByPort[NE_DATA_PORT]!,
      worldSwitches: g.domain.stats.worldSwitches,
      monitorCycles: g.domain.stats.monitorCycles,
    });
    let start: Counts[] = [];
    const measured =
      (i: number, w: NetDeviceWorkload): NetDeviceWorkload =>
      async (dev, inbox, ctx) => {
        await w(dev, inbox, ctx);
        const a = start[i]!;
        const b = snap(guests[i]!);
        for (const k of Object.keys(total) as (keyof Counts)[]) total[k] += b[k] - a[k];
      };
    const r = await runNe2000({
      mode: this.mode,
      ...(this.costs ? { costs: this.costs } : {}),
      guests: [{ workload: measured(0, sender) }, { workload: measured(1, receiver) }],
      before: (_hv, gs) => {
        guests = gs;
      },
      onStart: () => {
        start = guests.map(snap);
      },
    });
    const [a, b] = r.guests;
    if (a!.guest.failure) throw a!.guest.failure;
    if (b!.guest.failure) throw b!.guest.failure;
    if (r.end !== "all-halted") throw new Error(`emulated net ${job.kind}: run ended ${r.end}`);
    return {
      cycles: a!.guest.timing.cycles,
      ...(this.mode === "trapped"
        ? {
            traps: { "port I/O": total.calls, "virtual interrupt": total.interrupts },
            worldSwitches: total.worldSwitches,
            monitorCycles: total.monitorCycles,
          }
        : {}),
      hypercalls: 0,
      notifications: total.interrupts,
      bytesCopied: total.dataAccesses * 2,
      bytesMapped: 0,
      wallMs: a!.guest.timing.wallMs,
    };
  }
}
