/**
 * Hostile front ends: bad requests get NETIF_RSP_ERROR and the vif survives; protocol
 * violations (a slot crossing its page, too many slots, req_prod overflow, an invalid extra)
 * disconnect that vif with a reason in `<backend dir>/error` — while two other domains keep
 * pinging each other through the same back end and switch.
 */
import { filter, firstValueFrom, switchMap } from "rxjs";
import { describe, expect, it } from "vitest";
import { buildFrame, FrameKind, parseFrame } from "../../../samples/ts-guests/net/frame.js";
import type { NetWorkload } from "../../../samples/ts-guests/net/net-frontend.js";
import { guestMac, pinger, ponger, runNet } from "../../../samples/ts-guests/net/run-net.js";
import { RING_REQ_PROD } from "../../../src/guest-sdk/index.js";
import {
  type NetFrontend,
  NetifStatus,
  type NetifTxRequest,
  NetRequestError,
  NetTxFlag,
  RAW_TX_ID_BASE,
} from "../../../src/pv-drivers/index.js";

/** Resolves when the back end of `dev` reaches Closing or later. */
function backendClosing(dev: NetFrontend): Promise<unknown> {
  const st = `${dev.backendDir}/state`;
  return firstValueFrom(
    dev.env.store.watch(st).pipe(
      switchMap(async () => Number(await dev.env.store.tryRead(st))),
      filter((s) => s >= 5),
    ),
  );
}

/** A page of the front end with a valid frame at `offset`, granted read-only to dom0. */
function grantedFrame(dev: NetFrontend, size: number, offset = 0): number {
  const pfn = dev.env.ctx.allocPage();
  dev.env.ctx.mem.writeBytes(pfn * 4096 + offset, buildFrame(guestMac(1), dev.mac, FrameKind.Data, 7, size));
  return dev.env.grants.grantAccess(0, pfn, true);
}

let nextId = RAW_TX_ID_BASE;
const tx = (gref: number, size: number, flags = 0, offset = 0): NetifTxRequest => ({
  gref,
  offset,
  flags,
  id: nextId++,
  size,
});

