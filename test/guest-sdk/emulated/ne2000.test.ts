/**
 * The emulated NE2000 path of TS guests: Ne2000Nic through trapped and direct port I/O, cards
 * cabled to one VirtualSwitch. Frames cross the switch intact between guests and to a host port;
 * a hostile guest's malformed transmit length is dropped on the monitor's cable without
 * touching the peer; the driver refuses frames Ethernet cannot carry.
 */
import { describe, expect, it } from "vitest";
import { Ne2000Guest } from "../../../samples/ts-guests/emulated/ne2000-guest.js";
import { runNe2000 } from "../../../samples/ts-guests/emulated/run-ne2000.js";
import { buildFrame, FrameKind, parseFrame } from "../../../samples/ts-guests/net/frame.js";
import { guestMac, pinger, ponger, runNet } from "../../../samples/ts-guests/net/run-net.js";
import { Cr, type Ne2000Nic, NicError, Dp8390Port as P } from "../../../src/guest-sdk/index.js";
import { launchTsGuest } from "../../../src/hypervisor/index.js";
import { NE2000_IRQ, Ne2000 } from "../../../src/machine/index.js";
import { VirtualSwitch } from "../../../src/pv-drivers/index.js";

describe("Ne2000Nic", () => {
  for (const mode of ["trapped", "direct"] as const) {
    it(`${mode}: ping-pong between two guests through the switch, frames intact`, async () => {
      const log: string[] = [];
      const r = await runNe2000({
        mode,
        oracle: true,
        guests: [{ workload: pinger(guestMac(2), 5, 1500, log) }, { workload: ponger(5) }],
      });
      expect(r.end).toBe("all-halted");
      for (const g of r.guests) expect(g.guest.failure).toBeNull();
      expect(log).toHaveLength(5); // pinger checks each pong's source MAC and filler bytes
      const [a, b] = r.guests;
      expect(Array.from(a!.guest.nic!.mac)).toEqual(Array.from(guestMac(1))); // read from the PROM
      expect(a!.guest.nic!.counters.txFrames).toBe(5);
      expect(b!.guest.nic!.counters.rxFrames).toBe(5 + 1); // + START
      expect(b!.guest.nic!.counters.badHeaders).toBe(0);
      // 16-bit data-port accesses: 6 PROM words, 750 per 1500-byte ping sent, 2 header words +
      // 32 for the 64-byte START and 2 + 750 per pong received.
      expect(a!.io.accessesByPort[0x310]).toBe(6 + 5 * 750 + (2 + 32) + 5 * (2 + 750));
      // START and the first ping (guest 2 not yet learned) are flooded; the rest is unicast.
      expect(r.sw.counters.flooded).toBe(2);
      expect(r.sw.counters.unicast).toBe(9);
      expect(r.hv.oracleViolations).toHaveLength(0);
      if (mode === "trapped") expect(a!.domain.stats.worldSwitches).toBe(a!.io.calls + a!.io.interrupts);
      else expect(a!.domain.stats.worldSwitches).toBe(0);
    });
  }

  it("a frame crosses the VirtualSwitch to a host port and the host's answer comes back", async () => {
    const sw = new VirtualSwitch();
    const hostMac = Uint8Array.of(0x02, 0, 0, 0, 0, 0x42);
    const seen: number[] = [];
    const host = sw.attachHost("peer", (f) => {
      const p = parseFrame(f);
      if (p?.kind !== FrameKind.Ping) return;
      seen.push(p.seq);
      host.transmit(buildFrame(p.src, hostMac, FrameKind.Pong, p.seq, p.size));
    });
    const r = await runNe2000({
      mode: "trapped",
      sw,
      guests: [{ workload: pinger(hostMac, 3, 200) }],
    });
    expect(r.guests[0]!.guest.failure).toBeNull();
    expect(seen).toEqual([1, 2, 3]);
    expect(sw.lookup(guestMac(1))!.name).toBe("ne2000:00:16:3e:00:01:00");
    expect(sw.lookup(hostMac)!.name).toBe("host:peer");
  });
});

describe("an NE2000 guest and a PV guest on one switch", () => {
  it("netfront pings the emulated card through netback's VirtualSwitch, and back", async () => {
    let emu: Ne2000Guest | null = null;
    const log: string[] = [];
    const r = await runNet({
      guests: [{ workload: pinger(guestMac(2), 3, 300, log) }],
      before: (hv, _pv, back) => {
        // Domain 2 on the same machine: an NE2000 (MAC of "guest 2") cabled to netback's switch.
        emu = new Ne2000Guest(ponger(3), () => undefined);
        launchTsGuest(hv, emu, {
          pages: 32,
          devices: {
            mode: "trapped",
            attach: (h) => {
              const card = new Ne2000(h.bus, h.clock, {
                irq: h.irq(NE2000_IRQ),
                mac: [...guestMac(2)],
                sink: (f) => port.transmit(f),
              });
              const port = back.sw.attach("ne2000:emu", (f) => card.deliver(f));
            },
          },
        });
      },
    });
    expect(r.end).toBe("all-halted");
    expect(r.fronts[0]!.guest.failure).toBeNull();
    expect(emu!.failure).toBeNull();
    expect(log).toHaveLength(3); // three intact pongs from 00:16:3e:00:02:00
    expect(emu!.nic!.counters.txFrames).toBe(3);
    expect(r.sw.lookup(guestMac(2))!.name).toBe("ne2000:emu");
  });
});

