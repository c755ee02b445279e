/** The echo front end as a TypeScript guest: connect, send messages, print the answers, close. */

import { createPvEnv, type GuestContext, RingFrontend, type TsGuest } from "../../../src/guest-sdk/index.js";
import { type EchoRequest, type EchoResponse, echoProtocol } from "./echo-protocol.js";

export class EchoFrontGuest implements TsGuest {
  readonly name = "echo-front";
  /** Answers received, indexed like the messages. */
  readonly replies: string[] = [];
  /** The driver, for its ring counters (notifications per request). */
  front: RingFrontend<EchoRequest, EchoResponse> | null = null;
  /** Wall-clock milliseconds and simulated cycles of the request phase (after connect, before close). */
  readonly timing = { wallMs: 0, cycles: 0 };

  constructor(
    private readonly messages: readonly string[],
    /** Requests published per push; two batches are kept in flight. */
    private readonly batch = 8,
  ) {}

  async main(ctx: GuestContext): Promise<void> {
    const env = await createPvEnv(ctx);
    const front = new RingFrontend(env, "echo", 0, echoProtocol);
    this.front = front;
    await front.connect();
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const t0 = performance.now();
    const c0 = ctx.now();
    // `batch` requests per push, two batches in flight: while the back end works on one batch
    // the next is already on the ring, so most pushes need no notification.
    let inFlight = 0;
    let wake: (() => void) | null = null;
    for (let i = 0; i < this.messages.length; i += this.batch) {
      for (let j = i; j < Math.min(i + this.batch, this.messages.length); j++) {
        inFlight++;
        void front.request({ id: j, data: enc.encode(this.messages[j]) }).then((r) => {
          this.replies[r.id] = dec.decode(r.data);
          inFlight--;
          wake?.();
        });
      }
      await Promise.resolve(); // end of this batch: the ring layer publishes it with one push
      while (inFlight >= 2 * this.batch) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    }
    while (inFlight > 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
    }
    this.timing.wallMs = performance.now() - t0;
    this.timing.cycles = ctx.now() - c0;
    await front.disconnect();
  }
}
