/** The store daemon, its ring transport, the toolstack's store side and the tree printer. */

export {
  dumpLookup,
  formatStoreTree,
  readStoreDump,
  STORE_DUMP_FORMAT,
  type StoreDumpFile,
  writeStoreDump,
} from "./store-dump.js";
export { StoreRingServer } from "./store-ring-server.js";
export { type DevicePaths, type DeviceSpec, devicePaths, domainPath, StoreToolstack } from "./toolstack.js";
export {
  DEFAULT_STORE_QUOTAS,
  type IntroduceHandler,
  StoreDaemonError,
  type StoreDumpNode,
  type StoreQuotas,
  type StoreSink,
  type StoreTraceEvent,
  XenStore,
} from "./xenstored.js";
