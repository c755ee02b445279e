/**
 * Step-level interleavings of a front end, a back end and their notifications. fast-check
 * chooses the schedule, the batch sizes and the ring size; every run must deliver every
 * request exactly once, in order, answer it, and end with both sides asleep — a side left
 * asleep with work pending is a lost wake-up and fails the run.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BackRing,
  CountingSharedPage,
  FrontRing,
  LocalSharedPage,
  RING_HEADER_SIZE,
} from "../../../src/guest-sdk/ring/index.js";
import { reqCodec, rspCodec, type TReq, type TRsp } from "./echo-codec.js";

interface Actor {
  runnable(): boolean;
  step(choice: number): void;
}

function runScenario(opts: {
  slotSize: number;
  total: number;
  frontBatch: number;
  backBatch: number;
  schedule: number[];
}): void {
  const shared = new LocalSharedPage();
  const counting = new CountingSharedPage(shared);
  const front = new FrontRing<TReq, TRsp>(shared, reqCodec(opts.slotSize), rspCodec(8));
  const back = new BackRing<TReq, TRsp>(counting, reqCodec(opts.slotSize), rspCodec(8));
  let frontEvent = false; // event-channel pending bit for the front end's port
  let backEvent = false;
  // Notifications sent but not yet delivered: a separate "wire" actor delivers them, so the
  // schedule also chooses when an event lands relative to the peer's steps.
  let toFront = false;
  let toBack = false;
  let sent = 0;
  const received: number[] = [];
  const seenByBack: number[] = [];
  const slotUses = new Uint32Array(front.size);

  let fPhase: "produce" | "drain" | "sleep" = "produce";
  let fUnpushed = 0;
  const frontActor: Actor = {
    runnable: () => (fPhase === "sleep" ? frontEvent : received.length < opts.total),
    step() {
      if (fPhase === "sleep") {
        frontEvent = false;
        fPhase = "drain";
      } else if (fPhase === "produce") {
        if (fUnpushed < opts.frontBatch && sent < opts.total && !front.full()) {
          slotUses[front.reqProdPvt & (front.size - 1)]!++;
          if (!front.writeRequest({ id: sent, value: sent * 3 }))
            throw new Error("writeRequest refused a free slot");
          sent++;
          fUnpushed++;
        } else {
          if (front.pushRequestsAndCheckNotify()) toBack = true;
          fUnpushed = 0;
          fPhase = "drain";
        }
      } else if (front.unconsumedResponses() > 0) {
        const r = front.takeResponse();
        if (r.result !== r.id * 3 + 1) throw new Error(`response ${r.id} carries ${r.result}`);
        received.push(r.id);
      } else if (!front.finalCheckForResponses()) {
        if (sent < opts.total && !front.full()) fPhase = "produce";
        else if (received.length < opts.total) fPhase = "sleep";
      }
    },
  };

  let bPhase: "drain" | "sleep" = "sleep";
  let bUnpushed = 0;
  const backActor: Actor = {
    runnable: () => (bPhase === "sleep" ? backEvent : true),
    step() {
      if (bPhase === "sleep") {
        backEvent = false;
        bPhase = "drain";
      } else if (bUnpushed < opts.backBatch && back.unconsumedRequests() > 0) {
        const req = back.takeRequest();
        seenByBack.push(req.id);
        back.writeResponse({ id: req.id, result: req.value + 1 });
        bUnpushed++;
      } else if (bUnpushed > 0) {
        if (back.pushResponsesAndCheckNotify()) toFront = true;
        bUnpushed = 0;
      } else if (!back.finalCheckForRequests()) {
        bPhase = "sleep";
      }
    },
  };

  const wire: Actor = {
    runnable: () => toFront || toBack,
    step(choice) {
      // Deliver one pending notification (which one is the schedule's choice when both wait).
      if (toFront && (!toBack || choice % 2 === 0)) {
        toFront = false;
        frontEvent = true;
      } else {
        toBack = false;
        backEvent = true;
      }
    },
  };

  const actors = [frontActor, backActor, wire];
  let i = 0;
  for (let steps = 0; received.length < opts.total; steps++) {
    if (steps >= 200_000) throw new Error("no progress after 200000 steps");
    const ready = actors.filter((a) => a.runnable());
    // Nobody runnable while work remains: a wake-up was lost.
    if (ready.length === 0) throw new Error(`lost wake-up after ${received.length}/${opts.total} responses`);
    const c = i < opts.schedule.length ? opts.schedule[i++]! : 0;
    ready[c % ready.length]!.step(c);
  }
  const expected = Array.from({ length: opts.total }, (_, k) => k);
  expect(seenByBack).toEqual(expected);
  expect(received).toEqual(expected);
  expect(back.unconsumedRequests()).toBe(0);
  // Each request slot's first field was read by the back end exactly as often as it was used.
  for (let s = 0; s < front.size; s++) {
    expect(counting.reads[RING_HEADER_SIZE + s * front.slotSize]).toBe(slotUses[s]);
    expect(counting.reads[RING_HEADER_SIZE + s * front.slotSize + 4]).toBe(slotUses[s]);
  }
}

describe("shared ring interleavings", () => {
  it("never loses, duplicates or reorders a request and never misses a wake-up", () => {
    fc.assert(
      fc.property(
        fc.record({
          slotSize: fc.constantFrom(2016, 1008, 504, 252, 8), // 2, 4, 8, 16, 256 slots
          total: fc.integer({ min: 1, max: 80 }),
          frontBatch: fc.integer({ min: 1, max: 20 }),
          backBatch: fc.integer({ min: 1, max: 20 }),
          schedule: fc.array(fc.nat(7), { maxLength: 600 }),
        }),
        (o) => runScenario(o),
      ),
      { numRuns: 250 },
    );
  });

  it("wraps the free-running u32 indices", () => {
    // Start both sides just below 2^32 to exercise wrap-around of every comparison.
    const page = new LocalSharedPage();
    const front = new FrontRing<TReq, TRsp>(page, reqCodec(1016), rspCodec(8));
    const back = new BackRing<TReq, TRsp>(page, reqCodec(1016), rspCodec(8));
    const start = 0xffff_fffe;
    for (const off of [0, 8]) page.write32(off, start);
    page.write32(4, start + 1);
    page.write32(12, start + 1);
    front.reqProdPvt = front.rspCons = back.reqCons = back.rspProdPvt = start;
    let notifications = 0;
    for (let k = 0; k < 10; k++) {
      expect(front.writeRequest({ id: k, value: k })).toBe(true);
      if (front.pushRequestsAndCheckNotify()) notifications++;
      expect(back.unconsumedRequests()).toBe(1);
      back.writeResponse({ id: back.takeRequest().id, result: 0 });
      back.pushResponsesAndCheckNotify();
      expect(back.finalCheckForRequests()).toBe(false);
      expect(front.unconsumedResponses()).toBe(1);
      expect(front.takeResponse().id).toBe(k);
      expect(front.finalCheckForResponses()).toBe(false);
    }
    expect(front.rspCons).toBe((start + 10) >>> 0);
    expect(notifications).toBe(10); // the back end re-armed req_event every time
  });
});
