/**
 * Runs netfront guests against a netback driver domain (dom0) on one simulated machine: the
 * toolstack's part (create the domains, write the vif entries with each guest's MAC), then the
 * scheduler until every domain powers off. The sample: two guests ping each other through
 * netfront → netback → switch → netback → netfront.
 *
 *   npx tsx samples/ts-guests/net/run-net.ts [pings]
 */
import { Hypervisor, installPvCore, launchTsGuest, type PvCore } from "../../../src/hypervisor/index.js";
import { PhysicalMemory } from "../../../src/machine/index.js";
import {
  defaultMac,
  formatMac,
  type NetBackendOptions,
  type NetFrontendOptions,
  VirtualSwitch,
} from "../../../src/pv-drivers/index.js";
import { buildFrame, FrameKind, parseFrame, sameMac } from "./frame.js";
import { NetBackGuest } from "./net-backend.js";
import { type NetDeviceWorkload, NetFrontGuest, type NetWorkload } from "./net-frontend.js";

export interface NetRunOptions {
  /** One entry per front-end domain (domids 1, 2, …; MAC 00:16:3e:00:<domid>:00 unless given). */
  guests: { workload: NetWorkload; front?: NetFrontendOptions; pages?: number; mac?: Uint8Array }[];
  back?: NetBackendOptions;
  /** Pages of the driver domain. Default 256. */
  backPages?: number;
  /** Broadcast START once every vif is ready (default true). */
  startSignal?: boolean;
  /** The switch to use (a test may attach host ports first). */
  sw?: VirtualSwitch;
  /** ABI of every domain (layouts of the hypercall structures, start_info). Default x86. */
  arch?: "mips" | "x86";
  /** Called with the machine and the driver domain before the guests start (tracing, extra store entries). */
  before?: (hv: Hypervisor, pv: PvCore, back: NetBackGuest) => void;
}

/** The MAC the runner gives front-end domain `domid`. */
export function guestMac(domid: number): Uint8Array {
  return defaultMac(domid, 0);
}

export async function runNet(o: NetRunOptions) {
  const hv = new Hypervisor({ memory: new PhysicalMemory(32 << 20) });
  const pv = installPvCore(hv);
  const sw = o.sw ?? new VirtualSwitch();
  // Domain ids are handed out in creation order: dom0 first, then the guests.
  const feIds = o.guests.map((_, i) => i + 1);
  const backGuest = new NetBackGuest(sw, feIds, o.back, o.startSignal ?? true);
  const back = launchTsGuest(hv, backGuest, {
    privileged: true,
    paused: true,
    pages: o.backPages ?? 256,
    arch: o.arch ?? "x86",
  });
  const fronts = o.guests.map((g) => {
    const guest = new NetFrontGuest(g.workload, g.front, o.startSignal ?? true);
    const d = launchTsGuest(hv, guest, { paused: true, pages: g.pages ?? 192, arch: o.arch ?? "x86" });
    const mac = formatMac(g.mac ?? guestMac(d.domain.domid));
    pv.storeService.toolstack.addDevice({
      type: "vif",
      frontend: d.domain.domid,
      backend: back.domain.domid,
      devid: 0,
      frontendKeys: { mac },
      backendKeys: { mac },
    });
    return { guest, domain: d.domain };
  });
  fronts.forEach((f, i) => {
    if (f.domain.domid !== feIds[i])
      throw new Error(`front end ${i} got domid ${f.domain.domid}, expected ${feIds[i]}`);
  });
  o.before?.(hv, pv, backGuest);
  hv.unpause(back.domain.domid);
  for (const f of fronts) hv.unpause(f.domain.domid);
  const end = await hv.run(50_000_000_000);
  return { hv, pv, sw, end, back: { guest: backGuest, domain: back.domain }, fronts };
}

/** Pinger: sends `count` pings of `size` bytes to `peer`, one at a time, and checks each pong. */
export function pinger(peer: Uint8Array, count: number, size = 64, log: string[] = []): NetDeviceWorkload {
  return async (dev, inbox, ctx) => {
    for (let seq = 1; seq <= count; seq++) {
      const t0 = ctx.now();
      await dev.send(buildFrame(peer, dev.mac, FrameKind.Ping, seq, size));
      const reply = await inbox.next((f) => {
        const p = parseFrame(f);
        return p !== null && p.kind === FrameKind.Pong && p.seq === seq;
      });
      const p = parseFrame(reply)!;
      if (!p.intact || !sameMac(p.src, peer)) throw new Error(`pong ${seq} is corrupt or from the wrong MAC`);
      log.push(`${p.size} bytes from ${formatMac(p.src)}: seq=${seq} cycles=${ctx.now() - t0}`);
    }
  };
}

/** Ponger: answers `count` pings addressed to it with a pong of the same size and sequence. */
export function ponger(count: number): NetDeviceWorkload {
  return async (dev, inbox) => {
    for (let n = 0; n < count; n++) {
      const f = await inbox.next((x) => {
        const p = parseFrame(x);
        return p !== null && p.kind === FrameKind.Ping && sameMac(p.dst, dev.mac);
      });
      const p = parseFrame(f)!;
      await dev.send(buildFrame(p.src, dev.mac, FrameKind.Pong, p.seq, p.size));
    }
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 4);
  const log: string[] = [];
  const r = await runNet({
    guests: [{ workload: pinger(guestMac(2), n, 64, log) }, { workload: ponger(n) }],
  });
  for (const line of log) console.log(line);
  const a = r.fronts[0]!.guest;
  if (a.failure) console.log(`pinger failed: ${String(a.failure)}`);
  console.log(
    `switch: ${r.sw.counters.frames} frames, ${r.sw.counters.unicast} unicast, ${r.sw.counters.flooded} flooded, ${r.sw.tableSize} MACs learned`,
  );
  console.log(
    `run ended: ${r.end}; domains ${[r.back.domain, ...r.fronts.map((f) => f.domain)].map((d) => d.state).join(", ")}`,
  );
}
