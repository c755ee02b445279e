/** End to end: the echo sample's two TS domains over the real hypervisor, store, grants and events. */
import { describe, expect, it } from "vitest";
import { runEcho } from "../../samples/ts-guests/echo/run-echo.js";

describe("echo sample (two TS domains)", () => {
  it("connects through XenBus, echoes every message, closes cleanly and leaks nothing", async () => {
    const msgs = Array.from({ length: 40 }, (_, i) => `message ${i}`);
    const r = await runEcho(msgs, 16, undefined, { oracle: true });
    expect(r.end).toBe("all-halted");
    expect(r.front.domain.state).toBe("shutdown");
    expect(r.back.domain.state).toBe("shutdown");
    expect(r.frontGuest.replies).toEqual(msgs.map((m) => [...m].reverse().join("")));
    expect(r.backGuest.served).toBe(40);
    // The back end unmapped the ring before the front end ended access.
    expect(r.pv.grants.mappingsOf(r.back.domain.domid)).toBe(0);
    expect(r.pv.grants.pinnedOf(r.front.domain.domid)).toBe(0);
    expect(r.pv.store.hostRead("/local/domain/0/backend/echo/1/0/state")).toBe("6");
    expect(r.pv.store.hostRead("/local/domain/1/device/echo/0/state")).toBe("6");
    const free = r.hv.machineMemory.freePages;
    r.hv.destroy(r.front.domain.domid);
    r.hv.destroy(r.back.domain.domid);
    expect(r.hv.machineMemory.freePages).toBe(free + 64);
    expect(r.pv.store.hostDirectory("/local/domain")).toEqual([]);
    expect(r.hv.dispatcher.handlerFaults).toBe(0);
    // The isolation oracle saw every guest access: grant-mapped pages were the only foreign ones touched.
    expect(r.hv.oracleViolations).toEqual([]);
    // Batching: 40 requests in batches of 16 need far fewer than 40 ring notifications.
    const c = r.frontGuest.front!.ring!.counters;
    expect(c.produced).toBe(40);
    expect(c.notifications).toBeLessThanOrEqual(Math.ceil(40 / 16));
  });
});
