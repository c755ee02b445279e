/**
 * The client side of ONC RPC for PV front ends: call headers with AUTH_SYS credentials
 * (RFC 5531 §9 and appendix A) and reply headers, over the server's own XDR codec.
 */
import { AcceptStat, AuthFlavor, MsgType, ReplyStat, RPC_VERSION } from "../rpc/rpc-msg.js";
import { XdrReader, XdrWriter } from "../rpc/xdr.js";

/** AUTH_SYS identity a front end sends (recorded by the server, never used to chown). */
export interface AuthSys {
  readonly uid: number;
  readonly gid: number;
  readonly machineName: string;
  readonly gids?: readonly number[];
}

/** Byte offset of `proc` in a call record (xid, msg_type, rpcvers, prog, vers, proc). */
export const CALL_PROC_OFFSET = 20;

/** Encoded authsys_parms body, computed once per front end. */
export function authSysBody(a: AuthSys): Uint8Array {
  const w = new XdrWriter(128);
  w.u32(0).string(a.machineName).u32(a.uid).u32(a.gid);
  const gids = a.gids ?? [];
  w.u32(gids.length);
  for (const g of gids) w.u32(g);
  return w.toBytes();
}

/** Writes rpc_msg CALL up to the procedure parameters. */
export function writeCallHeader(
  w: XdrWriter,
  xid: number,
  prog: number,
  vers: number,
  proc: number,
  credBody: Uint8Array,
): void {
  w.u32(xid).u32(MsgType.Call).u32(RPC_VERSION).u32(prog).u32(vers).u32(proc);
  w.u32(AuthFlavor.Sys).opaqueVar(credBody);
  w.u32(AuthFlavor.None).u32(0);
}

/** A decoded reply header. */
export type ReplyHeader =
  | { readonly kind: "accepted"; readonly xid: number; readonly acceptStat: number; readonly r: XdrReader }
  | { readonly kind: "denied"; readonly xid: number; readonly rejectStat: number }
  | { readonly kind: "malformed"; readonly reason: string };

/** Reads rpc_msg REPLY up to the results (reader positioned after accept_stat). */
export function readReplyHeader(bytes: Uint8Array): ReplyHeader {
  const r = new XdrReader(bytes);
  const xid = r.u32();
  const mtype = r.u32();
  const stat = r.u32();
  if (!r.ok || mtype !== MsgType.Reply) return { kind: "malformed", reason: "not an RPC reply" };
  if (stat === ReplyStat.Denied) {
    const rejectStat = r.u32();
    return r.ok ? { kind: "denied", xid, rejectStat } : { kind: "malformed", reason: "truncated MSG_DENIED" };
  }
  r.u32();
  r.opaqueVar(400);
  const acceptStat = r.u32();
  if (!r.ok) return { kind: "malformed", reason: "truncated accepted reply" };
  return { kind: "accepted", xid, acceptStat, r };
}

/** True for an accepted SUCCESS reply. */
export function isSuccess(h: ReplyHeader): h is Extract<ReplyHeader, { kind: "accepted" }> {
  return h.kind === "accepted" && h.acceptStat === AcceptStat.Success;
}
