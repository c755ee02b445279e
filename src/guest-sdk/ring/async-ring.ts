/**
 * The asynchronous layer over the synchronous ring (MirageOS `lwt_ring.ml` is the model): a
 * front end gets one Promise per request, resolved by id from a waiter table; a back end sees
 * its requests as an rxjs `requests$` stream. rxjs and Promises live here, at the edge, never
 * in the ring arithmetic (STYLE.md rule 12).
 *
 * Batching and notification suppression: requests (responses) written in the same batch are
 * published with one push-and-check-notify, and the peer is notified only when its event
 * index asks for it. A batch ends at `flush()`, at the end of a drain, or — in "microtask"
 * mode — at the end of the current microtask turn.
 */
import { Subject } from "rxjs";
import { ringTraceSink } from "../../hypercalls/index.js";
import { RingProtocolError, RingShutdownError } from "../errors.js";
import type { BackRing, FrontRing } from "./shared-ring.js";

/** How a protocol names its requests: responses carry the id of the request they answer. */
export interface RingIds<Req, Rsp> {
  requestId(req: Req): number;
  responseId(rsp: Rsp): number;
}

/** When a batch of produced messages is published. */
export type FlushMode = "microtask" | "manual";

/** Counters of one side of a ring (for benchmarks and `--trace rings`). */
export interface RingCounters {
  /** Messages produced (requests for a front end, responses for a back end). */
  produced: number;
  /** Messages consumed. */
  consumed: number;
  /** Push-and-check-notify calls that published at least one message. */
  pushes: number;
  /** Event-channel notifications actually sent to the peer. */
  notifications: number;
}

interface Waiter<Rsp> {
  resolve(rsp: Rsp): void;
  reject(err: Error): void;
}

/** Front end: `request(req)` resolves with the response whose id matches the request's. */
export class AsyncFrontRing<Req, Rsp> {
  readonly counters: RingCounters = { produced: 0, consumed: 0, pushes: 0, notifications: 0 };
  private readonly waiters = new Map<number, Waiter<Rsp>>();
  /** Requests waiting for a free slot (ring full), in issue order. */
  private readonly backlog: Req[] = [];
  private flushScheduled = false;
  private unpublished = 0;
  private closed: Error | null = null;

  constructor(
    readonly ring: FrontRing<Req, Rsp>,
    private readonly notify: () => void,
    private readonly ids: RingIds<Req, Rsp>,
    private readonly mode: FlushMode = "microtask",
  ) {}

  /** Requests issued and not yet answered. */
  get inFlight(): number {
    return this.waiters.size;
  }

  /**
   * Queues `req` and returns its completion. The id must not be in flight already (ids are the
   * caller's to allocate). Rejects with RingShutdownError after `shutdown`, and with the
   * RingProtocolError if the back end breaks the protocol.
   */
  request(req: Req): Promise<Rsp> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.ids.requestId(req);
    if (this.waiters.has(id)) return Promise.reject(new RangeError(`request id ${id} is already in flight`));
    const done = new Promise<Rsp>((resolve, reject) => this.waiters.set(id, { resolve, reject }));
    if (this.backlog.length > 0 || !this.ring.writeRequest(req)) this.backlog.push(req);
    else this.unpublished++;
    this.scheduleFlush();
    return done;
  }

  /** Publishes every request written so far and notifies the back end if it asked. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.unpublished === 0) return;
    const n = this.unpublished;
    this.counters.produced += n;
    this.unpublished = 0;
    this.counters.pushes++;
    const notify = this.ring.pushRequestsAndCheckNotify();
    if (notify) {
      this.counters.notifications++;
      this.notify();
    }
    ringTraceSink.hook?.({
      side: "frontend",
      what: "push",
      count: n,
      notified: notify,
      prod: this.ring.reqProdPvt,
      cons: this.ring.rspCons,
    });
  }

  /**
   * Call when the back end's event arrives: consumes every response (re-arming rsp_event with
   * the final check), completes the waiters, then refills the ring from the backlog.
   */
  onNotification(): void {
    if (this.closed) return;
    const before = this.counters.consumed;
    try {
      for (;;) {
        while (this.ring.unconsumedResponses() > 0) {
          const rsp = this.ring.takeResponse();
          const id = this.ids.responseId(rsp);
          const w = this.waiters.get(id);
          if (!w) {
            const err = new RingProtocolError("backend", `response for unknown request id ${id}`);
            this.ring.broken = err;
            throw err;
          }
          this.waiters.delete(id);
          this.counters.consumed++;
          w.resolve(rsp);
        }
        if (!this.ring.finalCheckForResponses()) break;
      }
    } catch (err) {
      this.shutdown(err instanceof Error ? err : new RingShutdownError(String(err)));
      return;
    }
    const took = this.counters.consumed - before;
    if (took > 0) {
      ringTraceSink.hook?.({
        side: "frontend",
        what: "drain",
        count: took,
        notified: false,
        prod: this.ring.reqProdPvt,
        cons: this.ring.rspCons,
      });
    }
    while (this.backlog.length > 0 && this.ring.writeRequest(this.backlog[0]!)) {
      this.backlog.shift();
      this.unpublished++;
    }
    if (this.unpublished > 0) this.flush();
  }

  /** Tears the ring down: every outstanding and queued request rejects with `reason`. */
  shutdown(reason: Error = new RingShutdownError("ring shut down with requests outstanding")): void {
    if (this.closed) return;
    this.closed = reason;
    this.backlog.length = 0;
    const ws = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of ws) w.reject(reason);
  }

  private scheduleFlush(): void {
    if (this.mode !== "microtask" || this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }
}

