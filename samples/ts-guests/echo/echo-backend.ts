/** The echo back end as a TypeScript guest (the driver domain): serve one front end, then exit. */

import { createPvEnv, type GuestContext, RingBackend, type TsGuest } from "../../../src/guest-sdk/index.js";
import { type EchoRequest, type EchoResponse, echo, echoProtocol } from "./echo-protocol.js";

export class EchoBackGuest implements TsGuest {
  readonly name = "echo-back";
  served = 0;
  /** The driver, for its ring counters. */
  back: RingBackend<EchoRequest, EchoResponse> | null = null;

  constructor(private readonly frontendId: number) {}

  async main(ctx: GuestContext): Promise<void> {
    const env = await createPvEnv(ctx);
    const back = new RingBackend(env, "echo", this.frontendId, 0, echoProtocol, (ring) => {
      ring.requests$.subscribe((req) => {
        this.served++;
        ring.respond(echo(req));
      });
    });
    this.back = back;
    await back.connect();
    await back.closed;
  }
}
