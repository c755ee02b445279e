/**
 * NFS version 3 protocol data (RFC 1813): program numbers, procedures, status codes and the
 * XDR codecs of the structures shared by several procedures. Values mirror RFC 1813 §2.5–2.6
 * and §3; each procedure's own arguments/results are coded in server/nfs3-program.ts.
 */
import type { XdrReader, XdrWriter } from "./rpc/xdr.js";

/** NFS program number and version (RFC 1813 §1.2). */
export const NFS_PROGRAM = 100003;
export const NFS_V3 = 3;

/** NFSv3 procedure numbers (RFC 1813 §3). */
export const Nfs3Proc = {
  Null: 0,
  Getattr: 1,
  Setattr: 2,
  Lookup: 3,
  Access: 4,
  Readlink: 5,
  Read: 6,
  Write: 7,
  Create: 8,
  Mkdir: 9,
  Symlink: 10,
  Mknod: 11,
  Remove: 12,
  Rmdir: 13,
  Rename: 14,
  Link: 15,
  Readdir: 16,
  Readdirplus: 17,
  Fsstat: 18,
  Fsinfo: 19,
  Pathconf: 20,
  Commit: 21,
} as const;

/** Procedure names indexed by number, for logs. */
export const NFS3_PROC_NAMES: readonly string[] = Object.keys(Nfs3Proc).map((k) => k.toUpperCase());

/** nfsstat3 (RFC 1813 §2.6). */
export const Nfs3Status = {
  Ok: 0,
  Perm: 1,
  NoEnt: 2,
  Io: 5,
  Nxio: 6,
  Acces: 13,
  Exist: 17,
  Xdev: 18,
  NoDev: 19,
  NotDir: 20,
  IsDir: 21,
  Inval: 22,
  Fbig: 27,
  NoSpc: 28,
  Rofs: 30,
  Mlink: 31,
  NameTooLong: 63,
  NotEmpty: 66,
  Dquot: 69,
  Stale: 70,
  Remote: 71,
  BadHandle: 10001,
  NotSync: 10002,
  BadCookie: 10003,
  NotSupp: 10004,
  TooSmall: 10005,
  ServerFault: 10006,
  BadType: 10007,
  Jukebox: 10008,
} as const;
export type Nfs3StatusCode = (typeof Nfs3Status)[keyof typeof Nfs3Status];

const STATUS_NAMES = new Map<number, string>(
  Object.entries(Nfs3Status).map(([k, v]) => [v, v === 0 ? "NFS3_OK" : `NFS3ERR_${k.toUpperCase()}`]),
);
/** "NFS3ERR_STALE" for 70, etc. */
export function nfs3StatusName(status: number): string {
  return STATUS_NAMES.get(status) ?? `NFS3ERR_${status}`;
}

/** ftype3 (RFC 1813 §2.5). */
export const Ftype3 = { Reg: 1, Dir: 2, Blk: 3, Chr: 4, Lnk: 5, Sock: 6, Fifo: 7 } as const;

/** stable_how for WRITE (RFC 1813 §3.3.7). */
export const StableHow = { Unstable: 0, DataSync: 1, FileSync: 2 } as const;

/** createmode3 for CREATE (RFC 1813 §3.3.8). */
export const CreateMode = { Unchecked: 0, Guarded: 1, Exclusive: 2 } as const;

/** time_how for sattr3 (RFC 1813 §2.5). */
export const TimeHow = { DontChange: 0, SetToServerTime: 1, SetToClientTime: 2 } as const;

/** ACCESS bits (RFC 1813 §3.3.4). */
export const Access3 = {
  Read: 0x1,
  Lookup: 0x2,
  Modify: 0x4,
  Extend: 0x8,
  Delete: 0x10,
  Execute: 0x20,
} as const;

/** FSINFO properties (RFC 1813 §3.3.19). */
export const FsfProps = { Link: 0x1, Symlink: 0x2, Homogeneous: 0x8, CanSetTime: 0x10 } as const;

/** NFS3_FHSIZE: largest file handle (RFC 1813 §2.4). */
export const NFS3_FHSIZE = 64;
/** NFS3_COOKIEVERFSIZE, NFS3_CREATEVERFSIZE, NFS3_WRITEVERFSIZE (RFC 1813 §2.4). */
export const NFS3_VERF_SIZE = 8;
/** Longest file name component we accept (Linux NAME_MAX). */
export const NAME_MAX = 255;
/** Longest path (symlink text) we accept (Linux PATH_MAX). */
export const PATH_MAX = 4096;

/** nfstime3: seconds and nanoseconds since the epoch. */
export interface NfsTime {
  readonly seconds: number;
  readonly nseconds: number;
}

/** fattr3 (RFC 1813 §2.5): 84 bytes on the wire. */
export interface Fattr3 {
  readonly type: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: bigint;
  readonly used: bigint;
  readonly rdevMajor: number;
  readonly rdevMinor: number;
  readonly fsid: bigint;
  readonly fileid: bigint;
  readonly atime: NfsTime;
  readonly mtime: NfsTime;
  readonly ctime: NfsTime;
}
/** Encoded size of fattr3. */
export const FATTR3_SIZE = 84;

