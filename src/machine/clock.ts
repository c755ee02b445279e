/**
 * The simulated clock: a count of simulated cycles and a queue of device events due at given
 * cycles. Nothing reads host time, so a run with the same inputs gives the same cycles.
 *
 * CPUs add the cycles they spend to `cycles` and call `runDue()` once `cycles >= nextDeadline`
 * (checked at block boundaries, so `nextDeadline` is a plain field read on the hot path).
 */
export interface TimerHandle {
  readonly id: number;
}

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

export class SimClock {
  /** Simulated cycles since power-on. Doubles are exact to 2^53 cycles. */
  cycles = 0;
  /** Cycle at which the earliest timer fires, Infinity when none is pending. */
  nextDeadline = Number.POSITIVE_INFINITY;
  private timers: Timer[] = [];
  private nextId = 1;

  /** Runs `callback` once the clock reaches `atCycle` (immediately at the next check if past). */
  schedule(atCycle: number, callback: () => void): TimerHandle {
    const timer: Timer = { id: this.nextId++, at: atCycle, callback };
    // Keep the queue sorted by due cycle, FIFO among equals, so firing order is deterministic.
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1]!.at > atCycle) i--;
    this.timers.splice(i, 0, timer);
    this.nextDeadline = this.timers[0]!.at;
    return { id: timer.id };
  }

  /** Runs `callback` `delay` cycles from now. */
  after(delay: number, callback: () => void): TimerHandle {
    return this.schedule(this.cycles + delay, callback);
  }

  cancel(handle: TimerHandle | null | undefined): void {
    if (!handle) return;
    const i = this.timers.findIndex((t) => t.id === handle.id);
    if (i >= 0) this.timers.splice(i, 1);
    this.nextDeadline = this.timers.length > 0 ? this.timers[0]!.at : Number.POSITIVE_INFINITY;
  }

  /** Fires every timer due at or before `cycles`, in order. */
  runDue(): void {
    while (this.timers.length > 0 && this.timers[0]!.at <= this.cycles) {
      const t = this.timers.shift()!;
      this.nextDeadline = this.timers.length > 0 ? this.timers[0]!.at : Number.POSITIVE_INFINITY;
      t.callback();
    }
    this.nextDeadline = this.timers.length > 0 ? this.timers[0]!.at : Number.POSITIVE_INFINITY;
  }

  /** Skips idle time (WAIT/HLT) to the next timer; returns false if there is none. */
  skipToNextDeadline(): boolean {
    if (this.nextDeadline === Number.POSITIVE_INFINITY) return false;
    if (this.nextDeadline > this.cycles) this.cycles = this.nextDeadline;
    this.runDue();
    return true;
  }
}
