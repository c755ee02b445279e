/**
 * Xen's shared ring (xen/include/public/io/ring.h), generic and synchronous, with ring.h's
 * names. Like MirageOS's `shared-memory-ring`, the ring only tracks indices and moves
 * messages through a codec; it never knows what a block request is, and it never notifies:
 * `if (ring.pushRequestsAndCheckNotify()) evtchn.notify(port)` is the caller's job.
 *
 * Defensive reading is part of the API: the back end copies each request out of the page once
 * before anyone validates it (RING_COPY_REQUEST, XSA-155) and rejects a front end whose
 * req_prod runs more than a ring ahead (RING_REQUEST_PROD_OVERFLOW); the front end rejects a
 * back end whose rsp_prod runs ahead of the requests it was given. Both raise
 * `RingProtocolError` naming the misbehaving peer; the ring is then unusable (`broken`).
 */

import type { SharedPage } from "../../hypercalls/index.js";
import { barrier } from "../../hypercalls/index.js";
import { RingProtocolError } from "../errors.js";
import type { RingCodec } from "./codec.js";
import {
  RING_HEADER_SIZE,
  RING_PVT,
  RING_REQ_EVENT,
  RING_REQ_PROD,
  RING_RSP_EVENT,
  RING_RSP_PROD,
  ringSize,
} from "./ring-layout.js";

/** Slot size of a protocol: the union of request and response. */
export function slotSizeOf(req: RingCodec<unknown>, rsp: RingCodec<unknown>): number {
  return Math.max(req.size, rsp.size);
}

/**
 * SHARED_RING_INIT: req_prod = rsp_prod = 0, req_event = rsp_event = 1, private area zeroed.
 * The front end calls this on the page it is about to grant.
 */
export function sharedRingInit(page: SharedPage): void {
  page.write32(RING_REQ_PROD, 0);
  page.write32(RING_RSP_PROD, 0);
  page.write32(RING_REQ_EVENT, 1);
  page.write32(RING_RSP_EVENT, 1);
  for (let off = RING_PVT; off < RING_HEADER_SIZE; off += 4) page.write32(off, 0);
}

/** The front end's view of a ring: produces requests, consumes responses. */
export class FrontRing<Req, Rsp> {
  /** Number of slots (power of two). */
  readonly size: number;
  readonly slotSize: number;
  /** Private request producer: requests written but not yet published. */
  reqProdPvt = 0;
  /** Response consumer. */
  rspCons = 0;
  /** Set once the back end broke the protocol; every later call throws. */
  broken: RingProtocolError | null = null;

  /**
   * FRONT_RING_INIT over `page`. With `init` (the default) the shared header is initialised
   * too (SHARED_RING_INIT), as a front end does before granting the page.
   */
  constructor(
    readonly page: SharedPage,
    readonly reqCodec: RingCodec<Req>,
    readonly rspCodec: RingCodec<Rsp>,
    init = true,
  ) {
    this.slotSize = slotSizeOf(reqCodec, rspCodec);
    this.size = ringSize(this.slotSize, page.size);
    if (init) sharedRingInit(page);
  }

  /** RING_FREE_REQUESTS: slots the front end may still fill. */
  freeRequests(): number {
    return this.size - ((this.reqProdPvt - this.rspCons) >>> 0);
  }

  /** RING_FULL. */
  full(): boolean {
    return this.freeRequests() === 0;
  }

  /**
   * Writes `req` into the next free slot (RING_GET_REQUEST + fill + req_prod_pvt++), not yet
   * visible to the back end. Returns false, writing nothing, if the ring is full.
   */
  writeRequest(req: Req): boolean {
    this.check();
    if (this.full()) return false;
    this.reqCodec.write(
      req,
      this.page,
      RING_HEADER_SIZE + (this.reqProdPvt & (this.size - 1)) * this.slotSize,
    );
    this.reqProdPvt = (this.reqProdPvt + 1) >>> 0;
    return true;
  }

  /**
   * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publishes the private producer and returns true if
   * the back end asked to be notified (req_event fell within the newly published requests).
   */
  pushRequestsAndCheckNotify(): boolean {
    this.check();
    const old = this.page.read32(RING_REQ_PROD);
    const nw = this.reqProdPvt;
    barrier(); // xen_wmb: the back end must see the requests before it sees the new req_prod
    this.page.write32(RING_REQ_PROD, nw);
    barrier(); // xen_mb: publish req_prod before reading req_event (else a wake-up is lost)
    const event = this.page.read32(RING_REQ_EVENT);
    return (nw - event) >>> 0 < (nw - old) >>> 0;
  }

  /**
   * RING_HAS_UNCONSUMED_RESPONSES, distrusting the back end: rsp_prod may not run past the
   * requests published to it (a response for a request never made) — RingProtocolError.
   */
  unconsumedResponses(): number {
    this.check();
    const rspProd = this.page.read32(RING_RSP_PROD);
    barrier(); // xen_rmb: read rsp_prod before the responses it covers
    const avail = (rspProd - this.rspCons) >>> 0;
    const outstanding = (this.reqProdPvt - this.rspCons) >>> 0;
    if (avail > outstanding) {
      this.broken = new RingProtocolError(
        "backend",
        `rsp_prod ${rspProd} is ${avail} past rsp_cons ${this.rspCons} but only ${outstanding} requests are outstanding`,
      );
      throw this.broken;
    }
    return avail;
  }