/** wcc_attr (RFC 1813 §2.6): size, mtime, ctime before an operation. */
export interface WccAttr {
  readonly size: bigint;
  readonly mtime: NfsTime;
  readonly ctime: NfsTime;
}

/** sattr3 (RFC 1813 §2.5): each field undefined when not to be set. */
export interface Sattr3 {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: number;
  /** "server" = SET_TO_SERVER_TIME. */
  readonly atime?: NfsTime | "server";
  readonly mtime?: NfsTime | "server";
}

export function writeTime(w: XdrWriter, t: NfsTime): void {
  w.u32(t.seconds).u32(t.nseconds);
}

export function readTime(r: XdrReader): NfsTime {
  const seconds = r.u32();
  const nseconds = r.u32();
  return { seconds, nseconds };
}

export function writeFattr3(w: XdrWriter, a: Fattr3): void {
  w.u32(a.type).u32(a.mode).u32(a.nlink).u32(a.uid).u32(a.gid);
  w.u64(a.size).u64(a.used).u32(a.rdevMajor).u32(a.rdevMinor);
  w.u64(a.fsid).u64(a.fileid);
  writeTime(w, a.atime);
  writeTime(w, a.mtime);
  writeTime(w, a.ctime);
}

export function readFattr3(r: XdrReader): Fattr3 {
  return {
    type: r.u32(),
    mode: r.u32(),
    nlink: r.u32(),
    uid: r.u32(),
    gid: r.u32(),
    size: r.u64big(),
    used: r.u64big(),
    rdevMajor: r.u32(),
    rdevMinor: r.u32(),
    fsid: r.u64big(),
    fileid: r.u64big(),
    atime: readTime(r),
    mtime: readTime(r),
    ctime: readTime(r),
  };
}

/** post_op_attr: bool + fattr3. */
export function writePostOpAttr(w: XdrWriter, a: Fattr3 | undefined): void {
  if (a === undefined) w.bool(false);
  else {
    w.bool(true);
    writeFattr3(w, a);
  }
}

export function readPostOpAttr(r: XdrReader): Fattr3 | undefined {
  return r.bool() ? readFattr3(r) : undefined;
}

/** pre_op_attr: bool + wcc_attr. */
export function writePreOpAttr(w: XdrWriter, a: WccAttr | undefined): void {
  if (a === undefined) w.bool(false);
  else {
    w.bool(true);
    w.u64(a.size);
    writeTime(w, a.mtime);
    writeTime(w, a.ctime);
  }
}

/** wcc_data: pre_op_attr + post_op_attr. */
export function writeWccData(w: XdrWriter, before: WccAttr | undefined, after: Fattr3 | undefined): void {
  writePreOpAttr(w, before);
  writePostOpAttr(w, after);
}

/** Skips a wcc_data in a reply (clients/tests). Returns the post-op attributes. */
export function readWccData(r: XdrReader): { before?: WccAttr; after?: Fattr3 } {
  let before: WccAttr | undefined;
  if (r.bool()) before = { size: r.u64big(), mtime: readTime(r), ctime: readTime(r) };
  const after = readPostOpAttr(r);
  return { before, after };
}

/** nfs_fh3: opaque<NFS3_FHSIZE>. */
export function readFh3(r: XdrReader): Uint8Array {
  return r.opaqueVar(NFS3_FHSIZE);
}

/** post_op_fh3: bool + nfs_fh3. */
export function writePostOpFh(w: XdrWriter, fh: Uint8Array | undefined): void {
  if (fh === undefined) w.bool(false);
  else w.bool(true).opaqueVar(fh);
}

/** sattr3 (RFC 1813 §2.5); a bad time_how fails the reader. */
export function readSattr3(r: XdrReader): Sattr3 {
  const mode = r.bool() ? r.u32() : undefined;
  const uid = r.bool() ? r.u32() : undefined;
  const gid = r.bool() ? r.u32() : undefined;
  const size = r.bool() ? r.u64() : undefined;
  const atime = readSetTime(r);
  const mtime = readSetTime(r);
  return { mode, uid, gid, size, atime, mtime };
}

function readSetTime(r: XdrReader): NfsTime | "server" | undefined {
  const how = r.u32();
  if (how === TimeHow.DontChange) return undefined;
  if (how === TimeHow.SetToServerTime) return "server";
  if (how === TimeHow.SetToClientTime) return readTime(r);
  r.fail();
  return undefined;
}

/** Writes sattr3 (clients/tests). */
export function writeSattr3(w: XdrWriter, s: Sattr3): void {
  const opt = (v: number | undefined): void => {
    if (v === undefined) w.bool(false);
    else w.bool(true).u32(v);
  };
  opt(s.mode);
  opt(s.uid);
  opt(s.gid);
  if (s.size === undefined) w.bool(false);
  else w.bool(true).u64(s.size);
  for (const t of [s.atime, s.mtime]) {
    if (t === undefined) w.u32(TimeHow.DontChange);
    else if (t === "server") w.u32(TimeHow.SetToServerTime);
    else {
      w.u32(TimeHow.SetToClientTime);
      writeTime(w, t);
    }
  }
}
