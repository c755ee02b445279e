/** The NFS paravirtual path: nfsif ring protocol, back end, front end, synchronous export. */

export { Nfs3Client, NfsError, NfsTransportError, type RpcCaller, type RpcResult } from "./nfs3-client.js";
export {
  fhKey,
  NfsBackend,
  type NfsBackendCounters,
  type NfsBackendOptions,
  type NfsReadPath,
} from "./nfsback.js";
export { NfsFrontend, type NfsFrontendCounters, type NfsFrontendOptions } from "./nfsfront.js";
export * from "./nfsif.js";
export { type AuthSys, authSysBody, type ReplyHeader, readReplyHeader, writeCallHeader } from "./rpc-call.js";
export {
  NfsExportError,
  SyncNfsExport,
  type SyncNfsExportOptions,
  type SyncRecordHandler,
} from "./sync-export.js";
