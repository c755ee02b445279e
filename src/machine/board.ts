import type { SimClock } from "./clock.js";
import type { StopReason, StopSignal } from "./cpu.js";
import type { PortBus } from "./io-ports.js";
import type { PhysicalMemory } from "./memory.js";

/** The guest architectures pvkit simulates. */
export type Arch = "mips" | "x86";

/** Statistics a board reports for `pvkit run --stats`: flat counters and named groups. */
export type BoardStats = Record<string, number | Record<string, number>>;

/**
 * A whole simulated machine (CPU, memory, devices) as `pvkit run` and the monitors drive it.
 * Both boards implement it, so the CLI, the hypervisor and the comparison never branch on arch
 * except to pick a board.
 */
export interface Board {
  readonly arch: Arch;
  readonly memory: PhysicalMemory;
  readonly ports: PortBus;
  readonly clock: SimClock;
  readonly stop: StopSignal;
  /** Runs until exit, idle with nothing pending, shutdown, or `maxInstructions`. */
  run(maxInstructions: number): StopReason;
  /** Instructions, cycles, exceptions by cause, device counters. */
  stats(): BoardStats;
  /** A human-readable account of where the CPU is: PC, cause, last instructions disassembled. */
  diagnostic(): string;
}
