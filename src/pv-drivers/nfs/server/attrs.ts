/**
 * Host stat → NFSv3 attributes (RFC 1813 §2.5 fattr3, §2.6 wcc_attr) and host errno →
 * nfsstat3.
 */
import type { BigIntStats } from "node:fs";
import { constants } from "node:fs";
import {
  type Fattr3,
  Ftype3,
  Nfs3Status,
  type Nfs3StatusCode,
  type NfsTime,
  type WccAttr,
} from "../nfs3-proto.js";

const NS_PER_S = 1_000_000_000n;

/** nfstime3 from a nanosecond timestamp; times before 1970 clamp to 0 (nfstime3 is unsigned). */
export function nfsTime(ns: bigint): NfsTime {
  if (ns < 0n) return { seconds: 0, nseconds: 0 };
  return { seconds: Number((ns / NS_PER_S) & 0xffffffffn), nseconds: Number(ns % NS_PER_S) };
}

/** ftype3 of a host mode. */
export function ftypeOf(mode: bigint): number {
  switch (Number(mode) & constants.S_IFMT) {
    case constants.S_IFREG:
      return Ftype3.Reg;
    case constants.S_IFDIR:
      return Ftype3.Dir;
    case constants.S_IFLNK:
      return Ftype3.Lnk;
    case constants.S_IFBLK:
      return Ftype3.Blk;
    case constants.S_IFCHR:
      return Ftype3.Chr;
    case constants.S_IFSOCK:
      return Ftype3.Sock;
    default:
      return Ftype3.Fifo;
  }
}

/** fattr3 of an lstat/fstat result. rdev is split as Linux's gnu_dev_major/minor. */
export function fattrOf(st: BigIntStats): Fattr3 {
  const rdev = st.rdev;
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)) >>> 0;
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)) >>> 0;
  return {
    type: ftypeOf(st.mode),
    mode: Number(st.mode) & 0o7777,
    nlink: Number(st.nlink),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: st.size,
    used: st.blocks * 512n,
    rdevMajor: major,
    rdevMinor: minor,
    fsid: st.dev,
    fileid: st.ino,
    atime: nfsTime(st.atimeNs),
    mtime: nfsTime(st.mtimeNs),
    ctime: nfsTime(st.ctimeNs),
  };
}

/** wcc_attr (pre-operation attributes). */
export function wccOf(st: BigIntStats): WccAttr {
  return { size: st.size, mtime: nfsTime(st.mtimeNs), ctime: nfsTime(st.ctimeNs) };
}

const ERRNO_STATUS: Record<string, Nfs3StatusCode> = {
  EPERM: Nfs3Status.Perm,
  ENOENT: Nfs3Status.NoEnt,
  EIO: Nfs3Status.Io,
  ENXIO: Nfs3Status.Nxio,
  EACCES: Nfs3Status.Acces,
  EEXIST: Nfs3Status.Exist,
  EXDEV: Nfs3Status.Xdev,
  ENODEV: Nfs3Status.NoDev,
  ENOTDIR: Nfs3Status.NotDir,
  EISDIR: Nfs3Status.IsDir,
  EINVAL: Nfs3Status.Inval,
  EFBIG: Nfs3Status.Fbig,
  ENOSPC: Nfs3Status.NoSpc,
  EROFS: Nfs3Status.Rofs,
  EMLINK: Nfs3Status.Mlink,
  ENAMETOOLONG: Nfs3Status.NameTooLong,
  ENOTEMPTY: Nfs3Status.NotEmpty,
  EDQUOT: Nfs3Status.Dquot,
  ESTALE: Nfs3Status.Stale,
  // O_NOFOLLOW met a symlink: the operation does not apply to this file type.
  ELOOP: Nfs3Status.Inval,
  ENOTSUP: Nfs3Status.NotSupp,
  EOPNOTSUPP: Nfs3Status.NotSupp,
};

/** nfsstat3 for a host error; unknown errors are NFS3ERR_IO. */
export function statusOfError(err: unknown): Nfs3StatusCode {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined ? ERRNO_STATUS[code] : undefined) ?? Nfs3Status.Io;
}
