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

import {
  DomId,
  EvtchnStat,
  GntSt,
  type RingTraceEvent,
  setRingTrace,
  xsTypeName,
} from "../../hypercalls/index.js";
import type { Domain } from "../domain.js";
import type { GrantDumpRow, GrantTraceEvent } from "../grant-table/grant-table.js";
import type { Hypervisor } from "../hypervisor.js";
import { hex, traceProviders } from "../trace.js";
import type { PvCore } from "./pv-core.js";

const invert = (o: Record<string, number>) => new Map(Object.entries(o).map(([k, v]) => [v, k]));
const GNTST_NAMES = invert(GntSt);
const STAT_NAMES = invert(EvtchnStat);

/** GNTST code as "okay", "bad_handle", … */
export function gntstName(status: number): string {
  return GNTST_NAMES.get(status) ?? String(status);
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
 * Adds the PV core's trace kinds (grants, store, rings) to the hypervisor's providers. The PV
 * core of a Hypervisor is found through `pvCoreOf`, so one registration serves every instance.
 */
export function registerPvTraceProviders(pvCoreOf: (hv: Hypervisor) => PvCore | undefined): void {
  traceProviders.set("grants", (hv, write) => {
    const pv = pvCoreOf(hv);
    if (!pv) return () => {};
    pv.grants.onTrace = (e) => write(formatGrantEvent(e));
    return () => {
      pv.grants.onTrace = null;
    };
  });
  traceProviders.set("store", (hv, write) => {
    const pv = pvCoreOf(hv);
    if (!pv) return () => {};
    pv.store.onTrace = (e) =>
      write(`d${e.domid} store ${xsTypeName(e.type)} ${e.arg}${e.txId ? ` [tx ${e.txId}]` : ""} ${e.result}`);
    return () => {
      pv.store.onTrace = null;
    };
  });
  traceProviders.set("rings", (hv, write) => {
    // Rings run inside guests; the current domain is the scheduler's running vCPU.
    setRingTrace((e) => write(formatRingEvent(hv.scheduler.current?.domain.domid ?? -1, e)));
    return () => setRingTrace(null);
  });
}
