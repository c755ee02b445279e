/**
 * Shared-memory I/O definitions both sides of a PV channel use: the shared-page accessor, ring
 * ordering barriers, the XenStore wire format, permissions and byte rings, and the ring trace
 * point. They live in the ABI layer so the hypervisor (store daemon) and the guest SDK (store
 * client, rings) import the same definitions without the hypervisor importing guest code.
 */
export { barrier } from "./barrier.js";
export * from "./permissions.js";
export { type RingTraceEvent, ringTraceSink, setRingTrace } from "./ring-trace.js";
export {
  CountingSharedPage,
  LocalSharedPage,
  readPageBytes,
  SHARED_PAGE_SIZE,
  type SharedPage,
  writePageBytes,
} from "./shared-page.js";
export { XsMessageReader, type XsRingSide, xsRingRead, xsRingWrite } from "./xs-ring.js";
export * from "./xs-wire.js";
