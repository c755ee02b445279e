/**
 * Readable traces of a run (`pvkit run-ts --trace hypercalls,events`): one line per hypercall
 * (name, arguments, result with its errno name) and per event-channel happening, stamped with
 * the simulated cycle. Further kinds (grants, rings) plug in through `traceProviders`.
 */
import { errnoName, Hypercall } from "../hypercalls/index.js";
import type { Hypervisor } from "./hypervisor.js";

const hypercallNames = new Map<number, string>(Object.entries(Hypercall).map(([k, v]) => [v, k]));

/** Starts one kind of trace; returns a function that stops it. */
export type TraceProvider = (hv: Hypervisor, write: (line: string) => void) => () => void;

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

export const traceProviders = new Map<string, TraceProvider>([
  [
    "hypercalls",
    (hv, write) =>
      hv.dispatcher.onHypercall((d, nr, args, result) => {
        const name = hypercallNames.get(nr) ?? `hypercall_${nr}`;
        const shown = result < 0 ? `${result} (${errnoName(result) ?? "?"})` : String(result);
        write(`[${hv.clock.cycles}] d${d.domid} ${name}(${[...args].map(hex).join(", ")}) = ${shown}`);
      }),
  ],
  [
    "events",
    (hv, write) =>
      hv.events.onEvent((e) => write(`[${hv.clock.cycles}] d${e.domid} evtchn ${e.kind} port ${e.port}`)),
  ],
]);

/** Starts the named traces; throws for an unknown kind (listing the known ones). Returns a stop function. */
export function startTraces(
  hv: Hypervisor,
  kinds: readonly string[],
  write: (line: string) => void,
): () => void {
  const stops: (() => void)[] = [];
  for (const k of kinds) {
    const p = traceProviders.get(k);
    if (!p) throw new Error(`unknown trace "${k}": use ${[...traceProviders.keys()].join(", ")}`);
    stops.push(p(hv, write));
  }
  return () => {
    for (const s of stops) s();
  };
}
