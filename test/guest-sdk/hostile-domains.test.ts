/**
 * Hostile peers between real TS domains: one back end (dom0) serves two front ends; dom1
 * overflows its ring's req_prod, dom2 behaves. The back end gets a precise RingProtocolError
 * for dom1's ring only; dom2's requests are all answered; no domain crashes.
 */
import { describe, expect, it } from "vitest";
import { echo, echoProtocol } from "../../samples/ts-guests/echo/echo-protocol.js";
import {
  createPvEnv,
  RING_REQ_PROD,
  RingBackend,
  RingFrontend,
  RingProtocolError,
  type TsGuest,
} from "../../src/guest-sdk/index.js";
import { Hypervisor, installPvCore, launchTsGuest } from "../../src/hypervisor/index.js";
import { PhysicalMemory } from "../../src/machine/index.js";

describe("hostile front end among well-behaved domains", () => {
  it("an overflowing req_prod is that front end's protocol error only", async () => {
    const hv = new Hypervisor({ memory: new PhysicalMemory(4 << 20) });
    const pv = installPvCore(hv);
    const errors: string[] = [];
    const served: Record<number, number> = { 1: 0, 2: 0 };
    const replies: string[] = [];
    const backGuest: TsGuest = {
      name: "back",
      main: async (ctx) => {
        const env = await createPvEnv(ctx);
        const backs = [1, 2].map(
          (fe) =>
            new RingBackend(env, "echo", fe, 0, echoProtocol, (ring) => {
              ring.requests$.subscribe({
                next: (req) => {
                  served[fe]!++;
                  ring.respond(echo(req));
                },
                error: (e: unknown) =>
                  errors.push(`d${fe}: ${e instanceof RingProtocolError ? e.message : String(e)}`),
              });
            }),
        );
        await Promise.all(backs.map((b) => b.connect()));
        await Promise.all(backs.map((b) => b.closed));
      },
    };
    const hostile: TsGuest = {
      name: "hostile",
      main: async (ctx) => {
        const env = await createPvEnv(ctx);
        const front = new RingFrontend(env, "echo", 0, echoProtocol);
        await front.connect();
        front.ring!.ring.page.write32(RING_REQ_PROD, 1000); // 1000 requests in a 32-slot ring
        front.channel!.notify();
        await env.hypercalls.schedYield();
        await front.disconnect();
      },
    };
    const good: TsGuest = {
      name: "good",
      main: async (ctx) => {
        const env = await createPvEnv(ctx);
        const front = new RingFrontend(env, "echo", 0, echoProtocol);
        await front.connect();
        const enc = new TextEncoder();
        for (let i = 0; i < 10; i++) {
          const r = await front.request({ id: i, data: enc.encode(`m${i}`) });
          replies.push(new TextDecoder().decode(r.data));
        }
        await front.disconnect();
      },
    };
    launchTsGuest(hv, backGuest, { privileged: true, paused: true, pages: 32 });
    launchTsGuest(hv, hostile, { paused: true, pages: 32 });
    launchTsGuest(hv, good, { paused: true, pages: 32 });
    for (const fe of [1, 2])
      pv.storeService.toolstack.addDevice({ type: "echo", frontend: fe, backend: 0, devid: 0 });
    for (const d of [0, 1, 2]) hv.unpause(d);
    expect(await hv.run(5e9)).toBe("all-halted");
    expect(errors).toEqual([
      "d1: ring protocol error by the frontend: req_prod 1000 overflows the ring: 1000 requests past rsp_prod_pvt 0 in a 32-slot ring",
    ]);
    expect(served).toEqual({ 1: 0, 2: 10 });
    expect(replies).toEqual(Array.from({ length: 10 }, (_, i) => `${i}m`));
    for (const d of [0, 1, 2]) expect(hv.domain(d)?.state).toBe("shutdown");
    expect(pv.grants.mappingsOf(0)).toBe(0);
  });
});
