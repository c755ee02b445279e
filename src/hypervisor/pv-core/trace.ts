/**
 * `pvkit run --trace hypercalls,events,rings,grants,store`: readable one-line-per-event traces
 * for driver authors, and text dumps of a domain's grant and event-channel tables. Each line
 * starts with the simulated cycle count and the domain, e.g.
 *
 *   [    123456] d1 grant_table_op(map_grant_ref, 0x4000, 1) = 0
 *   [    123456] d1 grant map ref 9 of d0 -> handle 0 (okay)
 *   [    123789] d0 ring backend drain 16 (prod 16, cons 16)
 *   [    123901] d0 evtchn send port 5
 *   [    124000] d1 store WRITE device/echo/0/state OK
 */

import { type RingTraceEvent, setRingTrace } from "../../guest-sdk/ring/async-ring.js";
import { xsTypeName } from "../../guest-sdk/store/xs-wire.js";
import {
  DomId,
  EvtchnOp,
  EvtchnStat,
  errnoName,
  GntSt,
  GnttabOp,
  Hypercall,
} from "../../hypercalls/index.js";
import type { Domain } from "../domain.js";
import type { GrantDumpRow, GrantTraceEvent } from "../grant-table/grant-table.js";
import type { Hypervisor } from "../hypervisor.js";
import type { PvCore } from "./pv-core.js";

export const TRACE_KINDS = ["hypercalls", "events", "rings", "grants", "store"] as const;
export type TraceKind = (typeof TRACE_KINDS)[number];

/** Parses "hypercalls,events" (or "all"); throws with the list of valid kinds on a typo. */
export function parseTraceKinds(text: string): Set<TraceKind> {
  const out = new Set<TraceKind>();
  for (const k of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (k === "all") for (const a of TRACE_KINDS) out.add(a);
    else if ((TRACE_KINDS as readonly string[]).includes(k)) out.add(k as TraceKind);
    else throw new Error(`unknown trace kind "${k}": use ${TRACE_KINDS.join(", ")} or all`);
  }
  return out;
}

const invert = (o: Record<string, number>) => new Map(Object.entries(o).map(([k, v]) => [v, k]));
const HC_NAMES = invert(Hypercall);
const GNTTAB_NAMES = invert(GnttabOp);
const EVTCHN_NAMES = invert(EvtchnOp);
const GNTST_NAMES = invert(GntSt);
const STAT_NAMES = invert(EvtchnStat);

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

function result(r: number): string {
  return r < 0 ? `${r} (${errnoName(r) ?? "?"})` : String(r);
}

/** GNTST code as "okay", "bad_handle", … */
export function gntstName(status: number): string {
  return GNTST_NAMES.get(status) ?? String(status);
}

/** Formats one hypercall (sub-op names for grant_table_op and event_channel_op). */
export function formatHypercall(domid: number, nr: number, args: ArrayLike<number>, res: number): string {
  const name = HC_NAMES.get(nr) ?? `hypercall_${nr}`;
  let a0 = hex(args[0] ?? 0);
  if (nr === Hypercall.grant_table_op) a0 = GNTTAB_NAMES.get(args[0]!) ?? a0;
  if (nr === Hypercall.event_channel_op) a0 = EVTCHN_NAMES.get(args[0]!) ?? a0;
  const rest = [args[1] ?? 0, args[2] ?? 0].map(hex);
  return `d${domid} ${name}(${a0}, ${rest.join(", ")}) = ${result(res)}`;
}

export function formatGrantEvent(e: GrantTraceEvent): string {
  const st = gntstName(e.status);
  switch (e.op) {
    case "map":
      return `d${e.domid} grant map ref ${e.ref} of d${e.peer} -> handle ${e.handle} (${st})`;
    case "unmap":
      return `d${e.domid} grant unmap handle ${e.handle} (ref ${e.ref} of d${e.peer}) (${st})`;
    case "copy":
      return `d${e.domid} grant copy ${e.bytes ?? 0} bytes via ref ${e.ref} of d${e.peer} (${st})`;
    case "revoke":
      return `d${e.domid} grant handle ${e.handle} revoked: granter d${e.peer} destroyed`;
    default:
      return `d${e.domid} grant setup_table (${st})`;
  }
}

export function formatRingEvent(domid: number, e: RingTraceEvent): string {
  const tail = e.what === "push" ? (e.notified ? " notify" : " (no notify: peer busy)") : "";
  return `d${domid} ring ${e.side} ${e.what} ${e.count} (prod ${e.prod}, cons ${e.cons})${tail}`;
}

