/**
 * The trace point of shared-ring code. It sits in the ABI layer because both sides use it: ring
 * code in guest-sdk reports here, the hypervisor's `--trace rings` formatter listens here.
 */
/** One batch on a ring, for `pvkit run --trace rings`. */
export interface RingTraceEvent {
  side: "frontend" | "backend";
  /** "push": messages published (and whether the peer was notified); "drain": messages consumed. */
  what: "push" | "drain";
  count: number;
  notified: boolean;
  /** Free-running indices after the batch: producer and consumer of this side. */
  prod: number;
  cons: number;
}

/** Where ring code reports its batches; `hook` is null unless a trace is on (one null check per batch). */
export const ringTraceSink: { hook: ((e: RingTraceEvent) => void) | null } = { hook: null };

/**
 * Installs (or with null removes) the process-wide ring trace hook. Guests and monitor share
 * one process, so the runner installs it for `--trace rings`; it costs one null check per batch.
 */
export function setRingTrace(hook: ((e: RingTraceEvent) => void) | null): void {
  ringTraceSink.hook = hook;
}
