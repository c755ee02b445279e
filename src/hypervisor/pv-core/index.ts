/** The PV core wired onto a Hypervisor: grant tables, extra event-channel ops, the store service, tracing. */
export { registerEvtchnExtraOps, resetPorts } from "./evtchn-extra-ops.js";
export { installPvCore, type PvCore } from "./pv-core.js";
export { StoreService } from "./store-service.js";
export {
  attachPvTrace,
  formatEventChannels,
  formatGrantEvent,
  formatGrantTable,
  formatHypercall,
  formatRingEvent,
  gntstName,
  parseTraceKinds,
  TRACE_KINDS,
  type TraceKind,
} from "./trace.js";