describe("hostile NE2000 use", () => {
  it("a malformed transmit length is dropped on the cable; the peer sees only good frames", async () => {
    let refused: unknown[] = [];
    const r = await runNe2000({
      mode: "trapped",
      oracle: true,
      guests: [
        {
          workload: async (dev, _inbox, ctx) => {
            const io = ctx.io!;
            // Raw: a 28 KiB "frame" from card RAM (TBCR = 0x7000), then a 3-byte one.
            for (const len of [0x7000, 3]) {
              io.write(0x300 + P.TPSR, 1, 0x40);
              io.write(0x300 + P.TBCR0, 1, len & 0xff);
              io.write(0x300 + P.TBCR1, 1, len >> 8);
              io.write(0x300 + P.CR, 1, Cr.STA | Cr.TXP | Cr.RD_ABORT);
            }
            // Through the driver: lengths Ethernet cannot carry never reach the card.
            refused = await Promise.allSettled([
              dev.send(new Uint8Array(1515)),
              dev.send(new Uint8Array(13)),
            ]);
            await dev.send(buildFrame(guestMac(2), dev.mac, FrameKind.Ping, 7, 100));
          },
        },
        {
          workload: async (_dev, inbox) => {
            const f = await inbox.next((x) => parseFrame(x)?.kind === FrameKind.Ping);
            expect(parseFrame(f)!.seq).toBe(7);
          },
        },
      ],
    });
    for (const g of r.guests) expect(g.guest.failure).toBeNull();
    expect(r.guests[0]!.cable.dropped).toBe(2);
    expect(r.guests[0]!.card.txFrames).toBe(3); // the card sent them; the cable refused two
    expect(refused.map((x) => (x as PromiseRejectedResult).reason)).toEqual([
      expect.any(NicError),
      expect.any(NicError),
    ]);
    expect(r.guests[1]!.guest.nic!.counters.rxFrames).toBe(2); // START + the ping
    expect(r.guests[1]!.port.counters.inFrames).toBe(0);
    expect(r.hv.oracleViolations).toHaveLength(0);
    for (const g of r.guests) expect(g.domain.state).toBe("shutdown");
  });

  it("a receive header the driver cannot trust is counted and the ring resynchronised", async () => {
    const r = await runNe2000({
      mode: "trapped",
      oracle: true,
      guests: [
        {
          workload: async (dev, inbox, ctx) => {
            const io = ctx.io!;
            const B = 0x300;
            // The ring is empty: CURR is where the next frame goes. Write a header there that
            // points outside the ring with an impossible length, and move CURR past it.
            io.write(B + P.CR, 1, Cr.STA | Cr.RD_ABORT | Cr.PAGE1);
            const curr = io.read(B + P.CURR, 1);
            io.write(B + P.CR, 1, Cr.STA | Cr.RD_ABORT | Cr.PAGE0);
            io.write(B + P.RBCR0, 1, 4);
            io.write(B + P.RBCR1, 1, 0);
            io.write(B + P.RSAR0, 1, 0);
            io.write(B + P.RSAR1, 1, curr);
            io.write(B + P.CR, 1, Cr.STA | Cr.RD_WRITE);
            io.write(B + P.DATA, 2, 0x1001); // status PRX, next page 0x10 (outside 0x46–0xBF)
            io.write(B + P.DATA, 2, 0xffff); // 65535 bytes
            io.write(B + P.ISR, 1, 0x40);
            io.write(B + P.CR, 1, Cr.STA | Cr.RD_ABORT | Cr.PAGE1);
            io.write(B + P.CURR, 1, curr + 1);
            io.write(B + P.CR, 1, Cr.STA | Cr.RD_ABORT | Cr.PAGE0);
            const nic = dev as Ne2000Nic;
            // The peer's answer lands behind the bogus header: the driver drops both.
            await dev.send(buildFrame(guestMac(2), dev.mac, FrameKind.Ping, 100, 80));
            while (nic.counters.badHeaders === 0) await ctx.hypercall(29, 0); // SCHEDOP_yield
            // Resynchronised: the next answer arrives intact.
            await dev.send(buildFrame(guestMac(2), dev.mac, FrameKind.Ping, 101, 80));
            const f = await inbox.next((x) => parseFrame(x)?.kind === FrameKind.Pong);
            expect(parseFrame(f)).toMatchObject({ seq: 101, intact: true });
          },
        },
        {
          workload: async (dev, inbox) => {
            for (const seq of [100, 101]) {
              const f = await inbox.next((x) => parseFrame(x)?.seq === seq);
              await dev.send(buildFrame(parseFrame(f)!.src, dev.mac, FrameKind.Pong, seq, 80));
            }
          },
        },
      ],
    });
    for (const g of r.guests) expect(g.guest.failure).toBeNull();
    const nic = r.guests[0]!.guest.nic!;
    expect(nic.counters.badHeaders).toBe(1);
    expect(nic.counters.rxFrames).toBe(2); // START and pong 101; pong 100 went with the resync
    expect(r.hv.oracleViolations).toHaveLength(0);
    for (const g of r.guests) expect(g.domain.state).toBe("shutdown");
  });
});
