/**
 * Readable traces of a run (`pvkit run-ts --trace hypercalls,events,rings,grants,store`): one
 * line per happening, stamped with the simulated cycle, e.g.
 *
 *   [    123456] d1 grant_table_op(map_grant_ref, 0x4000, 0x1) = 0
 *   [    123901] d0 evtchn send port 5
 *
 * Each kind is a provider in `traceProviders`; the PV core adds grants, rings and store when it
 * is installed, so this file knows only the hypervisor's own kinds.
 */
import { EvtchnOp, errnoName, GnttabOp, Hypercall } from "../hypercalls/index.js";
import type { Hypervisor } from "./hypervisor.js";

/** Starts one kind of trace, writing unstamped lines; returns a function that stops it. */
export type TraceProvider = (hv: Hypervisor, write: (line: string) => void) => () => void;

const invert = (o: Record<string, number>) => new Map(Object.entries(o).map(([k, v]) => [v, k]));
const HYPERCALL_NAMES = invert(Hypercall);
const GNTTAB_NAMES = invert(GnttabOp);
const EVTCHN_NAMES = invert(EvtchnOp);

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/** A hypercall result as "0" or "-22 (EINVAL)". */
export function formatResult(r: number): string {
  return r < 0 ? `${r} (${errnoName(r) ?? "?"})` : String(r);
}

/** One hypercall, with sub-op names for grant_table_op and event_channel_op. */
export function formatHypercall(domid: number, nr: number, args: ArrayLike<number>, res: number): string {
  const name = HYPERCALL_NAMES.get(nr) ?? `hypercall_${nr}`;
  let a0 = hex(args[0] ?? 0);
  if (nr === Hypercall.grant_table_op) a0 = GNTTAB_NAMES.get(args[0]!) ?? a0;
  if (nr === Hypercall.event_channel_op) a0 = EVTCHN_NAMES.get(args[0]!) ?? a0;
  const rest = Array.from(args).slice(1).map(hex);
  return `d${domid} ${name}(${[a0, ...rest].join(", ")}) = ${formatResult(res)}`;
}

export const traceProviders = new Map<string, TraceProvider>([
  [
    "hypercalls",
    (hv, write) =>
      hv.dispatcher.onHypercall((d, nr, args, res) => write(formatHypercall(d.domid, nr, args, res))),
  ],
  [
    "events",
    (hv, write) =>
      hv.events.onEvent((e) =>
        write(e.port < 0 ? `d${e.domid} evtchn ${e.kind}` : `d${e.domid} evtchn ${e.kind} port ${e.port}`),
      ),
  ],
]);

/** Parses "hypercalls,events" or "all" into provider names; throws listing the known kinds on a typo. */
export function parseTraceKinds(text: string): string[] {
  const known = [...traceProviders.keys()];
  const kinds = text
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  if (kinds.includes("all")) return known;
  for (const k of kinds) {
    if (!traceProviders.has(k)) throw new Error(`unknown trace kind "${k}": use ${known.join(", ")} or all`);
  }
  return kinds;
}

/** Starts the named traces (see parseTraceKinds), each line stamped with the cycle; returns a stop function. */
export function startTraces(hv: Hypervisor, kinds: string, write: (line: string) => void): () => void {
  const stamp = (s: string) => write(`[${String(Math.floor(hv.clock.cycles)).padStart(10)}] ${s}`);
  const stops = parseTraceKinds(kinds).map((k) => traceProviders.get(k)!(hv, stamp));
  return () => {
    for (const s of stops) s();
  };
}
