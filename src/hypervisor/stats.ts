/**
 * Per-domain statistics. Counting is plain typed fields on the hot paths; rxjs only publishes
 * snapshots (STYLE.md: rxjs at the edges).
 */
import { NR_HYPERCALLS } from "../hypercalls/index.js";

/** Trap causes counted per domain; CPU back ends use their arch's cause code below 64. */
export const NR_TRAP_CAUSES = 64;

/** A plain copy of a domain's counters at one simulated cycle. */
export interface DomainStatsSnapshot {
  readonly domid: number;
  readonly name: string;
  /** Simulated cycle at which the snapshot was taken. */
  readonly at: number;
  readonly worldSwitches: number;
  readonly domainSwitches: number;
  /** Nonzero entries only: trap cause code → count. */
  readonly trapsByCause: Readonly<Record<number, number>>;
  /** Nonzero entries only: hypercall number → count. */
  readonly hypercallsByNumber: Readonly<Record<number, number>>;
  readonly hypercallErrors: number;
  readonly eventsSent: number;
  /** Ports that became pending in this domain (coalesced sends not counted). */
  readonly eventsDelivered: number;
  /** Upcalls made into the guest. */
  readonly upcalls: number;
  readonly guestCycles: number;
  readonly monitorCycles: number;
}

export class DomainStats {
  worldSwitches = 0;
  domainSwitches = 0;
  readonly trapsByCause = new Float64Array(NR_TRAP_CAUSES);
  readonly hypercallsByNumber = new Float64Array(NR_HYPERCALLS);
  hypercallErrors = 0;
  eventsSent = 0;
  eventsDelivered = 0;
  upcalls = 0;
  guestCycles = 0;
  monitorCycles = 0;

  snapshot(domid: number, name: string, at: number): DomainStatsSnapshot {
    const traps: Record<number, number> = {};
    this.trapsByCause.forEach((n, i) => {
      if (n) traps[i] = n;
    });
    const calls: Record<number, number> = {};
    this.hypercallsByNumber.forEach((n, i) => {
      if (n) calls[i] = n;
    });
    return {
      domid,
      name,
      at,
      worldSwitches: this.worldSwitches,
      domainSwitches: this.domainSwitches,
      trapsByCause: traps,
      hypercallsByNumber: calls,
      hypercallErrors: this.hypercallErrors,
      eventsSent: this.eventsSent,
      eventsDelivered: this.eventsDelivered,
      upcalls: this.upcalls,
      guestCycles: this.guestCycles,
      monitorCycles: this.monitorCycles,
    };
  }
}