describe("hostile front ends", () => {
  it("bad requests are answered with errors; violations disconnect only the offender", async () => {
    const statuses: Record<string, number[]> = {};
    const after: Record<string, string> = {};
    const pingLog: string[] = [];
    const errors: Record<number, string | undefined> = {};

    // Domain 3: malformed packets (answered), then a slot crossing its page (fatal).
    const badPackets: NetWorkload = async (dev) => {
      const g = grantedFrame(dev, 64);
      statuses.badGref = (await dev.rawTx([tx(4000, 64)])).map((r) => r.status);
      statuses.runt = (await dev.rawTx([tx(g, 10)])).map((r) => r.status);
      statuses.tooLong = (await dev.rawTx([tx(g, 2000)])).map((r) => r.status); // maxFrameSize 1514
      statuses.fragmentTooBig = (await dev.rawTx([tx(g, 64, NetTxFlag.MoreData), tx(g, 100)])).map(
        (r) => r.status,
      );
      // 19 slots: more than XEN_NETIF_NR_SLOTS_MIN (18), fewer than the fatal 20 — dropped.
      const many = Array.from({ length: 19 }, (_, i) =>
        tx(g, i === 0 ? 19 * 20 : 20, i < 18 ? NetTxFlag.MoreData : 0),
      );
      statuses.nineteenSlots = [...new Set((await dev.rawTx(many)).map((r) => r.status))];
      // An extra-info slot (GSO type 1): answered NETIF_RSP_NULL, the packet still goes out.
      const extra = { gref: 0x0001, offset: 0, flags: 0, id: nextId++, size: 0 };
      statuses.withExtra = (await dev.rawTx([tx(g, 64, NetTxFlag.ExtraInfo), extra])).map((r) => r.status);
      statuses.revoked = await (async () => {
        const pfn = dev.env.ctx.allocPage();
        const ref = dev.env.grants.grantAccess(0, pfn, true);
        dev.env.grants.endAccess(ref);
        return (await dev.rawTx([tx(ref, 64)])).map((r) => r.status);
      })();
      await dev.send(buildFrame(guestMac(1), dev.mac, FrameKind.Data, 1)); // still connected
      after.sendAfterErrors = "ok";
      const closing = backendClosing(dev);
      await expect(dev.rawTx([tx(g, 200, 0, 4000)])).rejects.toBeInstanceOf(NetRequestError);
      await closing;
      errors[3] = await dev.env.store.tryRead(`${dev.backendDir}/error`);
      await expect(dev.send(buildFrame(guestMac(1), dev.mac, FrameKind.Data, 2))).rejects.toThrow(/closing/);
    };
    // Domain 4: overflows req_prod by more than a ring.
    const overflow: NetWorkload = async (dev) => {
      const closing = backendClosing(dev);
      const page = dev.txRing!.ring.page;
      page.write32(RING_REQ_PROD, (page.read32(RING_REQ_PROD) + 1000) >>> 0);
      dev.channel!.notify();
      await closing;
      errors[4] = await dev.env.store.tryRead(`${dev.backendDir}/error`);
    };
    // Domain 5: a chain of 21 slots (beyond the fatal 20).
    const tooManySlots: NetWorkload = async (dev) => {
      const g = grantedFrame(dev, 64);
      const closing = backendClosing(dev);
      const chain = Array.from({ length: 21 }, (_, i) =>
        tx(g, i === 0 ? 21 * 20 : 20, i < 20 ? NetTxFlag.MoreData : 0),
      );
      void dev.rawTx(chain).catch(() => undefined);
      await closing;
      errors[5] = await dev.env.store.tryRead(`${dev.backendDir}/error`);
    };
    // Domain 6: an extra-info slot of an invalid type.
    const badExtra: NetWorkload = async (dev) => {
      const g = grantedFrame(dev, 64);
      const closing = backendClosing(dev);
      void dev
        .rawTx([tx(g, 64, NetTxFlag.ExtraInfo), { gref: 0x0009, offset: 0, flags: 0, id: nextId++, size: 0 }])
        .catch(() => undefined);
      await closing;
      errors[6] = await dev.env.store.tryRead(`${dev.backendDir}/error`);
    };

    // Domain 7: overflows the rx ring's req_prod.
    const rxOverflow: NetWorkload = async (dev) => {
      const closing = backendClosing(dev);
      const page = dev.rxRing!.ring.page;
      page.write32(RING_REQ_PROD, (page.read32(RING_REQ_PROD) + 5000) >>> 0);
      dev.channel!.notify();
      await closing;
      errors[7] = await dev.env.store.tryRead(`${dev.backendDir}/error`);
    };

    const r = await runNet({
      back: { maxFrameSize: 1514 },
      guests: [
        { workload: pinger(guestMac(2), 20, 64, pingLog) },
        { workload: ponger(20) },
        { workload: badPackets },
        { workload: overflow },
        { workload: tooManySlots },
        { workload: badExtra },
        { workload: rxOverflow },
      ],
    });
    expect(r.fronts.map((f) => f.guest.failure)).toEqual([null, null, null, null, null, null, null]);
    expect(r.end).toBe("all-halted");
    expect(statuses).toEqual({
      badGref: [NetifStatus.Error],
      runt: [NetifStatus.Error],
      tooLong: [NetifStatus.Error],
      fragmentTooBig: [NetifStatus.Error, NetifStatus.Error],
      nineteenSlots: [NetifStatus.Error],
      withExtra: [NetifStatus.Okay, NetifStatus.Null],
      revoked: [NetifStatus.Error],
    });
    expect(after.sendAfterErrors).toBe("ok");
    expect(errors[3]).toMatch(/slot 0 crosses its page \(offset 4000 \+ 200 bytes\)/);
    expect(errors[4]).toMatch(/req_prod \d+ overflows the ring/);
    expect(errors[5]).toMatch(/more than 20 slots/);
    expect(errors[6]).toMatch(/invalid extra-info type 9/);
    expect(errors[7]).toMatch(/req_prod \d+ overflows the ring/);
    // The good pair never noticed.
    expect(pingLog).toHaveLength(20);
    const back = (fe: number) => r.back.guest.backs.get(fe)!;
    expect(back(1).error).toBeNull();
    expect(back(2).error).toBeNull();
    expect(back(3).counters.txErrors).toBe(6);
    expect(back(3).counters.txFrames).toBe(2); // the extra-info packet and the send after the errors
    // Every offender's rings were unmapped.
    expect(r.pv.grants.mappingsOf(0)).toBe(0);
  });

  it("an rx buffer with a bad gref is answered ERROR; the frame is lost, later ones arrive", async () => {
    let badStatus = 0;
    let later = -1;
    const r = await runNet({
      guests: [
        {
          workload: async (dev, inbox) => {
            await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Pong);
            for (const seq of [1, 2, 3])
              await dev.send(buildFrame(guestMac(2), dev.mac, FrameKind.Data, seq));
          },
        },
        {
          front: { rxBuffers: 1 },
          workload: async (dev, inbox) => {
            // Ring order is now [buffer 0 (reposted after START), bad 500]: frame 1 → 0, frame 2 → 500.
            const bad = dev.rxRing!.request({ id: 500, gref: 4000 });
            await dev.send(buildFrame(guestMac(1), dev.mac, FrameKind.Pong, 0));
            badStatus = (await bad).status;
            const seqs: number[] = [];
            while (seqs.length < 2)
              seqs.push(parseFrame(await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Data))!.seq);
            later = seqs[1]!;
            expect(seqs[0]).toBe(1);
          },
        },
      ],
    });
    expect(r.fronts.map((f) => f.guest.failure)).toEqual([null, null]);
    expect(badStatus).toBe(NetifStatus.Error);
    expect(later).toBe(3);
    const c = r.back.guest.backs.get(2)!.counters;
    expect(c.rxErrors).toBe(1);
    expect(c.rxFrames).toBe(3); // START, 1, 3
    expect(r.back.guest.backs.get(2)!.error).toBeNull();
  });
});
