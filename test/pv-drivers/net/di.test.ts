/**
 * DI roles: a workload asks for `NetDevice` and gets the connected netfront; dom0's back ends
 * get the `Switch` from the container. Explicit tokens, no decorator metadata.
 */
import "reflect-metadata";
import { container, inject, injectable } from "tsyringe";
import { describe, expect, it } from "vitest";
import { buildFrame, FrameKind, parseFrame } from "../../../samples/ts-guests/net/frame.js";
import { guestMac, ponger, runNet } from "../../../samples/ts-guests/net/run-net.js";
import {
  type NetDevice,
  NetDeviceToken,
  type Switch,
  SwitchToken,
  VirtualSwitch,
} from "../../../src/pv-drivers/index.js";

@injectable()
class Echoer {
  constructor(@inject(NetDeviceToken) readonly nic: NetDevice) {}
  /** Sends one ping to `peer` and resolves with the pong's sequence number. */
  ping(peer: Uint8Array, seq: number): Promise<number> {
    return new Promise((resolve) => {
      const sub = this.nic.frames$.subscribe((f) => {
        const p = parseFrame(f);
        if (p?.kind === FrameKind.Pong) {
          sub.unsubscribe();
          resolve(p.seq);
        }
      });
      void this.nic.send(buildFrame(peer, this.nic.mac, FrameKind.Ping, seq));
    });
  }
}

describe("net DI roles", () => {
  it("a workload resolves NetDevice to netfront; the Switch role is the back ends' switch", async () => {
    const monitor = container.createChildContainer();
    monitor.registerInstance(SwitchToken, new VirtualSwitch());
    const sw = monitor.resolve<Switch>(SwitchToken);
    let pong = -1;
    let same = false;
    const r = await runNet({
      sw,
      guests: [
        {
          workload: async (dev) => {
            const c = container.createChildContainer();
            c.registerInstance(NetDeviceToken, dev); // what the `pv` profile registers
            const e = c.resolve(Echoer);
            same = e.nic === dev;
            pong = await e.ping(guestMac(2), 42);
          },
        },
        { workload: ponger(1) },
      ],
    });
    expect(r.fronts.map((f) => f.guest.failure)).toEqual([null, null]);
    expect(same).toBe(true);
    expect(pong).toBe(42);
    expect(r.sw).toBe(sw);
    expect(sw.counters.unicast).toBe(1); // the pong (A was learned from its flooded ping)
  });
});
