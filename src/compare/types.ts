/** Shared shapes of the comparison harness (DESIGN.md "Comparison"). */

export type CompareArch = "mips" | "x86";
/** Where a workload runs: an architecture, or "ts" for TypeScript guests ("modelled" rows). */
export type WorkloadArch = CompareArch | "ts";
export type ProfileName = "native" | "full" | "pv" | "full+pv";
export const PROFILES: readonly ProfileName[] = ["native", "full", "pv", "full+pv"];
export const ARCHES: readonly CompareArch[] = ["mips", "x86"];

/** What one cell measured; a field is absent where it does not apply to that mode. */
export interface CellFigures {
  /** Simulated cycles of the whole run (deterministic). */
  readonly cycles: number;
  /** Guest instructions retired (direct, interpreted and user). */
  readonly instructions?: number;
  /** Simulated cycles per operation above the empty baseline (kernel microbenchmarks). */
  readonly cyclesPerOp?: number;
  /** Traps / exits into the monitor by cause name (nonzero only). */
  readonly traps?: Readonly<Record<string, number>>;
  /** World switches into the monitor. */
  readonly worldSwitches?: number;
  /** Simulated cycles spent in the monitor. */
  readonly monitorCycles?: number;
  readonly hypercalls?: number;
  readonly notifications?: number;
  readonly bytesCopied?: number;
  readonly bytesMapped?: number;
  /** Machine memory the run took (bytes). */
  readonly machineBytes?: number;
  /** Wall-clock milliseconds of the real TypeScript code (reported, never compared). */
  readonly wallMs: number;
}

export interface Cell {
  readonly workload: string;
  readonly arch: WorkloadArch;
  readonly profile: ProfileName;
  /** "ok" with figures, or "n/a" with the reason. */
  readonly status: "ok" | "n/a";
  readonly reason?: string;
  readonly figures?: CellFigures;
  /** The cell's key figure (cyclesPerOp where defined, else cycles) over native's; null without a native cell. */
  readonly ratioVsNative?: number | null;
  /** Notes such as "modelled" or "capped at N instructions". */
  readonly label?: string;
}

/** A mode that cannot run yet: the reason is printed in its cells. */
export interface Unavailable {
  readonly unavailable: string;
}

export function isUnavailable(x: unknown): x is Unavailable {
  return typeof x === "object" && x !== null && typeof (x as Unavailable).unavailable === "string";
}

/**
 * The sample guests a profile runs, relative to samples/guests/ (or why there is none): the
 * kernel sample (MIPS: `proc_config`-patchable; x86: run as is) and the standalone compute.elf.
 */
export interface GuestFiles {
  readonly kernelSample: string | Unavailable;
  readonly computeElf: string | Unavailable;
}
