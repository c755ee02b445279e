/**
 * Runs TS guests with emulated NE2000 cards on one machine: each domain's card (its own DP8390
 * model on its private port bus, IRQ 9) is cabled to a port of one VirtualSwitch — the switch
 * the PV path's netback uses — and a host bridge port broadcasts START once every card listens.
 * Guest n (from 1) gets the MAC the PV runner gives front end n (00:16:3e:00:0n:00).
 *
 * The cable is the monitor's: a frame the card puts on it with a length Ethernet cannot carry
 * (a guest may program TBCR up to the card's 32 KiB) is dropped there and counted.
 *
 *   npx tsx samples/ts-guests/emulated/run-ne2000.ts [pings] [trapped|direct]
 */
import {
  type Domain,
  Hypervisor,
  launchTsGuest,
  type PortIoMode,
  type TsGuestPortIo,
} from "../../../src/hypervisor/index.js";
import {
  type CostName,
  ETH_MAX_FRAME,
  NE2000_IRQ,
  Ne2000,
  PhysicalMemory,
} from "../../../src/machine/index.js";
import { formatMac, type SwitchPort, VirtualSwitch } from "../../../src/pv-drivers/index.js";
import { BROADCAST, buildFrame, FrameKind } from "../net/frame.js";
import { BRIDGE_MAC } from "../net/net-backend.js";
import type { NetDeviceWorkload } from "../net/net-frontend.js";
import { guestMac, pinger, ponger } from "../net/run-net.js";
import { Ne2000Guest } from "./ne2000-guest.js";

/** Ethernet's smallest header: anything shorter is not a frame. */
const ETH_HEADER = 14;

export interface Ne2000RunOptions {
  guests: { workload: NetDeviceWorkload; pages?: number; mac?: Uint8Array }[];
  mode: PortIoMode;
  costs?: Readonly<Record<CostName, number>>;
  sw?: VirtualSwitch;
  oracle?: boolean;
  /** Broadcast START once every card is initialised (default true). */
  startSignal?: boolean;
  before?: (hv: Hypervisor, guests: readonly Ne2000RunGuest[]) => void;
  /** Called just before START is broadcast (every card initialised): measurement starts here. */
  onStart?: () => void;
}

export interface Ne2000RunGuest {
  readonly guest: Ne2000Guest;
  readonly domain: Domain;
  readonly io: TsGuestPortIo;
  readonly card: Ne2000;
  readonly port: SwitchPort;
  /** Frames the cable refused (length outside 14–1514). */
  readonly cable: { dropped: number };
}

export async function runNe2000(o: Ne2000RunOptions) {
  const hv = new Hypervisor({
    memory: new PhysicalMemory(32 << 20),
    ...(o.costs ? { costs: o.costs } : {}),
    ...(o.oracle ? { oracle: true } : {}),
  });
  const sw = o.sw ?? new VirtualSwitch();
  const startSignal = o.startSignal ?? true;
  const bridge = sw.attachHost("bridge", () => undefined);
  let ready = 0;
  const onReady = () => {
    if (++ready < o.guests.length) return;
    o.onStart?.();
    if (startSignal) bridge.transmit(buildFrame(BROADCAST, BRIDGE_MAC, FrameKind.Start, 0));
  };
  const guests = o.guests.map((g, i): Ne2000RunGuest => {
    const guest = new Ne2000Guest(g.workload, onReady, startSignal);
    const mac = g.mac ?? guestMac(i + 1);
    const cable = { dropped: 0 };
    let card: Ne2000 | null = null;
    let port: SwitchPort | null = null;
    const d = launchTsGuest(hv, guest, {
      paused: true,
      pages: g.pages ?? 32,
      devices: {
        mode: o.mode,
        attach: (h) => {
          const c = new Ne2000(h.bus, h.clock, {
            irq: h.irq(NE2000_IRQ),
            mac: [...mac],
            sink: (frame) => {
              if (frame.length < ETH_HEADER || frame.length > ETH_MAX_FRAME) cable.dropped++;
              else p.transmit(frame);
            },
          });
          const p = sw.attach(`ne2000:${formatMac(mac)}`, (frame) => c.deliver(frame));
          card = c;
          port = p;
        },
      },
    });
    if (!d.backend.io || !card || !port) throw new Error("emulated devices were not attached");
    return { guest, domain: d.domain, io: d.backend.io, card, port, cable };
  });
  o.before?.(hv, guests);
  for (const g of guests) hv.unpause(g.domain.domid);
  const end = await hv.run(50_000_000_000);
  return { hv, sw, end, guests };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 4);
  const mode = (process.argv[3] ?? "trapped") as PortIoMode;
  const log: string[] = [];
  const r = await runNe2000({
    mode,
    guests: [{ workload: pinger(guestMac(2), n, 64, log) }, { workload: ponger(n) }],
  });
  for (const line of log) console.log(line);
  for (const g of r.guests) {
    if (g.guest.failure) console.log(`${g.domain.name}: failed: ${String(g.guest.failure)}`);
    console.log(
      `${g.domain.name}: ${g.io.calls} port instructions, ${g.io.accesses} register accesses, ${g.io.interrupts} interrupts`,
    );
  }
  console.log(`switch: ${r.sw.counters.frames} frames; run ended ${r.end}`);
}
