/** The PV core wired onto a Hypervisor: grant tables, extra event-channel ops, the store service, tracing. */
export { registerEvtchnExtraOps, resetPorts } from "./evtchn-extra-ops.js";
export { installPvCore, type PvCore } from "./pv-core.js";
export { StoreService } from "./store-service.js";
export {
  formatEventChannels,
  formatGrantEvent,
  formatGrantTable,
  formatRingEvent,
  gntstName,
  registerPvTraceProviders,
} from "./trace.js";
