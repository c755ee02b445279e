/**
 * The PC's Intel 8254 programmable interval timer at ports 0x40–0x43: three 16-bit down
 * counters clocked at 1.193182 MHz (14.31818 MHz / 12, IBM PC/AT Technical Reference), counter
 * 0's OUT wired to ISA IRQ0.
 *
 * Names follow the Intel 8254 datasheet (order no. 231164): control word SC/RW/M/BCD, counter
 * latch command, read-back command with its status byte (OUTPUT, NULL COUNT, RW, M, BCD).
 * Time is simulated: a counter's value is computed from the PIT ticks elapsed since its count was
 * loaded, PIT ticks come from the cycle clock through `cpuHz` (default CPU_CLOCK_HZ beside the
 * cost table), and OUT transitions are SimClock timers. Nothing reads host time.
 *
 * Simplifications, each what QEMU's `hw/timer/i8254*.c` does too (the differential reference):
 *  - a count takes effect at the tick it is written (the datasheet's extra load CLK pulse is
 *    not modelled), and a new count in modes 2/3 restarts the period at once;
 *  - BCD counting is accepted in the control word and reported in the status byte but counts
 *    in binary;
 *  - gates: counters 0 and 1 are tied high; counter 2's gate is bit 0 of port 0x61 (system
 *    control port B, `PortB61` below), where bit 5 reads its OUT — what Linux-style PIT
 *    calibration polls. As in QEMU, a rising gate restarts counting in modes 1, 2, 3 and 5 and a
 *    low gate does not stop a counter; modes 1 and 5 also start at the count write.
 */

import type { SimClock, TimerHandle } from "../clock.js";
import { CPU_CLOCK_HZ } from "../cost.js";
import type { IrqLine } from "../cpu.js";
import { NO_IRQ } from "../cpu.js";
import type { PortBus, PortHandler, PortSize } from "../io-ports.js";

/** The PIT input clock in Hz: the PC's 14.31818 MHz crystal divided by 12. */
export const PIT_INPUT_HZ = 1_193_182;
export const PIT_BASE = 0x40;
/** Control word register (write only). */
export const PIT_CONTROL = 0x43;

/** Control word fields (datasheet, "Control Word Format"). */
export const CW_SC_SHIFT = 6; // select counter; 3 = read-back
export const CW_RW_SHIFT = 4; // 0 latch, 1 LSB, 2 MSB, 3 LSB then MSB
export const CW_M_SHIFT = 1;
export const CW_BCD = 0x01;
/** Read-back command bits (SC = 11). */
export const RB_NOT_COUNT = 0x20;
export const RB_NOT_STATUS = 0x10;
/** Status byte bits. */
export const STATUS_OUTPUT = 0x80;
export const STATUS_NULL_COUNT = 0x40;

/** Read/write access modes (control word RW field). */
const RW_LSB = 1;
const RW_MSB = 2;
const RW_WORD = 3;
/** Word access in progress: next byte is the MSB (encoded as 4 beside RW_WORD = LSB next). */
const RW_WORD_MSB = 4;

/** A counter's snapshot. `loadTick` is -1 while waiting for a count after a control word. */
export interface Pit8254CounterState {
  mode: number;
  rw: number;
  bcd: boolean;
  count: number;
  loadTick: number;
  nullCount: boolean;
  writeState: number;
  writeLsb: number;
  readState: number;
  latchedCount: number;
  latchedState: number;
  latchedStatus: number;
  statusLatched: boolean;
}

export interface Pit8254State {
  counters: Pit8254CounterState[];
}

class Counter {
  mode = 0;
  rw = RW_WORD;
  bcd = false;
  /** Initial count, 1..65536 (a written 0 means 65536). */
  count = 0x10000;
  /** PIT tick at which the current count was loaded, -1 when not counting. */
  loadTick = -1;
  nullCount = true;
  writeState = RW_WORD;
  writeLsb = 0;
  readState = RW_WORD;
  latchedCount = 0;
  /** 0 = no count latched, else the RW state of the latched read. */
  latchedState = 0;
  latchedStatus = 0;
  statusLatched = false;
  /** OUT level last driven on the IRQ line. */
  outLevel = false;
  timer: TimerHandle | null = null;
  /** Tick (relative to loadTick) of the transition the pending timer is for. */
  nextTransition = 0;

  constructor(
    readonly index: number,
    readonly out: IrqLine,
  ) {}

