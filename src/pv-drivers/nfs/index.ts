/**
 * NFSv3 back end (driver-domain side): a transport-independent server plus the ONC RPC, XDR
 * and record-marking pieces that front ends and transports reuse.
 */

export {
  BufferCache,
  type BufferCacheStats,
  type CacheFrames,
  type CachePage,
} from "./buffer-cache.js";
export * from "./mount3-proto.js";
export * from "./nfs3-proto.js";
export * from "./pv/index.js";
export {
  encodeRecord,
  FRAGMENT_LENGTH_MASK,
  LAST_FRAGMENT,
  RecordMarkingDecoder,
  singleFragmentHeader,
} from "./rpc/record-marking.js";
export {
  formatRpcLog,
  type ProcedureOutcome,
  RpcDispatcher,
  type RpcDispatcherOptions,
  type RpcLogEntry,
  type RpcProgram,
} from "./rpc/rpc-dispatcher.js";
export {
  AcceptStat,
  AuthFlavor,
  AuthStat,
  describeCredential,
  MsgType,
  RejectStat,
  ReplyStat,
  RPC_VERSION,
  type RpcCall,
  type RpcCredential,
  type RpcTransportContext,
} from "./rpc/rpc-msg.js";
export {
  bindUdp,
  DatagramRpcAdapter,
  type RecordHandler,
  type TcpRpcOptions,
  TcpRpcServer,
} from "./rpc/transport.js";
export { XdrReader, XdrWriter, xdrPad } from "./rpc/xdr.js";
export { FILE_HANDLE_BYTES, FileHandleCodec } from "./server/file-handles.js";
export { Mount3Program, type MountEntry } from "./server/mount3-program.js";
export {
  NFS_MAX_RECORD_BYTES,
  NfsServer,
  type NfsServerOptions,
  type SeenCredential,
} from "./server/nfs-server.js";
export { NFS_MAX_TRANSFER, Nfs3Program } from "./server/nfs3-program.js";
export { defaultStateFile, NfsServerError } from "./server/server-secret.js";
export { type NfsExport, NfsExportToken } from "./tokens.js";