/**
 * Back end: `requests$` emits each request (already copied out of the shared page) in ring
 * order; the handler answers with `respond`. Responses given while a drain is running are
 * published once at its end; others at the next flush.
 */
export class AsyncBackRing<Req, Rsp> {
  readonly counters: RingCounters = { produced: 0, consumed: 0, pushes: 0, notifications: 0 };
  private readonly subject = new Subject<Req>();
  /** Requests in ring order; completes on shutdown, errors with the front end's RingProtocolError. */
  readonly requests$ = this.subject.asObservable();
  private draining = false;
  private flushScheduled = false;
  private unpublished = 0;
  private closed = false;

  constructor(
    readonly ring: BackRing<Req, Rsp>,
    private readonly notify: () => void,
    private readonly mode: FlushMode = "microtask",
    /**
     * Optional poll before sleeping: after answering a drain, the back end awaits this (e.g. a
     * SCHEDOP_yield) and looks for new requests once more *before* re-arming req_event. A front
     * end that refills the ring meanwhile needs no notification — the "poll a little before
     * sleeping" of NAPI-style drivers. Without it the drain is fully synchronous.
     */
    private readonly poll: (() => Promise<unknown>) | null = null,
  ) {}

  /**
   * Call when the front end's event arrives (and once after connecting): emits every waiting
   * request, re-arming req_event with the final check, then publishes the responses given
   * meanwhile with one notification at most.
   */
  onNotification(): void {
    if (this.closed || this.draining) return;
    this.draining = true;
    const before = this.counters.consumed;
    if (this.poll) {
      void this.drainPolling(before);
      return;
    }
    try {
      for (;;) {
        if (!this.takeAll()) return;
        if (this.unpublished > 0) this.flush();
        if (!this.ring.finalCheckForRequests()) break;
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.endDrain(before);
    }
  }

  private async drainPolling(before: number): Promise<void> {
    try {
      let polled = false;
      for (;;) {
        if (!this.takeAll()) return;
        if (this.unpublished > 0) this.flush();
        if (!polled) {
          polled = true;
          await this.poll!();
          if (this.closed) return;
          continue;
        }
        if (!this.ring.finalCheckForRequests()) break;
        polled = false;
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.endDrain(before);
    }
  }

  /** Emits every waiting request; false if the stream was shut down meanwhile. */
  private takeAll(): boolean {
    while (this.ring.unconsumedRequests() > 0) {
      const req = this.ring.takeRequest();
      this.counters.consumed++;
      this.subject.next(req);
      if (this.closed) return false;
    }
    return true;
  }

  private fail(err: unknown): void {
    if (err instanceof RingProtocolError) {
      this.closed = true;
      this.subject.error(err);
      return;
    }
    throw err;
  }

  private endDrain(before: number): void {
    this.draining = false;
    const took = this.counters.consumed - before;
    if (took > 0) {
      ringTraceSink.hook?.({
        side: "backend",
        what: "drain",
        count: took,
        notified: false,
        prod: this.ring.rspProdPvt,
        cons: this.ring.reqCons,
      });
    }
  }

  /** Writes the response to a request taken earlier; published at the end of the batch. */
  respond(rsp: Rsp): void {
    if (this.closed) return;
    this.ring.writeResponse(rsp);
    this.unpublished++;
    if (!this.draining && this.mode === "microtask" && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Publishes the responses written so far and notifies the front end if it asked. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.unpublished === 0) return;
    const n = this.unpublished;
    this.counters.produced += n;
    this.unpublished = 0;
    this.counters.pushes++;
    const notify = this.ring.pushResponsesAndCheckNotify();
    if (notify) {
      this.counters.notifications++;
      this.notify();
    }
    ringTraceSink.hook?.({
      side: "backend",
      what: "push",
      count: n,
      notified: notify,
      prod: this.ring.rspProdPvt,
      cons: this.ring.reqCons,
    });
  }

  /** Stops the stream (completes `requests$`); later notifications are ignored. */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.subject.complete();
  }
}