  /** Counter value after `d` ticks of counting (QEMU's pit_get_count formulas). */
  valueAfter(d: number): number {
    const n = this.count;
    switch (this.mode) {
      case 2:
        return (n - (d % n)) & 0xffff;
      case 3:
        // Mode 3 decrements by two per clock (datasheet, "Mode 3: square wave").
        return (n - ((2 * d) % n)) & 0xffff;
      default:
        return (n - d) & 0xffff;
    }
  }

  /** OUT level after `d` ticks of counting. */
  outAfter(d: number): boolean {
    const n = this.count;
    switch (this.mode) {
      case 0:
      case 1:
        // Low from the count write until terminal count, then high until reprogrammed.
        return d >= n;
      case 2:
        // High, low for the one clock while the counter holds 1, high again on reload.
        return n < 2 || d % n !== n - 1;
      case 3:
        // High for the first ceil(N/2) clocks of each period, low for the rest.
        return d % n < (n + 1) >>> 1;
      default:
        // Modes 4/5: high, one clock low at terminal count.
        return d !== n;
    }
  }

  /** First tick after `d` at which OUT changes, or -1. */
  nextTransitionAfter(d: number): number {
    const n = this.count;
    switch (this.mode) {
      case 0:
      case 1:
        return d < n ? n : -1;
      case 2: {
        if (n < 2) return -1;
        const base = d - (d % n);
        return d % n < n - 1 ? base + n - 1 : base + n;
      }
      case 3: {
        if (n < 2) return -1;
        const base = d - (d % n);
        const half = (n + 1) >>> 1;
        return d % n < half ? base + half : base + n;
      }
      default:
        return d < n ? n : d === n ? n + 1 : -1;
    }
  }

  /** OUT level before any count is loaded (datasheet: control word write sets OUT). */
  get idleOut(): boolean {
    return this.mode !== 0;
  }
}

/** The 8254 with counter 0 driving `irq0`. */
export class Pit8254 implements PortHandler {
  readonly name = "8254 PIT";
  private readonly counters: Counter[];
  /** Rising edges of counter 0's OUT (timer interrupts raised), for statistics. */
  irqEdges = 0;
  /** Cycles and ticks reduced by their gcd, for exact conversion without overflow. */
  private readonly cyclesPer: number;
  private readonly ticksPer: number;
  private readonly onTimer: (() => void)[];
  /** GATE inputs (QEMU: counter 2's starts low). */
  private readonly gates = [true, true, false];

  constructor(
    private readonly clock: SimClock,
    irq0: IrqLine = NO_IRQ,
    readonly cpuHz: number = CPU_CLOCK_HZ,
  ) {
    const g = gcd(cpuHz, PIT_INPUT_HZ);
    this.cyclesPer = cpuHz / g;
    this.ticksPer = PIT_INPUT_HZ / g;
    this.counters = [new Counter(0, irq0), new Counter(1, NO_IRQ), new Counter(2, NO_IRQ)];
    // One callback per counter, made once: the timer path allocates nothing of ours.
    this.onTimer = this.counters.map((c) => () => this.transition(c));
    this.reset();
  }

  /**
   * Power-on state as QEMU's pit_reset_common leaves it (and as SeaBIOS reprograms it before a
   * multiboot kernel runs): every counter in mode 3 with count 65536, LSB-then-MSB access,
   * counting from now — IRQ0 at 18.2 Hz until the guest programs counter 0.
   */
  reset(): void {
    for (const c of this.counters) {
      c.mode = 3;
      c.rw = RW_WORD;
      c.bcd = false;
      c.readState = RW_WORD;
      c.writeState = RW_WORD;
      c.latchedState = 0;
      c.statusLatched = false;
      this.load(c, 0);
    }
  }

  attach(bus: PortBus): this {
    bus.register(PIT_BASE, 4, this);
    return this;
  }

  /** PIT ticks elapsed at simulated cycle `cycles` (floor). */
  ticksAt(cycles: number): number {
    const q = Math.floor(cycles / this.cyclesPer);
    const r = cycles - q * this.cyclesPer;
    return q * this.ticksPer + Math.floor((r * this.ticksPer) / this.cyclesPer);
  }

  /** First simulated cycle at which `ticks` PIT ticks have elapsed (ceil). */
  cycleOfTick(ticks: number): number {
    const q = Math.floor(ticks / this.ticksPer);
    const r = ticks - q * this.ticksPer;
    return q * this.cyclesPer + Math.ceil((r * this.cyclesPer) / this.ticksPer);
  }

