/**
 * ONC RPC version 2 messages (RFC 5531 §9) and AUTH_SYS credentials (RFC 5531 appendix A).
 *
 * ```
 * struct rpc_msg { unsigned int xid; union switch (msg_type mtype) {
 *     case CALL: call_body cbody; case REPLY: reply_body rbody; } body; };
 * struct call_body { unsigned int rpcvers; /* must be 2 *\/ unsigned int prog, vers, proc;
 *     opaque_auth cred; opaque_auth verf; /* procedure-specific parameters start here *\/ };
 * struct opaque_auth { auth_flavor flavor; opaque body<400>; };
 * ```
 */
import { XdrReader, type XdrWriter } from "./xdr.js";

/** msg_type (RFC 5531 §9). */
export const MsgType = { Call: 0, Reply: 1 } as const;
/** reply_stat. */
export const ReplyStat = { Accepted: 0, Denied: 1 } as const;
/** accept_stat. */
export const AcceptStat = {
  Success: 0,
  ProgUnavail: 1,
  ProgMismatch: 2,
  ProcUnavail: 3,
  GarbageArgs: 4,
  SystemErr: 5,
} as const;
/** reject_stat. */
export const RejectStat = { RpcMismatch: 0, AuthError: 1 } as const;
/** auth_stat (RFC 5531 §9). */
export const AuthStat = {
  Ok: 0,
  BadCred: 1,
  RejectedCred: 2,
  BadVerf: 3,
  RejectedVerf: 4,
  TooWeak: 5,
} as const;
/** auth_flavor numbers (RFC 5531 §8.2 and IANA). */
export const AuthFlavor = { None: 0, Sys: 1, Short: 2, Dh: 3, RpcsecGss: 6 } as const;

/** The only RPC protocol version (RFC 5531 §9). */
export const RPC_VERSION = 2;
/** opaque_auth body bound (RFC 5531 §8.2). */
export const MAX_AUTH_BYTES = 400;

/** Parsed caller credentials: AUTH_NONE or AUTH_SYS (authsys_parms, RFC 5531 appendix A). */
export type RpcCredential =
  | { readonly flavor: typeof AuthFlavor.None }
  | {
      readonly flavor: typeof AuthFlavor.Sys;
      readonly stamp: number;
      readonly machineName: string;
      readonly uid: number;
      readonly gid: number;
      readonly gids: readonly number[];
    };

/** Where a record came from; transports fill it, handlers log it. */
export interface RpcTransportContext {
  /** "tcp", "udp", "ring", … */
  readonly transport: string;
  /** Peer address for logs and the MOUNT list, e.g. "127.0.0.1:871". */
  readonly peer: string;
}

/** A decoded call header; `args` is positioned at the procedure's parameters. */
export interface RpcCall {
  readonly xid: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly cred: RpcCredential;
  readonly args: XdrReader;
  readonly context: RpcTransportContext;
}

/** Outcome of reading a call header: a call, a reply to send right away, or nothing (drop). */
export type CallHeaderResult =
  | { readonly kind: "call"; readonly call: RpcCall }
  | { readonly kind: "deny"; readonly xid: number; readonly encode: (w: XdrWriter) => void }
  | { readonly kind: "drop"; readonly reason: string };

/**
 * Reads `rpc_msg` up to the procedure parameters. Records too short for a header or that are
 * not CALLs are dropped (there is no xid to answer, or answering a REPLY would loop).
 */
export function decodeCallHeader(record: Uint8Array, context: RpcTransportContext): CallHeaderResult {
  const r = new XdrReader(record);
  const xid = r.u32();
  const mtype = r.u32();
  if (!r.ok) return { kind: "drop", reason: "record shorter than an RPC header" };
  if (mtype !== MsgType.Call) return { kind: "drop", reason: `msg_type ${mtype} is not CALL` };
  const rpcvers = r.u32();
  if (!r.ok) return { kind: "drop", reason: "truncated call header" };
  if (rpcvers !== RPC_VERSION) {
    return {
      kind: "deny",
      xid,
      encode: (w) => encodeDenied(w, xid, RejectStat.RpcMismatch, RPC_VERSION, RPC_VERSION),
    };
  }
  const prog = r.u32();
  const vers = r.u32();
  const proc = r.u32();
  const credFlavor = r.u32();
  const credBody = r.opaqueVar(MAX_AUTH_BYTES);
  const verfFlavor = r.u32();
  r.opaqueVar(MAX_AUTH_BYTES);
  if (!r.ok) {
    return { kind: "deny", xid, encode: (w) => encodeDenied(w, xid, RejectStat.AuthError, AuthStat.BadCred) };
  }
  const cred = decodeCredential(credFlavor, credBody);
  if (cred === undefined) {
    return { kind: "deny", xid, encode: (w) => encodeDenied(w, xid, RejectStat.AuthError, AuthStat.BadCred) };
  }
  // Callers send AUTH_NONE verifiers with AUTH_SYS (RFC 5531 appendix A); anything else is bad.
  if (verfFlavor !== AuthFlavor.None) {
    return { kind: "deny", xid, encode: (w) => encodeDenied(w, xid, RejectStat.AuthError, AuthStat.BadVerf) };
  }
  return { kind: "call", call: { xid, prog, vers, proc, cred, args: r, context } };
}

/** AUTH_NONE or a well-formed AUTH_SYS body; undefined for other flavours or malformed bodies. */
function decodeCredential(flavor: number, body: Uint8Array): RpcCredential | undefined {
  if (flavor === AuthFlavor.None) return { flavor: AuthFlavor.None };
  if (flavor !== AuthFlavor.Sys) return undefined;
  const r = new XdrReader(body);
  const stamp = r.u32();
  const machineName = r.string(255);
  const uid = r.u32();
  const gid = r.u32();
  const n = r.u32();
  if (!r.ok || n > 16) return undefined;
  const gids: number[] = [];
  for (let i = 0; i < n; i++) gids.push(r.u32());
  if (!r.ok || r.remaining !== 0) return undefined;
  return { flavor: AuthFlavor.Sys, stamp, machineName, uid, gid, gids };
}

/** Renders a credential for logs: "sys(uid=1000,gid=1000,host=foo)" or "none". */
export function describeCredential(cred: RpcCredential): string {
  if (cred.flavor === AuthFlavor.None) return "none";
  return `sys(uid=${cred.uid},gid=${cred.gid},gids=[${cred.gids.join(",")}],host=${cred.machineName})`;
}

/** Writes the accepted-reply header; the caller appends results when `stat` is SUCCESS. */
export function encodeAcceptedHeader(w: XdrWriter, xid: number, stat: number): void {
  w.u32(xid).u32(MsgType.Reply).u32(ReplyStat.Accepted);
  w.u32(AuthFlavor.None).u32(0); // verifier: AUTH_NONE, empty body
  w.u32(stat);
}

/** A complete PROG_MISMATCH reply with the supported version range. */
export function encodeProgMismatch(w: XdrWriter, xid: number, low: number, high: number): void {
  encodeAcceptedHeader(w, xid, AcceptStat.ProgMismatch);
  w.u32(low).u32(high);
}

/** A complete MSG_DENIED reply: RPC_MISMATCH with (low, high) or AUTH_ERROR with an auth_stat. */
export function encodeDenied(w: XdrWriter, xid: number, reject: number, a: number, b = 0): void {
  w.u32(xid).u32(MsgType.Reply).u32(ReplyStat.Denied).u32(reject);
  if (reject === RejectStat.RpcMismatch) w.u32(a).u32(b);
  else w.u32(a);
}
