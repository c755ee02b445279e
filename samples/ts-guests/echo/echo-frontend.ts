/** The echo front end as a TypeScript guest: connect, send messages, print the answers, close. */

import { createPvEnv, RingFrontend } from "../../../src/guest-sdk/index.js";
import type { GuestContext, TsGuest } from "../../../src/hypercalls/index.js";
import { type EchoRequest, type EchoResponse, echoProtocol } from "./echo-protocol.js";

export class EchoFrontGuest implements TsGuest {
  readonly name = "echo-front";
  /** Answers received, in the order the messages were sent. */
  readonly replies: string[] = [];
  /** The driver, for its ring counters (notifications per request). */
  front: RingFrontend<EchoRequest, EchoResponse> | null = null;

  constructor(
    private readonly messages: readonly string[],
    /** Messages sent before waiting for their answers (a batch shares one notification). */
    private readonly batch = 8,
  ) {}

  async main(ctx: GuestContext): Promise<void> {
    const env = await createPvEnv(ctx);
    const front = new RingFrontend(env, "echo", 0, echoProtocol);
    this.front = front;
    await front.connect();
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    for (let i = 0; i < this.messages.length; i += this.batch) {
      const pending: Promise<EchoResponse>[] = [];
      for (let j = i; j < Math.min(i + this.batch, this.messages.length); j++) {
        pending.push(front.request({ id: j, data: enc.encode(this.messages[j]) }));
      }
      for (const r of await Promise.all(pending)) this.replies.push(dec.decode(r.data));
    }
    await front.disconnect();
  }
}