  /** Counter `n`'s GATE input. */
  gate(n: number): boolean {
    return this.gates[n]!;
  }

  /** Drives counter `n`'s GATE: a rising edge restarts modes 1, 2, 3 and 5 (datasheet; QEMU). */
  setGate(n: number, level: boolean): void {
    const c = this.counters[n]!;
    const rising = level && !this.gates[n];
    this.gates[n] = level;
    if (!rising || c.loadTick < 0 || c.mode === 0 || c.mode === 4) return;
    c.loadTick = this.ticksAt(this.clock.cycles);
    this.clock.cancel(c.timer);
    c.timer = null;
    this.drive(c, c.outAfter(0));
    this.scheduleAfter(c, 0);
  }

  /** Counter `n`'s current value (what an unlatched read returns as a 16-bit word). */
  currentCount(n: number): number {
    const c = this.counters[n]!;
    if (c.loadTick < 0) return c.count & 0xffff;
    return c.valueAfter(this.ticksAt(this.clock.cycles) - c.loadTick);
  }

  /** Counter `n`'s OUT level now. */
  output(n: number): boolean {
    const c = this.counters[n]!;
    if (c.loadTick < 0) return c.idleOut;
    return c.outAfter(this.ticksAt(this.clock.cycles) - c.loadTick);
  }

  read(port: number, _size: PortSize): number {
    const i = port - PIT_BASE;
    if (i === 3) return 0xff; // the control word register is write-only; the bus floats
    const c = this.counters[i]!;
    if (c.statusLatched) {
      c.statusLatched = false;
      return c.latchedStatus;
    }
    if (c.latchedState !== 0) {
      const v = c.latchedCount;
      switch (c.latchedState) {
        case RW_LSB:
          c.latchedState = 0;
          return v & 0xff;
        case RW_MSB:
          c.latchedState = 0;
          return v >>> 8;
        case RW_WORD:
          c.latchedState = RW_WORD_MSB;
          return v & 0xff;
        default:
          c.latchedState = 0;
          return v >>> 8;
      }
    }
    const v = this.currentCount(i);
    switch (c.readState) {
      case RW_LSB:
        return v & 0xff;
      case RW_MSB:
        return v >>> 8;
      case RW_WORD:
        c.readState = RW_WORD_MSB;
        return v & 0xff;
      default:
        c.readState = RW_WORD;
        return v >>> 8;
    }
  }

  write(port: number, _size: PortSize, value: number): void {
    value &= 0xff;
    const i = port - PIT_BASE;
    if (i === 3) {
      this.writeControl(value);
      return;
    }
    const c = this.counters[i]!;
    switch (c.writeState) {
      case RW_LSB:
        this.load(c, value);
        break;
      case RW_MSB:
        this.load(c, value << 8);
        break;
      case RW_WORD:
        c.writeLsb = value;
        c.writeState = RW_WORD_MSB;
        break;
      default:
        c.writeState = RW_WORD;
        this.load(c, c.writeLsb | (value << 8));
        break;
    }
  }

  private writeControl(value: number): void {
    const sc = value >>> CW_SC_SHIFT;
    if (sc === 3) {
      // Read-back: latch count and/or status of each selected counter (bits 1–3).
      for (let n = 0; n < 3; n++) {
        if ((value & (2 << n)) === 0) continue;
        const c = this.counters[n]!;
        if ((value & RB_NOT_COUNT) === 0) this.latchCount(c);
        if ((value & RB_NOT_STATUS) === 0 && !c.statusLatched) {
          c.latchedStatus =
            (this.output(n) ? STATUS_OUTPUT : 0) |
            (c.nullCount ? STATUS_NULL_COUNT : 0) |
            (c.rw << CW_RW_SHIFT) |
            (c.mode << CW_M_SHIFT) |
            (c.bcd ? CW_BCD : 0);
          c.statusLatched = true;
        }
      }
      return;
    }
    const c = this.counters[sc]!;
    const rw = (value >>> CW_RW_SHIFT) & 3;
    if (rw === 0) {
      this.latchCount(c);
      return;
    }
    let mode = (value >>> CW_M_SHIFT) & 7;
    if (mode > 5) mode -= 4; // modes 6 and 7 are aliases of 2 and 3 (datasheet: "X10", "X11")
    c.mode = mode;
    c.rw = rw;
    c.bcd = (value & CW_BCD) !== 0;
    c.readState = rw;
    c.writeState = rw;
    c.latchedState = 0;
    c.statusLatched = false;
    // Datasheet: a control word resets the counter's logic and sets OUT to the mode's initial
    // state; counting waits for the new count.
    c.loadTick = -1;
    c.nullCount = true;
    this.clock.cancel(c.timer);
    c.timer = null;
    this.drive(c, c.idleOut);
  }

