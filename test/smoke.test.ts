import { describe, expect, it } from "vitest";
import { CostTable, costTableHash, PhysicalMemory, PortBus, SimClock } from "../src/machine/index.js";

describe("machine primitives", () => {
  it("memory watches pages and rejects out-of-range accesses", () => {
    const mem = new PhysicalMemory(0x10000);
    const hits: number[] = [];
    mem.addWatchHandler((paddr) => hits.push(paddr));
    mem.watchPage(2, true);
    mem.write32(0x1000, 1);
    mem.write32(0x2004, 0xdeadbeef);
    expect(hits).toEqual([0x2004]);
    expect(mem.read32(0x2004)).toBe(0xdeadbeef);
    expect(mem.u32[0x2004 >>> 2]).toBe(0xdeadbeef);
    expect(() => mem.read32(0xfffe)).toThrow(/outside RAM/);
  });

  it("clock fires timers in order, FIFO among equals", () => {
    const clock = new SimClock();
    const order: string[] = [];
    clock.schedule(10, () => order.push("b"));
    clock.schedule(5, () => order.push("a"));
    clock.schedule(10, () => order.push("c"));
    const cancelled = clock.schedule(7, () => order.push("x"));
    clock.cancel(cancelled);
    clock.cycles = 9;
    clock.runDue();
    expect(order).toEqual(["a"]);
    expect(clock.nextDeadline).toBe(10);
    expect(clock.skipToNextDeadline()).toBe(true);
    expect(order).toEqual(["a", "b", "c"]);
    expect(clock.skipToNextDeadline()).toBe(false);
  });

  it("port bus reads open bus as all ones and refuses double claims", () => {
    const warnings: string[] = [];
    const bus = new PortBus((m) => warnings.push(m));
    expect(bus.read(0x80, 1)).toBe(0xff);
    expect(warnings[0]).toMatch(/0x80/);
    const dev = { name: "dev", read: () => 7, write: () => {} };
    bus.register(0x10, 2, dev);
    expect(bus.read(0x11, 1)).toBe(7);
    expect(() => bus.register(0x11, 1, dev)).toThrow(/claimed by both/);
  });

  it("cost table hash is stable and changes with the table", () => {
    expect(costTableHash()).toBe(costTableHash({ ...CostTable }));
    expect(costTableHash({ ...CostTable, instruction: 2 })).not.toBe(costTableHash());
  });
});
