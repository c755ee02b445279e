/**
 * Hypercall dispatch: one table indexed by hypercall number. Other modules plug their
 * hypercalls in with `register` (the grant table registers HYPERVISOR_grant_table_op) without
 * editing this file. Every handler receives the raw 32-bit argument registers and must treat
 * them as untrusted: validate, bounds-check, copy guest structures in once (GuestMemoryCopier),
 * and return a result ≥ 0 or a negative Xen errno — never throw for bad guest input.
 *
 * The dispatcher charges CostTable.hypercall, counts the call per domain, and contains handler
 * bugs: an exception escaping a handler crashes the calling domain (never the monitor) and is
 * counted in `handlerFaults` so tests can assert there were none.
 */
import { Errno, NR_HYPERCALLS } from "../hypercalls/index.js";
import type { Domain } from "./domain.js";

/** One hypercall as the handler sees it. `args` are the five argument registers, as u32. */
export interface HypercallRequest {
  readonly domain: Domain;
  readonly nr: number;
  readonly args: Uint32Array;
}

export type HypercallHandler = (call: HypercallRequest) => number;

/** Called after every hypercall (tracing: `pvkit run --trace hypercalls`). */
export type HypercallListener = (domain: Domain, nr: number, args: Uint32Array, result: number) => void;

export interface DispatcherHost {
  /** Adds monitor cycles for `domain` (the clock and its stats). */
  chargeMonitor(domain: Domain, cycles: number): void;
  /** Crashes `domain` with a diagnostic. */
  crash(domain: Domain, diagnostic: string): void;
  readonly hypercallCost: number;
}

export class HypercallDispatcher {
  private readonly table: (HypercallHandler | undefined)[] = new Array(NR_HYPERCALLS);
  private readonly listeners: HypercallListener[] = [];
  /** Exceptions that escaped a handler (each crashed its caller). Should stay 0. */
  handlerFaults = 0;
  lastHandlerFault: unknown = null;

  constructor(private readonly host: DispatcherHost) {}

  /** Installs the handler of hypercall `nr`; throws if one exists unless `replace`. */
  register(nr: number, handler: HypercallHandler, replace = false): void {
    if (!Number.isInteger(nr) || nr < 0 || nr >= NR_HYPERCALLS)
      throw new RangeError(`hypercall number ${nr}`);
    if (this.table[nr] && !replace) throw new Error(`hypercall ${nr} already has a handler`);
    this.table[nr] = handler;
  }

  /** True if hypercall `nr` has a handler. */
  has(nr: number): boolean {
    return nr >= 0 && nr < NR_HYPERCALLS && this.table[nr] !== undefined;
  }

  /** Adds a listener; returns a function that removes it. */
  onHypercall(listener: HypercallListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Runs hypercall `nr` for `domain` with argument registers `args` (at least 5 entries, u32).
   * Returns the value for EAX / v0.
   */
  dispatch(domain: Domain, nr: number, args: Uint32Array): number {
    this.host.chargeMonitor(domain, this.host.hypercallCost);
    nr >>>= 0;
    let result: number;
    const handler = nr < NR_HYPERCALLS ? this.table[nr] : undefined;
    if (nr < NR_HYPERCALLS) domain.stats.hypercallsByNumber[nr]!++;
    if (!domain.alive) {
      result = Errno.ESRCH;
    } else if (!handler) {
      result = Errno.ENOSYS;
    } else {
      try {
        result = handler({ domain, nr, args });
        if (!Number.isInteger(result)) throw new TypeError(`handler of hypercall ${nr} returned ${result}`);
      } catch (err) {
        this.handlerFaults++;
        this.lastHandlerFault = err;
        this.host.crash(
          domain,
          `hypervisor fault in hypercall ${nr}: ${err instanceof Error ? err.message : String(err)}`,
        );
        result = Errno.EFAULT;
      }
    }
    if (result < 0) domain.stats.hypercallErrors++;
    for (const l of this.listeners) l(domain, nr, args, result);
    return result;
  }
}
