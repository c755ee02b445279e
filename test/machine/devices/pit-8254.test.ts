import { describe, expect, it } from "vitest";
import { SimClock } from "../../../src/machine/clock.js";
import { CPU_CLOCK_HZ } from "../../../src/machine/cost.js";
import { PIT_INPUT_HZ, Pit8254, PortB61 } from "../../../src/machine/devices/pit-8254.js";
import { PortBus } from "../../../src/machine/io-ports.js";

/** A PIT whose input clock is exactly 10 CPU cycles per tick, so expectations are integers. */
function setup(cpuHz = PIT_INPUT_HZ * 10) {
  const clock = new SimClock();
  const bus = new PortBus();
  const edges: { cycle: number; level: boolean }[] = [];
  const pit = new Pit8254(
    clock,
    { set: (level) => edges.push({ cycle: clock.cycles, level }) },
    cpuHz,
  ).attach(bus);
  // Power-on: counter 0 counts 65536 in mode 3, OUT high from cycle 0; tests start after that.
  expect(edges).toEqual([{ cycle: 0, level: true }]);
  edges.length = 0;
  pit.irqEdges = 0;
  /** Advances simulated time to `cycle`, firing timers at their own deadlines. */
  const runTo = (cycle: number) => {
    while (clock.nextDeadline <= cycle) {
      clock.cycles = clock.nextDeadline;
      clock.runDue();
    }
    clock.cycles = cycle;
  };
  return { clock, bus, pit, edges, runTo };
}

const readWord = (bus: PortBus, port: number) => bus.read(port, 1) | (bus.read(port, 1) << 8);

