import { describe, expect, it } from "vitest";
import { RingProtocolError, RingShutdownError } from "../../../src/guest-sdk/errors.js";
import {
  AsyncBackRing,
  AsyncFrontRing,
  BackRing,
  CountingSharedPage,
  FrontRing,
  LocalSharedPage,
  RING_HEADER_SIZE,
  RING_REQ_PROD,
  RING_RSP_PROD,
} from "../../../src/guest-sdk/ring/index.js";
import { ids, reqCodec, rspCodec, type TReq, type TRsp } from "./echo-codec.js";

function pair(slot = 8) {
  const page = new LocalSharedPage();
  const front = new FrontRing<TReq, TRsp>(page, reqCodec(slot), rspCodec(8));
  const back = new BackRing<TReq, TRsp>(page, reqCodec(slot), rspCodec(8));
  return { page, front, back };
}

describe("hostile front ends", () => {
  it("req_prod written past the ring is a RingProtocolError against the front end; other rings unaffected", () => {
    const a = pair(1008); // 4 slots
    const b = pair(1008);
    a.page.write32(RING_REQ_PROD, 5); // 5 requests in a 4-slot ring with no responses
    expect(() => a.back.unconsumedRequests()).toThrow(RingProtocolError);
    expect(() => a.back.unconsumedRequests()).toThrow(/by the frontend: req_prod 5 overflows the ring/);
    expect(a.back.broken?.peer).toBe("frontend");
    // The neighbour ring keeps working.
    b.front.writeRequest({ id: 1, value: 2 });
    b.front.pushRequestsAndCheckNotify();
    expect(b.back.unconsumedRequests()).toBe(1);
    expect(b.back.takeRequest()).toEqual({ id: 1, value: 2 });
  });

  it("exactly a ring's worth ahead is legal, one more is not", () => {
    const a = pair(1008);
    a.page.write32(RING_REQ_PROD, 4);
    expect(a.back.unconsumedRequests()).toBe(4);
    a.page.write32(RING_REQ_PROD, 0xffff_ffff); // "behind": u32 distance 2^32−1
    expect(() => a.back.unconsumedRequests()).toThrow(RingProtocolError);
  });

  it("rewriting a request after the back end copied it changes nothing (read exactly once)", () => {
    const page = new LocalSharedPage();
    const counting = new CountingSharedPage(page);
    const front = new FrontRing<TReq, TRsp>(page, reqCodec(), rspCodec());
    const back = new BackRing<TReq, TRsp>(counting, reqCodec(), rspCodec());
    front.writeRequest({ id: 7, value: 100 });
    front.pushRequestsAndCheckNotify();
    expect(back.unconsumedRequests()).toBe(1);
    const copy = back.takeRequest();
    page.write32(RING_HEADER_SIZE + 4, 0xdead); // the hostile rewrite
    expect(copy).toEqual({ id: 7, value: 100 });
    expect(counting.reads[RING_HEADER_SIZE]).toBe(1);
    expect(counting.reads[RING_HEADER_SIZE + 4]).toBe(1);
  });

  it("AsyncBackRing errors requests$ with the front end's protocol error", () => {
    const a = pair(1008);
    const backend = new AsyncBackRing(a.back, () => {}, "manual");
    let error: unknown;
    backend.requests$.subscribe({ error: (e) => (error = e) });
    a.page.write32(RING_REQ_PROD, 9);
    backend.onNotification();
    expect(error).toBeInstanceOf(RingProtocolError);
    expect((error as RingProtocolError).peer).toBe("frontend");
  });
});

describe("hostile back ends", () => {
  it("rsp_prod ahead of the requests made is a RingProtocolError against the back end", () => {
    const a = pair();
    a.front.writeRequest({ id: 1, value: 1 });
    a.front.pushRequestsAndCheckNotify();
    a.page.write32(RING_RSP_PROD, 2);
    expect(() => a.front.unconsumedResponses()).toThrow(
      /by the backend: rsp_prod 2 is 2 past rsp_cons 0 but only 1/,
    );
  });

  it("a response with an unknown id rejects every waiter with the protocol error", async () => {
    const a = pair();
    const fe = new AsyncFrontRing(a.front, () => {}, ids, "manual");
    const p1 = fe.request({ id: 1, value: 1 });
    const p2 = fe.request({ id: 2, value: 2 });
    fe.flush();
    expect(a.back.unconsumedRequests()).toBe(2);
    a.back.takeRequest();
    a.back.writeResponse({ id: 99, result: 0 });
    a.back.pushResponsesAndCheckNotify();
    fe.onNotification();
    await expect(p1).rejects.toThrow(/unknown request id 99/);
    await expect(p2).rejects.toBeInstanceOf(RingProtocolError);
    await expect(fe.request({ id: 3, value: 0 })).rejects.toBeInstanceOf(RingProtocolError);
  });
});