/** A domain's grant table as text (`GrantTables.dump` rows). */
export function formatGrantTable(domid: number, rows: readonly GrantDumpRow[]): string {
  const lines = [
    `grant table of d${domid}: ${rows.length} entries in use`,
    "  ref  flags   domid  frame     pins(r,w)",
  ];
  for (const r of rows) {
    const flags = `0x${r.flags.toString(16).padStart(4, "0")}`;
    const pins = r.pins ? `${r.pins[0]},${r.pins[1]}` : "-";
    lines.push(
      `  ${String(r.ref).padStart(4)} ${flags}  ${String(r.domid).padStart(5)}  ${hex(r.frame).padEnd(9)} ${pins}`,
    );
  }
  return lines.join("\n");
}

/** A domain's open event-channel ports as text (state, peer, pending/masked from shared_info). */
export function formatEventChannels(hv: Hypervisor, d: Domain): string {
  const t = d.evtchn;
  const lines = [`event channels of d${d.domid}:`, "  port  state        peer       pending masked"];
  const base = hv.events.sharedBase(d);
  const L = d.layouts.sharedInfo.offsets;
  for (let p = 1; p < t.maxPorts; p++) {
    const st = t.state[p]!;
    if (st === EvtchnStat.closed) continue;
    let peer = "";
    if (st === EvtchnStat.interdomain) {
      peer = t.remoteDom[p] === DomId.XEN ? "xen" : `d${t.remoteDom[p]}:${t.remotePort[p]}`;
    } else if (st === EvtchnStat.unbound) peer = `for d${t.remoteDom[p]}`;
    else if (st === EvtchnStat.virq) peer = `virq ${t.virq[p]}`;
    const bit = 1 << (p & 31);
    const word = (p >>> 5) * 4;
    const pending = base >= 0 && (hv.memory.read32(base + L.evtchn_pending! + word) & bit) !== 0;
    const masked = base >= 0 && (hv.memory.read32(base + L.evtchn_mask! + word) & bit) !== 0;
    lines.push(
      `  ${String(p).padStart(4)}  ${(STAT_NAMES.get(st) ?? String(st)).padEnd(11)}  ${peer.padEnd(10)} ${pending ? "yes" : "no "}     ${masked ? "yes" : "no"}`,
    );
  }
  return lines.join("\n");
}

/**
 * Starts tracing the chosen kinds on `hv` (and its PV core) into `out`, one line per event.
 * Returns a function that stops tracing.
 */
export function attachPvTrace(
  hv: Hypervisor,
  pv: PvCore | null,
  kinds: ReadonlySet<TraceKind>,
  out: (line: string) => void,
): () => void {
  const stamp = (s: string) => out(`[${String(Math.floor(hv.clock.cycles)).padStart(10)}] ${s}`);
  const stops: Array<() => void> = [];
  if (kinds.has("hypercalls") || kinds.has("events")) {
    stops.push(
      hv.dispatcher.onHypercall((d, nr, args, res) => {
        if (kinds.has("hypercalls")) stamp(formatHypercall(d.domid, nr, args, res));
        if (kinds.has("events") && nr === Hypercall.event_channel_op) {
          const port = hv.copier.copyIn(d, args[1]!, 4);
          const p = port ? new DataView(port.buffer).getUint32(0, true) : -1;
          const op = EVTCHN_NAMES.get(args[0]!) ?? String(args[0]);
          if (args[0] === EvtchnOp.send || args[0] === EvtchnOp.close || args[0] === EvtchnOp.unmask) {
            stamp(`d${d.domid} evtchn ${op} port ${p}${res < 0 ? ` failed ${result(res)}` : ""}`);
          } else {
            stamp(`d${d.domid} evtchn ${op} = ${result(res)}`);
          }
        }
      }),
    );
  }
  if (kinds.has("grants") && pv) {
    pv.grants.onTrace = (e) => stamp(formatGrantEvent(e));
    stops.push(() => {
      pv.grants.onTrace = null;
    });
  }
  if (kinds.has("store") && pv) {
    pv.store.onTrace = (e) =>
      stamp(`d${e.domid} store ${xsTypeName(e.type)} ${e.arg}${e.txId ? ` [tx ${e.txId}]` : ""} ${e.result}`);
    stops.push(() => {
      pv.store.onTrace = null;
    });
  }
  if (kinds.has("rings")) {
    // Rings run inside guests; the current domain is the scheduler's running vCPU.
    setRingTrace((e) => stamp(formatRingEvent(hv.scheduler.current?.domain.domid ?? -1, e)));
    stops.push(() => setRingTrace(null));
  }
  return () => {
    for (const s of stops) s();
  };
}