  /** Counter latch command: freezes the value for the next read(s); a second latch is ignored. */
  private latchCount(c: Counter): void {
    if (c.latchedState !== 0) return;
    c.latchedCount = this.currentCount(c.index);
    c.latchedState = c.rw;
  }

  private load(c: Counter, value: number): void {
    c.count = value === 0 ? 0x10000 : value;
    c.loadTick = this.ticksAt(this.clock.cycles);
    c.nullCount = false;
    this.clock.cancel(c.timer);
    c.timer = null;
    this.drive(c, c.outAfter(0));
    this.scheduleAfter(c, 0);
  }

  /** Arms the timer for the first OUT transition after relative tick `d` (wired counters only). */
  private scheduleAfter(c: Counter, d: number): void {
    if (c.out === NO_IRQ) return;
    const next = c.nextTransitionAfter(d);
    if (next < 0) return;
    c.nextTransition = next;
    c.timer = this.clock.schedule(this.cycleOfTick(c.loadTick + next), this.onTimer[c.index]!);
  }

  /** A timer fired at the transition tick it was armed for. */
  private transition(c: Counter): void {
    c.timer = null;
    const d = c.nextTransition;
    this.drive(c, c.outAfter(d));
    this.scheduleAfter(c, d);
  }

  private drive(c: Counter, level: boolean): void {
    if (level === c.outLevel) return;
    c.outLevel = level;
    if (level && c.index === 0) this.irqEdges++;
    c.out.set(level);
  }

  getState(): Pit8254State {
    return {
      counters: this.counters.map((c) => ({
        mode: c.mode,
        rw: c.rw,
        bcd: c.bcd,
        count: c.count,
        loadTick: c.loadTick,
        nullCount: c.nullCount,
        writeState: c.writeState,
        writeLsb: c.writeLsb,
        readState: c.readState,
        latchedCount: c.latchedCount,
        latchedState: c.latchedState,
        latchedStatus: c.latchedStatus,
        statusLatched: c.statusLatched,
      })),
    };
  }

  /** Restores registers and re-arms timers against the current clock. */
  setState(s: Pit8254State): void {
    s.counters.forEach((cs, n) => {
      const c = this.counters[n]!;
      Object.assign(c, cs);
      this.clock.cancel(c.timer);
      c.timer = null;
      if (c.loadTick < 0) {
        this.drive(c, c.idleOut);
        return;
      }
      const d = this.ticksAt(this.clock.cycles) - c.loadTick;
      this.drive(c, c.outAfter(d));
      this.scheduleAfter(c, d);
    });
  }
}

/** Port 0x61, the PC's system control port B (IBM PC/AT Technical Reference, "System Board"). */
export const PORT_B = 0x61;
export const PORT_B_GATE2 = 0x01; // counter 2 GATE
export const PORT_B_SPEAKER = 0x02; // speaker data enable
export const PORT_B_REFRESH = 0x10; // refresh request toggle (read only)
export const PORT_B_OUT2 = 0x20; // counter 2 OUT (read only)

/**
 * Port 0x61 as QEMU's pcspk models it: writes set counter 2's gate (bit 0) and the speaker
 * enable (bit 1, kept but silent); reads return them with OUT2 in bit 5 and a refresh bit that
 * toggles on every read (QEMU's dummy_refresh_clock, so delay loops that wait for it progress
 * without host time).
 */
export class PortB61 implements PortHandler {
  readonly name = "system control port B (0x61)";
  private speaker = false;
  private refresh = 0;

  constructor(private readonly pit: Pit8254) {}

  attach(bus: PortBus): this {
    bus.register(PORT_B, 1, this);
    return this;
  }

  read(_port: number, _size: PortSize): number {
    this.refresh ^= PORT_B_REFRESH;
    return (
      (this.pit.gate(2) ? PORT_B_GATE2 : 0) |
      (this.speaker ? PORT_B_SPEAKER : 0) |
      this.refresh |
      (this.pit.output(2) ? PORT_B_OUT2 : 0)
    );
  }

  write(_port: number, _size: PortSize, value: number): void {
    this.speaker = (value & PORT_B_SPEAKER) !== 0;
    this.pit.setGate(2, (value & PORT_B_GATE2) !== 0);
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