describe("async layer", () => {
  /** Connects an async front and back end; notifications are delivered through a queue. */
  function connect(slot: number, mode: "manual" | "microtask") {
    const page = new LocalSharedPage();
    const queue: Array<() => void> = [];
    let fe!: AsyncFrontRing<TReq, TRsp>;
    const be = new AsyncBackRing(
      new BackRing<TReq, TRsp>(page, reqCodec(slot), rspCodec(8)),
      () => queue.push(() => fe.onNotification()),
      mode,
    );
    fe = new AsyncFrontRing(
      new FrontRing<TReq, TRsp>(page, reqCodec(slot), rspCodec(8)),
      () => queue.push(() => be.onNotification()),
      ids,
      mode,
    );
    be.requests$.subscribe((r) => be.respond({ id: r.id, result: r.value * 2 }));
    const pump = () => {
      while (queue.length > 0) queue.shift()!();
    };
    return { fe, be, pump };
  }

  it("completes each request with its own response, queueing when the ring is full", async () => {
    const { fe, be, pump } = connect(1008, "manual"); // 4 slots, 10 requests
    const ps = Array.from({ length: 10 }, (_, k) => fe.request({ id: k, value: k }));
    fe.flush();
    pump();
    const rs = await Promise.all(ps);
    expect(rs.map((r) => r.result)).toEqual(Array.from({ length: 10 }, (_, k) => 2 * k));
    expect(fe.inFlight).toBe(0);
    expect(be.counters.consumed).toBe(10);
  });

  it("batches: one notification per batch of 32 in each direction", async () => {
    const { fe, be, pump } = connect(8, "manual");
    for (let batch = 0; batch < 8; batch++) {
      const ps = Array.from({ length: 32 }, (_, k) => fe.request({ id: batch * 32 + k, value: k }));
      fe.flush();
      pump();
      await Promise.all(ps);
    }
    expect(fe.counters.produced).toBe(256);
    expect(fe.counters.notifications).toBe(8);
    expect(be.counters.notifications).toBe(8);
  });

  it("microtask mode publishes everything issued in one turn with one push", async () => {
    const { fe, pump } = connect(8, "microtask");
    const ps = Array.from({ length: 16 }, (_, k) => fe.request({ id: k, value: k }));
    await Promise.resolve();
    expect(fe.counters.pushes).toBe(1);
    pump();
    await Promise.resolve();
    pump();
    expect((await Promise.all(ps)).length).toBe(16);
  });

  it("shutdown rejects outstanding and queued requests", async () => {
    const { fe } = connect(1008, "manual");
    const ps = Array.from({ length: 6 }, (_, k) => fe.request({ id: k, value: k }));
    fe.shutdown();
    for (const p of ps) await expect(p).rejects.toBeInstanceOf(RingShutdownError);
    await expect(fe.request({ id: 1, value: 1 })).rejects.toBeInstanceOf(RingShutdownError);
  });

  it("refuses a duplicate in-flight id", async () => {
    const { fe } = connect(8, "manual");
    void fe.request({ id: 5, value: 0 });
    await expect(fe.request({ id: 5, value: 0 })).rejects.toThrow(/already in flight/);
  });

  it("a back end that polls before sleeping takes a refill without a notification", async () => {
    const page = new LocalSharedPage();
    const front = new FrontRing<TReq, TRsp>(page, reqCodec(8), rspCodec(8));
    let polls = 0;
    let backNotified = 0;
    const be = new AsyncBackRing(
      new BackRing<TReq, TRsp>(page, reqCodec(8), rspCodec(8)),
      () => {},
      "manual",
      async () => {
        polls++;
        if (polls === 1) {
          // The front end refills while the back end is polling: req_event is not re-armed yet.
          front.writeRequest({ id: 2, value: 2 });
          if (front.pushRequestsAndCheckNotify()) backNotified++;
        }
      },
    );
    const seen: number[] = [];
    be.requests$.subscribe((r) => {
      seen.push(r.id);
      be.respond({ id: r.id, result: 0 });
    });
    front.writeRequest({ id: 1, value: 1 });
    expect(front.pushRequestsAndCheckNotify()).toBe(true); // the first push wakes it
    be.onNotification();
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(seen).toEqual([1, 2]);
    expect(backNotified).toBe(0);
    expect(polls).toBe(1); // one poll per drain, then the final check re-arms
    // Asleep now: the next push notifies again.
    front.writeRequest({ id: 3, value: 3 });
    expect(front.pushRequestsAndCheckNotify()).toBe(true);
  });
});
