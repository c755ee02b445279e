/**
 * What every simulated CPU shares with the boards and the monitors above it.
 *
 * `run(budget)` executes up to `budget` instructions and returns why it stopped, as a number
 * (no allocation, no throw on the hot path). When `interceptExceptions` is set — a monitor runs
 * the guest deprivileged — an exception does not vector into the guest: the CPU leaves state as
 * the hardware would at the trap (PC of the faulting instruction, the cause recorded in the
 * CPU's `trap` fields) and returns `StopReason.Trap` so the monitor can emulate or reflect it.
 */
export const StopReason = {
  /** The instruction budget ran out. */
  Budget: 0,
  /** WAIT/HLT with no interrupt able to wake the CPU and no timer pending. */
  Idle: 1,
  /** A device (the exit port) asked the machine to stop. */
  Exit: 2,
  /** An exception was taken with interceptExceptions set; see the CPU's trap fields. */
  Trap: 3,
  /** The machine cannot continue (x86 triple fault, a fatal loop); see `diagnostic`. */
  Shutdown: 4,
} as const;
export type StopReason = (typeof StopReason)[keyof typeof StopReason];

/** A level-triggered interrupt line from a device to a CPU or interrupt controller. */
export interface IrqLine {
  set(level: boolean): void;
}

/** A line wired to nothing (devices whose interrupt the board leaves unconnected). */
export const NO_IRQ: IrqLine = { set() {} };

/**
 * Where a device asks the whole machine to stop (the exit port). CPUs check `requested` after
 * every device access and at block boundaries.
 */
export class StopSignal {
  requested = false;
  exitCode = 0;
  request(exitCode: number): void {
    this.requested = true;
    this.exitCode = exitCode;
  }
  clear(): void {
    this.requested = false;
  }
}

/** Counters every CPU keeps; per-cause counts are indexed by the architecture's cause code. */
export interface CpuStats {
  instructions: number;
  exceptions: Float64Array;
}