  /**
   * Copies out the response at rsp_cons and advances it. The caller must have seen
   * `unconsumedResponses() > 0`; the response id is still untrusted (the async layer checks it).
   */
  takeResponse(): Rsp {
    this.check();
    const rsp = this.rspCodec.read(
      this.page,
      RING_HEADER_SIZE + (this.rspCons & (this.size - 1)) * this.slotSize,
    );
    this.rspCons = (this.rspCons + 1) >>> 0;
    return rsp;
  }

  /**
   * RING_FINAL_CHECK_FOR_RESPONSES: true if responses are waiting; otherwise re-arms
   * rsp_event = rsp_cons + 1 and checks once more, which closes the lost-wake-up window.
   */
  finalCheckForResponses(): boolean {
    if (this.unconsumedResponses() > 0) return true;
    this.page.write32(RING_RSP_EVENT, (this.rspCons + 1) >>> 0);
    barrier(); // xen_mb: publish rsp_event before re-reading rsp_prod
    return this.unconsumedResponses() > 0;
  }

  private check(): void {
    if (this.broken) throw this.broken;
  }
}

/** The back end's view of a ring: consumes requests, produces responses. */
export class BackRing<Req, Rsp> {
  readonly size: number;
  readonly slotSize: number;
  /** Request consumer. */
  reqCons = 0;
  /** Private response producer: responses written but not yet published. */
  rspProdPvt = 0;
  broken: RingProtocolError | null = null;

  /** BACK_RING_INIT over a page the front end initialised (mapped through a grant). */
  constructor(
    readonly page: SharedPage,
    readonly reqCodec: RingCodec<Req>,
    readonly rspCodec: RingCodec<Rsp>,
  ) {
    this.slotSize = slotSizeOf(reqCodec, rspCodec);
    this.size = ringSize(this.slotSize, page.size);
  }

  /**
   * RING_HAS_UNCONSUMED_REQUESTS after RING_REQUEST_PROD_OVERFLOW: a req_prod more than a
   * ring ahead of the responses produced is the front end's protocol error. Also bounded by
   * free response slots, as in ring.h, so the back end never overwrites an unread response.
   */
  unconsumedRequests(): number {
    this.check();
    const reqProd = this.page.read32(RING_REQ_PROD);
    barrier(); // xen_rmb: read req_prod before the requests it covers
    if ((reqProd - this.rspProdPvt) >>> 0 > this.size) {
      this.broken = new RingProtocolError(
        "frontend",
        `req_prod ${reqProd} overflows the ring: ${(reqProd - this.rspProdPvt) >>> 0} requests past rsp_prod_pvt ${this.rspProdPvt} in a ${this.size}-slot ring`,
      );
      throw this.broken;
    }
    const req = (reqProd - this.reqCons) >>> 0;
    const rsp = this.size - ((this.reqCons - this.rspProdPvt) >>> 0);
    return Math.min(req, rsp);
  }

  /**
   * RING_COPY_REQUEST at req_cons, then req_cons++: the codec reads each field once into a
   * private object; validate that copy, never the shared slot (a hostile front end may
   * rewrite the slot after this read).
   */
  takeRequest(): Req {
    this.check();
    const req = this.reqCodec.read(
      this.page,
      RING_HEADER_SIZE + (this.reqCons & (this.size - 1)) * this.slotSize,
    );
    this.reqCons = (this.reqCons + 1) >>> 0;
    return req;
  }

  /** Writes a response into the next response slot (not yet visible to the front end). */
  writeResponse(rsp: Rsp): void {
    this.check();
    if (this.rspProdPvt === this.reqCons) {
      // Our own bug, not the peer's: more responses than requests taken.
      throw new RangeError("BackRing.writeResponse: no request is waiting for a response");
    }
    this.rspCodec.write(
      rsp,
      this.page,
      RING_HEADER_SIZE + (this.rspProdPvt & (this.size - 1)) * this.slotSize,
    );
    this.rspProdPvt = (this.rspProdPvt + 1) >>> 0;
  }

  /**
   * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publishes the private response producer and returns
   * true if the front end asked to be notified.
   */
  pushResponsesAndCheckNotify(): boolean {
    this.check();
    const old = this.page.read32(RING_RSP_PROD);
    const nw = this.rspProdPvt;
    barrier(); // xen_wmb: responses visible before rsp_prod
    this.page.write32(RING_RSP_PROD, nw);
    barrier(); // xen_mb: rsp_prod visible before reading rsp_event
    const event = this.page.read32(RING_RSP_EVENT);
    return (nw - event) >>> 0 < (nw - old) >>> 0;
  }

  /**
   * RING_FINAL_CHECK_FOR_REQUESTS: true if requests are waiting; otherwise re-arms
   * req_event = req_cons + 1 and checks again (no lost wake-up).
   */
  finalCheckForRequests(): boolean {
    if (this.unconsumedRequests() > 0) return true;
    this.page.write32(RING_REQ_EVENT, (this.reqCons + 1) >>> 0);
    barrier(); // xen_mb: publish req_event before re-reading req_prod
    return this.unconsumedRequests() > 0;
  }

  private check(): void {
    if (this.broken) throw this.broken;
  }
}