describe("8254 PIT", () => {
  it("converts cycles and ticks exactly at the default 100 MHz CPU clock", () => {
    const pit = new Pit8254(new SimClock());
    expect(pit.cpuHz).toBe(CPU_CLOCK_HZ);
    // One second of simulated time is exactly PIT_INPUT_HZ ticks, even far into a run.
    expect(pit.ticksAt(CPU_CLOCK_HZ)).toBe(PIT_INPUT_HZ);
    expect(pit.ticksAt(CPU_CLOCK_HZ * 1e4)).toBe(PIT_INPUT_HZ * 1e4);
    expect(pit.cycleOfTick(PIT_INPUT_HZ * 1e4)).toBe(CPU_CLOCK_HZ * 1e4);
    for (const t of [1, 2, 11931, 596591, 123456789]) {
      const c = pit.cycleOfTick(t);
      expect(pit.ticksAt(c)).toBe(t);
      expect(pit.ticksAt(c - 1)).toBe(t - 1);
    }
  });

  it("mode 2 (rate generator) raises IRQ0 once per period", () => {
    const { bus, edges, runTo, pit } = setup();
    bus.write(0x43, 1, 0x34); // counter 0, LSB then MSB, mode 2
    bus.write(0x40, 1, 100);
    bus.write(0x40, 1, 0); // count 100 ticks = 1000 cycles
    runTo(3500);
    const rising = edges.filter((e) => e.level).map((e) => e.cycle);
    expect(rising).toEqual([1000, 2000, 3000]);
    // OUT is low for exactly the one tick while the counter holds 1.
    const falling = edges.filter((e) => !e.level).map((e) => e.cycle);
    expect(falling).toEqual([990, 1990, 2990]);
    expect(pit.irqEdges).toBe(3);
  });

  it("mode 3 (square wave) is high for the first half of each period", () => {
    const { bus, edges, runTo } = setup();
    bus.write(0x43, 1, 0x36);
    bus.write(0x40, 1, 7);
    bus.write(0x40, 1, 0);
    runTo(1450);
    // Odd count 7: high for 4 ticks, low for 3 (datasheet).
    expect(edges.slice(0, 4).map((e) => [e.cycle, e.level])).toEqual([
      [40, false],
      [70, true],
      [110, false],
      [140, true],
    ]);
    expect(edges.filter((e) => e.level).length).toBe(20);
  });

  it("mode 0 (interrupt on terminal count) goes low on the control word and high once at the count", () => {
    const { bus, edges, runTo } = setup();
    bus.write(0x43, 1, 0x30); // mode 0: OUT low
    expect(edges).toEqual([{ cycle: 0, level: false }]);
    bus.write(0x40, 1, 50);
    bus.write(0x40, 1, 0);
    runTo(499);
    expect(edges.length).toBe(1);
    runTo(5000);
    expect(edges.slice(1)).toEqual([{ cycle: 500, level: true }]);
    // A new control word drops OUT again.
    bus.write(0x43, 1, 0x30);
    expect(edges.at(-1)).toEqual({ cycle: 5000, level: false });
  });

  it("reads the live count, and the latch command freezes it across both bytes", () => {
    const { bus, runTo } = setup();
    bus.write(0x43, 1, 0x34);
    bus.write(0x40, 1, 0x00);
    bus.write(0x40, 1, 0x10); // 0x1000
    runTo(10 * 0x10);
    expect(readWord(bus, 0x40)).toBe(0x1000 - 0x10);
    bus.write(0x43, 1, 0x00); // latch counter 0
    runTo(10 * 0x30);
    expect(bus.read(0x40, 1)).toBe(0xf0);
    runTo(10 * 0x40);
    expect(bus.read(0x40, 1)).toBe(0x0f); // MSB of the latched 0x0ff0, not of the live count
    expect(readWord(bus, 0x40)).toBe(0x1000 - 0x40);
  });

  it("lobyte-only and hibyte-only access modes", () => {
    const { bus, runTo } = setup();
    bus.write(0x43, 1, 0xa0); // counter 2, MSB only, mode 0
    bus.write(0x42, 1, 0x02); // count 0x0200
    runTo(10 * 0x100);
    expect(bus.read(0x42, 1)).toBe(0x01);
    bus.write(0x43, 1, 0x50); // counter 1, LSB only, mode 0
    bus.write(0x41, 1, 0x80);
    runTo(10 * 0x110);
    expect(bus.read(0x41, 1)).toBe(0x70);
  });

  it("count 0 means 65536 and mode 2 reloads it", () => {
    const { bus, runTo, pit } = setup();
    bus.write(0x43, 1, 0x34);
    bus.write(0x40, 1, 0);
    bus.write(0x40, 1, 0);
    expect(pit.currentCount(0)).toBe(0); // 65536 reads as 0
    runTo(10);
    expect(pit.currentCount(0)).toBe(0xffff);
    runTo(10 * 65536 + 10);
    expect(pit.currentCount(0)).toBe(0xffff);
    expect(pit.irqEdges).toBe(1);
  });

  it("read-back latches status (OUT, null count, RW, mode) and count", () => {
    const { bus, runTo } = setup();
    bus.write(0x43, 1, 0x36);
    bus.write(0x43, 1, 0xe2); // read-back status only, counter 0
    expect(bus.read(0x40, 1)).toBe(0x80 | 0x40 | 0x30 | 0x06);
    bus.write(0x40, 1, 20);
    bus.write(0x40, 1, 0);
    runTo(150); // 15 ticks: in the low half of the square wave
    bus.write(0x43, 1, 0xc2); // latch count and status of counter 0
    expect(bus.read(0x40, 1)).toBe(0x36); // OUT low, count loaded
    expect(readWord(bus, 0x40)).toBe(20 - ((2 * 15) % 20));
  });

  it("port 0x61: counter 2 gate and OUT, as a PIT calibration loop uses them", () => {
    const { bus, runTo, pit } = setup();
    new PortB61(pit).attach(bus);
    expect(bus.read(0x61, 1) & 0x01).toBe(0); // gate 2 starts low (QEMU)
    expect(bus.read(0x61, 1) & 0x10).not.toBe(bus.read(0x61, 1) & 0x10); // refresh toggles
    bus.write(0x61, 1, 0x01); // gate high, speaker off
    bus.write(0x43, 1, 0xb0); // counter 2, LSB/MSB, mode 0
    bus.write(0x42, 1, 100);
    bus.write(0x42, 1, 0);
    runTo(990);
    expect(bus.read(0x61, 1) & 0x20).toBe(0);
    runTo(1000);
    expect(bus.read(0x61, 1) & 0x21).toBe(0x21);
    // Mode 2 restarts on a rising gate.
    bus.write(0x43, 1, 0xb4);
    bus.write(0x42, 1, 50);
    bus.write(0x42, 1, 0);
    runTo(1200);
    expect(pit.currentCount(2)).toBe(30);
    bus.write(0x61, 1, 0x00);
    bus.write(0x61, 1, 0x01);
    expect(pit.currentCount(2)).toBe(50);
  });

  it("getState/setState restores counting and re-arms the timer", () => {
    const a = setup();
    a.bus.write(0x43, 1, 0x34);
    a.bus.write(0x40, 1, 100);
    a.bus.write(0x40, 1, 0);
    a.runTo(2500);
    const state = a.pit.getState();
    const b = setup();
    b.clock.cycles = 2500;
    b.pit.setState(state);
    expect(b.pit.currentCount(0)).toBe(a.pit.currentCount(0));
    b.runTo(4000);
    expect(b.edges.filter((e) => e.level).map((e) => e.cycle)).toEqual([3000, 4000]);
  });
});
