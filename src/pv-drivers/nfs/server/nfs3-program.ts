/**
 * The NFS version 3 program (RFC 1813 §3) over an `ExportFs`. Each procedure decodes its
 * arguments completely (GARBAGE_ARGS when they are malformed), then answers with the
 * nfsstat3 and exactly the result arms RFC 1813 gives for that status (wcc_data and
 * post_op_attr wherever the RFC puts them, also on failure).
 *
 * Host I/O is node:fs/promises. Opens use O_NOFOLLOW (a symlink swapped in is never
 * followed) and O_NONBLOCK (a FIFO swapped in cannot block the server), and each opened
 * descriptor is checked against the handle's identity with fstat before use.
 */
import { randomBytes } from "node:crypto";
import type { BigIntStats } from "node:fs";
import { constants } from "node:fs";
import {
  chmod,
  type FileHandle,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readlink,
  rename,
  rmdir,
  statfs,
  symlink,
  unlink,
} from "node:fs/promises";
import {
  Access3,
  CreateMode,
  FATTR3_SIZE,
  type Fattr3,
  FsfProps,
  Ftype3,
  NAME_MAX,
  NFS_PROGRAM,
  NFS_V3,
  NFS3_PROC_NAMES,
  NFS3_VERF_SIZE,
  Nfs3Proc,
  Nfs3Status,
  type Nfs3StatusCode,
  type NfsTime,
  nfs3StatusName,
  PATH_MAX,
  readFh3,
  readSattr3,
  readTime,
  type Sattr3,
  StableHow,
  type WccAttr,
  writeFattr3,
  writePostOpAttr,
  writePostOpFh,
  writeWccData,
} from "../nfs3-proto.js";
import type { ProcedureOutcome, RpcProgram } from "../rpc/rpc-dispatcher.js";
import { AcceptStat, type RpcCall } from "../rpc/rpc-msg.js";
import { type XdrReader, type XdrWriter, xdrStringSize } from "../rpc/xdr.js";
import { fattrOf, ftypeOf, statusOfError, wccOf } from "./attrs.js";
import { COOKIE_DOT, COOKIE_DOTDOT, DirListingCache, firstAfter, type ListingEntry } from "./dir-listing.js";
import type { ExportFs, FsNode } from "./export-fs.js";
import { FILE_HANDLE_BYTES } from "./file-handles.js";
import { RwLock } from "./rw-lock.js";

/** Transfer sizes advertised by FSINFO (bytes). The TCP record limit is derived from them. */
export const NFS_MAX_TRANSFER = 1024 * 1024;
const PREFERRED_TRANSFER = 128 * 1024;
const DIR_PREFERRED = 64 * 1024;

/** Procedures that add, remove or move names: they run alone (see RwLock). */
const NAMESPACE_CHANGING: ReadonlySet<number> = new Set([
  Nfs3Proc.Create,
  Nfs3Proc.Mkdir,
  Nfs3Proc.Symlink,
  Nfs3Proc.Mknod,
  Nfs3Proc.Remove,
  Nfs3Proc.Rmdir,
  Nfs3Proc.Rename,
  Nfs3Proc.Link,
]);

/** Returned by a procedure whose arguments did not decode. */
const GARBAGE = -1;

const O_NOFOLLOW = constants.O_NOFOLLOW;
const O_NONBLOCK = constants.O_NONBLOCK;

/** Sizes of reply pieces for READDIR budgeting (RFC 1813 §3.3.16/17). */
const POST_OP_ATTR_SIZE = 4 + FATTR3_SIZE;
const POST_OP_FH_SIZE = 4 + 4 + FILE_HANDLE_BYTES;
/** status + dir_attributes + cookieverf + end-of-list marker + eof. */
const READDIR_FIXED = 4 + POST_OP_ATTR_SIZE + NFS3_VERF_SIZE + 4 + 4;

function toSeconds(t: NfsTime): number {
  return t.seconds + t.nseconds / 1e9;
}

function nsToSeconds(ns: bigint): number {
  return Number(ns) / 1e9;
}

function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Options of the NFS program. */
export interface Nfs3ProgramOptions {
  /** Refuse every modifying procedure with NFS3ERR_ROFS. */
  readonly readOnly: boolean;
  /** Flushes a file to stable storage (default: fsync, or fdatasync when `dataOnly`); tests inject failures. */
  readonly syncFile?: (file: FileHandle, dataOnly: boolean) => Promise<void>;
}

const defaultSync = (file: FileHandle, dataOnly: boolean): Promise<void> =>
  dataOnly ? file.datasync() : file.sync();

/** NFS program 100003 version 3. */
export class Nfs3Program implements RpcProgram {
  readonly prog = NFS_PROGRAM;
  readonly vers = NFS_V3;
  readonly name = "NFS3";
  private verifier: Uint8Array = randomBytes(NFS3_VERF_SIZE);
  private readonly listings = new DirListingCache();
  /** Shared for lookups, exclusive for namespace changes (see RwLock). */
  private readonly namespace = new RwLock();
  private readonly readOnly: boolean;
  private readonly syncFile: (file: FileHandle, dataOnly: boolean) => Promise<void>;
  private readonly uid = process.getuid?.() ?? 0;
  private readonly gids = new Set<number>([process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])]);

  constructor(
    private readonly fs: ExportFs,
    options: Nfs3ProgramOptions,
  ) {
    this.readOnly = options.readOnly;
    this.syncFile = options.syncFile ?? defaultSync;
  }

  /** The current write verifier (writeverf3); new per server instance and after a failed sync. */
  get writeVerifier(): Uint8Array {
    return this.verifier;
  }

  /** Picks a new write verifier: clients must resend unstable writes not yet committed. */
  changeWriteVerifier(): void {
    this.verifier = randomBytes(NFS3_VERF_SIZE);
  }

  procName(proc: number): string | undefined {
    return NFS3_PROC_NAMES[proc];
  }

  /** Names, offsets and counts of a call, for --verbose (e.g. `"a.txt"`, `@4096+65536 FILE_SYNC`). */
  describeArgs(proc: number, r: XdrReader): string {
    const fh = (): void => {
      readFh3(r);
    };
    const name = (): string => JSON.stringify(r.string(PATH_MAX));
    let text = "";
    switch (proc) {
      case Nfs3Proc.Lookup:
      case Nfs3Proc.Create:
      case Nfs3Proc.Mkdir:
      case Nfs3Proc.Symlink:
      case Nfs3Proc.Mknod:
      case Nfs3Proc.Remove:
      case Nfs3Proc.Rmdir:
        fh();
        text = name();
        break;
      case Nfs3Proc.Rename: {
        fh();
        const from = name();
        fh();
        text = `${from} -> ${name()}`;
        break;
      }
      case Nfs3Proc.Link:
        fh();
        fh();
        text = name();
        break;
      case Nfs3Proc.Read:
      case Nfs3Proc.Write:
      case Nfs3Proc.Commit: {
        fh();
        const offset = r.u64();
        const count = r.u32();
        const stable =
          proc === Nfs3Proc.Write ? ` ${["UNSTABLE", "DATA_SYNC", "FILE_SYNC"][r.u32()] ?? "?"}` : "";
        text = `@${offset}+${count}${stable}`;
        break;
      }
      case Nfs3Proc.Readdir:
      case Nfs3Proc.Readdirplus:
        fh();
        text = `cookie=${r.u64big()}`;
        break;
    }
    return r.ok ? text : "malformed";
  }

  async handle(call: RpcCall, w: XdrWriter): Promise<ProcedureOutcome> {
    return this.namespace.run(NAMESPACE_CHANGING.has(call.proc), () => this.dispatch(call, w));
  }

  /**
   * The procedures by number (RFC 1813 §3.3): each decodes its arguments from `r`, writes its
   * result into `w` and returns the NFS3 status (or GARBAGE). NULL is answered in `dispatch`.
   */
  private readonly procedures: readonly ((r: XdrReader, w: XdrWriter) => Promise<number>)[] = [
    async () => 0, // NULL
    (r, w) => this.getattr(r, w),
    (r, w) => this.setattr(r, w),
    (r, w) => this.lookup(r, w),
    (r, w) => this.access(r, w),
    (r, w) => this.readlink(r, w),
    (r, w) => this.read(r, w),
    (r, w) => this.write(r, w),
    (r, w) => this.create(r, w),
    (r, w) => this.mkdir(r, w),
    (r, w) => this.symlink(r, w),
    (r, w) => this.mknod(r, w),
    (r, w) => this.remove(r, w, false),
    (r, w) => this.remove(r, w, true),
    (r, w) => this.rename(r, w),
    (r, w) => this.link(r, w),
    (r, w) => this.readdir(r, w, false),
    (r, w) => this.readdir(r, w, true),
    (r, w) => this.fsstat(r, w),
    (r, w) => this.fsinfo(r, w),
    (r, w) => this.pathconf(r, w),
    (r, w) => this.commit(r, w),
  ];

  private async dispatch(call: RpcCall, w: XdrWriter): Promise<ProcedureOutcome> {
    if (call.proc === Nfs3Proc.Null) return { stat: AcceptStat.Success, note: "OK" };
    const proc = this.procedures[call.proc];
    if (proc === undefined) return { stat: AcceptStat.ProcUnavail };
    const status = await proc(call.args, w);
    if (status === GARBAGE) return { stat: AcceptStat.GarbageArgs };
    return { stat: AcceptStat.Success, note: nfs3StatusName(status) };
  }

  // ---- helpers -------------------------------------------------------------------------

  private async attrsAt(abs: string): Promise<Fattr3 | undefined> {
    try {
      return fattrOf(await lstat(abs, { bigint: true }));
    } catch {
      return undefined;
    }
  }

  /** Opens a regular file or directory without following a final symlink; checks identity. */
  private async openChecked(node: FsNode, flags: number): Promise<FileHandle | Nfs3StatusCode> {
    let fh: FileHandle;
    try {
      fh = await open(node.abs, flags | O_NOFOLLOW | O_NONBLOCK);
    } catch (err) {
      return statusOfError(err);
    }
    const st = await fh.stat({ bigint: true });
    if (!sameFile(st, node.st)) {
      await fh.close();
      return Nfs3Status.Stale;
    }
    return fh;
  }

  /**
   * Applies sattr3 to a file. Ownership never changes (the server runs as the invoking user
   * only): a uid/gid different from the current one is NFS3ERR_PERM when `strictOwner`.
   */
  private async applySattr(node: FsNode, s: Sattr3, strictOwner: boolean): Promise<Nfs3StatusCode> {
    const st = node.st;
    if (strictOwner) {
      if (s.uid !== undefined && s.uid !== Number(st.uid)) return Nfs3Status.Perm;
      if (s.gid !== undefined && s.gid !== Number(st.gid)) return Nfs3Status.Perm;
    }
    const type = ftypeOf(st.mode);
    if (s.size !== undefined && type !== Ftype3.Reg)
      return type === Ftype3.Dir ? Nfs3Status.IsDir : Nfs3Status.Inval;
    const wantTimes = s.atime !== undefined || s.mtime !== undefined;
    const now = Date.now() / 1000;
    const atime =
      s.atime === undefined ? nsToSeconds(st.atimeNs) : s.atime === "server" ? now : toSeconds(s.atime);
    const mtime =
      s.mtime === undefined ? nsToSeconds(st.mtimeNs) : s.mtime === "server" ? now : toSeconds(s.mtime);
    try {
      if (type === Ftype3.Lnk) {
        // Linux cannot chmod a symlink (lchmod is unsupported).
        if (s.mode !== undefined) return Nfs3Status.NotSupp;
        if (wantTimes) await lutimes(node.abs, atime, mtime);
        return Nfs3Status.Ok;
      }
      if (s.mode === undefined && s.size === undefined && !wantTimes) return Nfs3Status.Ok;
      if (type !== Ftype3.Reg && type !== Ftype3.Dir) {
        // Devices, FIFOs, sockets: not opened; lutimes only (never follows). Mode unsupported.
        if (s.mode !== undefined) return Nfs3Status.NotSupp;
        if (wantTimes) await lutimes(node.abs, atime, mtime);
        return Nfs3Status.Ok;
      }
      const flags =
        type === Ftype3.Dir
          ? constants.O_RDONLY | constants.O_DIRECTORY
          : s.size !== undefined
            ? constants.O_WRONLY
            : constants.O_RDONLY;
      const fh = await this.openChecked(node, flags);
      if (fh === Nfs3Status.Acces && s.size === undefined) {
        // The owner may chmod a file it cannot open (mode 000). lstat showed no symlink here;
        // chmod(2) by path is the only way left (Linux has no lchmod).
        if (s.mode !== undefined) await chmod(node.abs, s.mode & 0o7777);
        if (wantTimes) await lutimes(node.abs, atime, mtime);
        return Nfs3Status.Ok;
      }
      if (typeof fh === "number") return fh;
      try {
        if (s.mode !== undefined) await fh.chmod(s.mode & 0o7777);
        if (s.size !== undefined) await fh.truncate(s.size);
        if (wantTimes) await fh.utimes(atime, mtime);
      } finally {
        await fh.close();
      }
      return Nfs3Status.Ok;
    } catch (err) {
      return statusOfError(err);
    }
  }

  // ---- procedures ----------------------------------------------------------------------

  /** GETATTR (RFC 1813 §3.3.1). */
  private async getattr(r: XdrReader, w: XdrWriter): Promise<number> {
    const fh = readFh3(r);
    if (!r.ok) return GARBAGE;
    const node = await this.fs.resolve(fh);
    if (typeof node === "number") {
      w.u32(node);
      return node;
    }
    w.u32(Nfs3Status.Ok);
    writeFattr3(w, fattrOf(node.st));
    return Nfs3Status.Ok;
  }

  /** SETATTR with the optional ctime guard (RFC 1813 §3.3.2). */
  private async setattr(r: XdrReader, w: XdrWriter): Promise<number> {
    const fh = readFh3(r);
    const sattr = readSattr3(r);
    const guard = r.bool() ? readTime(r) : undefined;
    if (!r.ok) return GARBAGE;
    const node = await this.fs.resolve(fh);
    if (typeof node === "number") {
      w.u32(node);
      writeWccData(w, undefined, undefined);
      return node;
    }
    const pre = wccOf(node.st);
    let status: Nfs3StatusCode;
    if (
      guard !== undefined &&
      (guard.seconds !== pre.ctime.seconds || guard.nseconds !== pre.ctime.nseconds)
    ) {
      status = Nfs3Status.NotSync;
    } else if (this.readOnly) {
      status = Nfs3Status.Rofs;
    } else {
      status = await this.applySattr(node, sattr, true);
    }
    return this.replyWcc(w, status, node, pre);
  }

  /** LOOKUP (RFC 1813 §3.3.3); ".." at the root is the root. */
  private async lookup(r: XdrReader, w: XdrWriter): Promise<number> {
    const dirFh = readFh3(r);
    const name = r.string(PATH_MAX);
    if (!r.ok) return GARBAGE;
    const dir = await this.fs.resolve(dirFh);
    if (typeof dir === "number") {
      w.u32(dir);
      writePostOpAttr(w, undefined);
      return dir;
    }
    const node = await this.fs.lookup(dir, name);
    if (typeof node === "number") {
      w.u32(node);
      writePostOpAttr(w, fattrOf(dir.st));
      return node;
    }
    w.u32(Nfs3Status.Ok);
    w.opaqueVar(this.fs.handleOf(node));
    writePostOpAttr(w, fattrOf(node.st));
    writePostOpAttr(w, fattrOf(dir.st));
    return Nfs3Status.Ok;
  }

  /** Access bits the server user has on a file, from its mode (the server acts as itself). */
  private accessBits(st: BigIntStats, asked: number): number {
    const mode = Number(st.mode);
    const uid = Number(st.uid);
    const gid = Number(st.gid);
    const root = this.uid === 0;
    const cls = uid === this.uid ? 6 : this.gids.has(gid) ? 3 : 0;
    const bit = (b: number): boolean => (root && b !== 1 ? true : ((mode >> cls) & b) !== 0);
    const canX = root ? (mode & 0o111) !== 0 || st.isDirectory() : bit(1);
    const canR = bit(4);
    const canW = bit(2) && !this.readOnly;
    let granted = 0;
    if (st.isDirectory()) {
      if (canR) granted |= Access3.Read;
      if (canX) granted |= Access3.Lookup;
      if (canW) granted |= Access3.Modify | Access3.Extend | Access3.Delete;
    } else if (st.isSymbolicLink()) {
      granted |= Access3.Read;
    } else {
      if (canR) granted |= Access3.Read;
      if (canW) granted |= Access3.Modify | Access3.Extend;
      if (canX) granted |= Access3.Execute;
    }
    return granted & asked;
  }

  /** ACCESS (RFC 1813 §3.3.4). */
  private async access(r: XdrReader, w: XdrWriter): Promise<number> {
    const fh = readFh3(r);
    const asked = r.u32();
    if (!r.ok) return GARBAGE;
    const node = await this.fs.resolve(fh);
    if (typeof node === "number") {
      w.u32(node);
      writePostOpAttr(w, undefined);
      return node;
    }
    w.u32(Nfs3Status.Ok);
    writePostOpAttr(w, fattrOf(node.st));
    w.u32(this.accessBits(node.st, asked));
    return Nfs3Status.Ok;
  }

  /** READLINK (RFC 1813 §3.3.5): the link text, never followed. */
  private async readlink(r: XdrReader, w: XdrWriter): Promise<number> {
    const node = await this.resolveOnlyArg(r, w);
    if (typeof node === "number") return node;
    let status: Nfs3StatusCode = Nfs3Status.Inval;
    let text = "";
    if (node.st.isSymbolicLink()) {
      try {
        text = await readlink(node.abs);
        status = Nfs3Status.Ok;
      } catch (err) {
        status = statusOfError(err);
      }
    }
    w.u32(status);
    writePostOpAttr(w, fattrOf(node.st));
    if (status === Nfs3Status.Ok) w.string(text);
    return status;
  }

  /** READ (RFC 1813 §3.3.6). */
  private async read(r: XdrReader, w: XdrWriter): Promise<number> {
    const fh = readFh3(r);
    const offset = r.u64();
    const count = Math.min(r.u32(), NFS_MAX_TRANSFER);
    if (!r.ok) return GARBAGE;
    const node = await this.fs.resolve(fh);
    if (typeof node === "number") {
      w.u32(node);
      writePostOpAttr(w, undefined);
      return node;
    }
    const fail = (status: Nfs3StatusCode, attrs: Fattr3 | undefined): number => {
      w.u32(status);
      writePostOpAttr(w, attrs);
      return status;
    };
    if (!node.st.isFile())
      return fail(node.st.isDirectory() ? Nfs3Status.IsDir : Nfs3Status.Inval, fattrOf(node.st));
    const file = await this.openChecked(node, constants.O_RDONLY);
    if (typeof file === "number") return fail(file, fattrOf(node.st));
    try {
      const data = Buffer.allocUnsafe(count);
      let got = 0;
      while (got < count) {
        const { bytesRead } = await file.read(data, got, count - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      const st = await file.stat({ bigint: true });
      w.reserveCapacity(got + 128);
      w.u32(Nfs3Status.Ok);
      writePostOpAttr(w, fattrOf(st));
      w.u32(got);
      w.bool(BigInt(offset + got) >= st.size);
      w.opaqueVar(data.subarray(0, got));
      return Nfs3Status.Ok;
    } catch (err) {
      return fail(statusOfError(err), fattrOf(node.st));
    } finally {
      await file.close();
    }
  }

  /** WRITE (RFC 1813 §3.3.7): FILE_SYNC/DATA_SYNC sync before replying; a failed sync changes the verifier. */
  private async write(r: XdrReader, w: XdrWriter): Promise<number> {
    const fh = readFh3(r);
    const offset = r.u64();
    const count = r.u32();
    const stable = r.u32();
    const data = r.opaqueVar(NFS_MAX_TRANSFER);
    if (!r.ok || stable > StableHow.FileSync) return GARBAGE;
    const node = await this.fs.resolve(fh);
    if (typeof node === "number") {
      w.u32(node);
      writeWccData(w, undefined, undefined);
      return node;
    }
    const fail = (status: Nfs3StatusCode, pre: WccAttr | undefined, post: Fattr3 | undefined): number => {
      w.u32(status);
      writeWccData(w, pre, post);
      return status;
    };
    const pre0 = wccOf(node.st);
    if (this.readOnly) return fail(Nfs3Status.Rofs, pre0, fattrOf(node.st));
    if (!node.st.isFile()) {
      return fail(node.st.isDirectory() ? Nfs3Status.IsDir : Nfs3Status.Inval, pre0, fattrOf(node.st));
    }
    if (count > data.length) return fail(Nfs3Status.Inval, pre0, fattrOf(node.st));
    const file = await this.openChecked(node, constants.O_WRONLY);
    if (typeof file === "number") return fail(file, pre0, fattrOf(node.st));
    try {
      const pre = wccOf(await file.stat({ bigint: true }));
      let done = 0;
      while (done < count) {
        const { bytesWritten } = await file.write(data, done, count - done, offset + done);
        done += bytesWritten;
      }
      if (stable !== StableHow.Unstable) {
        try {
          await this.syncFile(file, stable === StableHow.DataSync);
        } catch (err) {
          this.changeWriteVerifier();
          return fail(statusOfError(err), pre, fattrOf(await file.stat({ bigint: true })));
        }
      }
      w.u32(Nfs3Status.Ok);
      writeWccData(w, pre, fattrOf(await file.stat({ bigint: true })));
      w.u32(count);
      w.u32(stable);
      w.opaqueFixed(this.verifier);
      return Nfs3Status.Ok;
    } catch (err) {
      return fail(statusOfError(err), pre0, await this.attrsAt(node.abs));
    } finally {
      await file.close();
    }
  }

  /** COMMIT (RFC 1813 §3.3.21): fsync the file; a failure changes the verifier. */
  private async commit(r: XdrReader, w: XdrWriter): Promise<number> {
    const fh = readFh3(r);
    r.u64(); // offset: the whole file is synced
    r.u32(); // count
    if (!r.ok) return GARBAGE;
    const node = await this.fs.resolve(fh);
    if (typeof node === "number") {
      w.u32(node);
      writeWccData(w, undefined, undefined);
      return node;
    }
    const pre = wccOf(node.st);
    const fail = (status: Nfs3StatusCode): number => {
      w.u32(status);
      writeWccData(w, pre, fattrOf(node.st));
      return status;
    };
    if (!node.st.isFile()) return fail(node.st.isDirectory() ? Nfs3Status.IsDir : Nfs3Status.Inval);
    const file = await this.openChecked(node, constants.O_RDONLY);
    if (typeof file === "number") return fail(file);
    try {
      try {
        await this.syncFile(file, false);
      } catch (err) {
        this.changeWriteVerifier();
        return fail(statusOfError(err));
      }
      w.u32(Nfs3Status.Ok);
      writeWccData(w, pre, fattrOf(await file.stat({ bigint: true })));
      w.opaqueFixed(this.verifier);
      return Nfs3Status.Ok;
    } finally {
      await file.close();
    }
  }

  /** Common front of CREATE/MKDIR/SYMLINK/MKNOD: the directory, the name, read-only check. */
  private async prepareCreate(
    w: XdrWriter,
    dirFh: Uint8Array,
    name: string,
  ): Promise<{ dir: FsNode; pre: WccAttr; rel: string } | number> {
    const dir = await this.fs.resolve(dirFh);
    if (typeof dir === "number") {
      w.u32(dir);
      writeWccData(w, undefined, undefined);
      return dir;
    }
    const pre = wccOf(dir.st);
    let status: Nfs3StatusCode = Nfs3Status.Ok;
    let rel: string | Nfs3StatusCode = "";
    if (!dir.st.isDirectory()) status = Nfs3Status.NotDir;
    else if (name === "." || name === "..") status = Nfs3Status.Exist;
    else {
      rel = this.fs.childRel(dir, name);
      if (typeof rel === "number") status = rel;
      else if (this.readOnly) status = Nfs3Status.Rofs;
    }
    if (status !== Nfs3Status.Ok || typeof rel === "number") {
      w.u32(status);
      writeWccData(w, pre, fattrOf(dir.st));
      return status;
    }
    return { dir, pre, rel };
  }

  /** Result of CREATE/MKDIR/SYMLINK: handle, attributes, directory wcc. */
  private async finishCreate(w: XdrWriter, dir: FsNode, pre: WccAttr, rel: string): Promise<number> {
    const node = await this.fs.stat(rel);
    this.fs.namespaceChanged();
    const dirAfter = await this.attrsAt(dir.abs);
    w.u32(Nfs3Status.Ok);
    if (typeof node === "number") {
      writePostOpFh(w, undefined);
      writePostOpAttr(w, undefined);
    } else {
      writePostOpFh(w, this.fs.handleOf(node));
      writePostOpAttr(w, fattrOf(node.st));
    }
    writeWccData(w, pre, dirAfter);
    return Nfs3Status.Ok;
  }

  /**
   * Decodes a procedure's only argument, a file handle, and resolves it (READLINK, FSSTAT, FSINFO,
   * PATHCONF). On failure the reply is written already — the status and an empty post_op_attr,
   * which is each of those procedures' failure body — and the status (or GARBAGE) comes back.
   */
  private async resolveOnlyArg(r: XdrReader, w: XdrWriter): Promise<FsNode | number> {
    const fh = readFh3(r);
    if (!r.ok) return GARBAGE;
    const node = await this.fs.resolve(fh);
    if (typeof node === "number") {
      w.u32(node);
      writePostOpAttr(w, undefined);
    }
    return node;
  }

  /**
   * A reply that is only a status and the wcc_data of `node` (RFC 1813: SETATTR, REMOVE, RMDIR,
   * and every failed CREATE/MKDIR/SYMLINK/MKNOD on its directory): the post-op attributes read now.
   */
  private async replyWcc(w: XdrWriter, status: number, node: FsNode, pre: WccAttr): Promise<number> {
    w.u32(status);
    writeWccData(w, pre, await this.attrsAt(node.abs));
    return status;
  }

  /**
   * CREATE (RFC 1813 §3.3.8). EXCLUSIVE stores the client's verifier in the new file's
   * atime/mtime seconds, as RFC 1813 suggests, so a retransmitted CREATE finds it and
   * succeeds; the client then sets the real attributes with SETATTR.
   */
  private async create(r: XdrReader, w: XdrWriter): Promise<number> {
    const dirFh = readFh3(r);
    const name = r.string(PATH_MAX);
    const how = r.u32();
    let sattr: Sattr3 = {};
    let verf: Uint8Array | undefined;
    if (how === CreateMode.Unchecked || how === CreateMode.Guarded) sattr = readSattr3(r);
    else if (how === CreateMode.Exclusive) verf = r.opaqueFixed(NFS3_VERF_SIZE);
    else r.fail();
    if (!r.ok) return GARBAGE;
    const prep = await this.prepareCreate(w, dirFh, name);
    if (typeof prep === "number") return prep;
    const { dir, pre, rel } = prep;
    const abs = this.fs.abs(rel);
    const base = constants.O_CREAT | constants.O_WRONLY | O_NOFOLLOW | O_NONBLOCK;
    if (verf !== undefined) {
      const hi = Buffer.from(verf).readUInt32BE(0);
      const lo = Buffer.from(verf).readUInt32BE(4);
      try {
        const fh = await open(abs, base | constants.O_EXCL, 0o600);
        try {
          await fh.utimes(hi, lo);
        } finally {
          await fh.close();
        }
      } catch (err) {
        const status = statusOfError(err);
        if (status !== Nfs3Status.Exist) return this.replyWcc(w, status, dir, pre);
        const existing = await this.fs.stat(rel);
        const replay =
          typeof existing !== "number" &&
          existing.st.isFile() &&
          existing.st.atimeNs / 1_000_000_000n === BigInt(hi) &&
          existing.st.mtimeNs / 1_000_000_000n === BigInt(lo);
        if (!replay) return this.replyWcc(w, Nfs3Status.Exist, dir, pre);
      }
      return this.finishCreate(w, dir, pre, rel);
    }
    try {
      const flags = how === CreateMode.Guarded ? base | constants.O_EXCL : base;
      const fh = await open(abs, flags, sattr.mode ?? 0o644);
      await fh.close();
    } catch (err) {
      const status = statusOfError(err);
      return this.replyWcc(w, status === Nfs3Status.IsDir ? Nfs3Status.Exist : status, dir, pre);
    }
    return this.finishCreateWithAttrs(w, dir, pre, rel, sattr);
  }

  /**
   * CREATE's and MKDIR's last step: the client's attributes applied to the new object (never its
   * owner: the server runs as one user), then the reply — or, if that fails, the failure body.
   */
  private async finishCreateWithAttrs(
    w: XdrWriter,
    dir: FsNode,
    pre: WccAttr,
    rel: string,
    sattr: Sattr3,
  ): Promise<number> {
    const node = await this.fs.stat(rel);
    if (typeof node !== "number") {
      const status = await this.applySattr(node, { ...sattr, uid: undefined, gid: undefined }, false);
      if (status !== Nfs3Status.Ok) return this.replyWcc(w, status, dir, pre);
    }
    return this.finishCreate(w, dir, pre, rel);
  }

  /** MKDIR (RFC 1813 §3.3.9). */
  private async mkdir(r: XdrReader, w: XdrWriter): Promise<number> {
    const dirFh = readFh3(r);
    const name = r.string(PATH_MAX);
    const sattr = readSattr3(r);
    if (!r.ok) return GARBAGE;
    const prep = await this.prepareCreate(w, dirFh, name);
    if (typeof prep === "number") return prep;
    const { dir, pre, rel } = prep;
    try {
      await mkdir(this.fs.abs(rel), sattr.mode ?? 0o755);
    } catch (err) {
      return this.replyWcc(w, statusOfError(err), dir, pre);
    }
    return this.finishCreateWithAttrs(w, dir, pre, rel, sattr);
  }

  /** SYMLINK (RFC 1813 §3.3.10): the text is stored as given; it is never followed by the server. */
  private async symlink(r: XdrReader, w: XdrWriter): Promise<number> {
    const dirFh = readFh3(r);
    const name = r.string(PATH_MAX);
    readSattr3(r); // symlink modes are meaningless on Linux
    const target = r.string(PATH_MAX);
    if (!r.ok) return GARBAGE;
    const prep = await this.prepareCreate(w, dirFh, name);
    if (typeof prep === "number") return prep;
    const { dir, pre, rel } = prep;
    if (target.length === 0 || target.includes("\0")) return this.replyWcc(w, Nfs3Status.Inval, dir, pre);
    try {
      await symlink(target, this.fs.abs(rel));
    } catch (err) {
      return this.replyWcc(w, statusOfError(err), dir, pre);
    }
    return this.finishCreate(w, dir, pre, rel);
  }

  /** MKNOD (RFC 1813 §3.3.11): arguments checked, then NFS3ERR_NOTSUPP (no device files on an export). */
  private async mknod(r: XdrReader, w: XdrWriter): Promise<number> {
    const dirFh = readFh3(r);
    const name = r.string(PATH_MAX);
    const type = r.u32();
    if (type === Ftype3.Chr || type === Ftype3.Blk) {
      readSattr3(r);
      r.u32();
      r.u32();
    } else if (type === Ftype3.Sock || type === Ftype3.Fifo) {
      readSattr3(r);
    } else if (type < Ftype3.Reg || type > Ftype3.Fifo) {
      r.fail();
    }
    if (!r.ok) return GARBAGE;
    const prep = await this.prepareCreate(w, dirFh, name);
    if (typeof prep === "number") return prep;
    const status = type >= Ftype3.Blk && type !== Ftype3.Lnk ? Nfs3Status.NotSupp : Nfs3Status.BadType;
    return this.replyWcc(w, status, prep.dir, prep.pre);
  }

  /** REMOVE and RMDIR (RFC 1813 §3.3.12–13). */
  private async remove(r: XdrReader, w: XdrWriter, isRmdir: boolean): Promise<number> {
    const dirFh = readFh3(r);
    const name = r.string(PATH_MAX);
    if (!r.ok) return GARBAGE;
    const dir = await this.fs.resolve(dirFh);
    if (typeof dir === "number") {
      w.u32(dir);
      writeWccData(w, undefined, undefined);
      return dir;
    }
    const pre = wccOf(dir.st);
    let status: Nfs3StatusCode;
    if (!dir.st.isDirectory()) status = Nfs3Status.NotDir;
    else if (name === ".") status = isRmdir ? Nfs3Status.Inval : Nfs3Status.Acces;
    else if (name === "..") status = isRmdir ? Nfs3Status.NotEmpty : Nfs3Status.Acces;
    else {
      const rel = this.fs.childRel(dir, name);
      if (typeof rel === "number") status = rel;
      else if (this.readOnly) status = Nfs3Status.Rofs;
      else {
        const victim = await this.fs.stat(rel);
        try {
          if (isRmdir) await rmdir(this.fs.abs(rel));
          else await unlink(this.fs.abs(rel));
          if (typeof victim !== "number") this.fs.forget(victim.st);
          status = Nfs3Status.Ok;
        } catch (err) {
          status = statusOfError(err);
        }
      }
    }
    return this.replyWcc(w, status, dir, pre);
  }

  /** RENAME (RFC 1813 §3.3.14), also across directories. */
  private async rename(r: XdrReader, w: XdrWriter): Promise<number> {
    const fromFh = readFh3(r);
    const fromName = r.string(PATH_MAX);
    const toFh = readFh3(r);
    const toName = r.string(PATH_MAX);
    if (!r.ok) return GARBAGE;
    const fromDir = await this.fs.resolve(fromFh);
    const toDir = await this.fs.resolve(toFh);
    const fromPre = typeof fromDir === "number" ? undefined : wccOf(fromDir.st);
    const toPre = typeof toDir === "number" ? undefined : wccOf(toDir.st);
    let status: Nfs3StatusCode;
    if (typeof fromDir === "number") status = fromDir;
    else if (typeof toDir === "number") status = toDir;
    else if (!fromDir.st.isDirectory() || !toDir.st.isDirectory()) status = Nfs3Status.NotDir;
    else if (fromName === "." || fromName === ".." || toName === "." || toName === "..")
      status = Nfs3Status.Inval;
    else {
      const fromRel = this.fs.childRel(fromDir, fromName);
      const toRel = this.fs.childRel(toDir, toName);
      if (typeof fromRel === "number") status = fromRel;
      else if (typeof toRel === "number") status = toRel;
      else if (this.readOnly) status = Nfs3Status.Rofs;
      else {
        const moving = await this.fs.stat(fromRel);
        const replaced = await this.fs.stat(toRel);
        try {
          await rename(this.fs.abs(fromRel), this.fs.abs(toRel));
          if (
            typeof replaced !== "number" &&
            (typeof moving === "number" || !sameFile(replaced.st, moving.st))
          ) {
            this.fs.forget(replaced.st);
          }
          if (typeof moving !== "number") this.fs.moved(moving.st, fromRel, toRel);
          status = Nfs3Status.Ok;
        } catch (err) {
          status = statusOfError(err);
        }
      }
    }
    w.u32(status);
    writeWccData(w, fromPre, typeof fromDir === "number" ? undefined : await this.attrsAt(fromDir.abs));
    writeWccData(w, toPre, typeof toDir === "number" ? undefined : await this.attrsAt(toDir.abs));
    return status;
  }

  /** LINK (RFC 1813 §3.3.15): a hard link inside the export. */
  private async link(r: XdrReader, w: XdrWriter): Promise<number> {
    const fileFh = readFh3(r);
    const dirFh = readFh3(r);
    const name = r.string(PATH_MAX);
    if (!r.ok) return GARBAGE;
    const file = await this.fs.resolve(fileFh);
    const dir = await this.fs.resolve(dirFh);
    const dirPre = typeof dir === "number" ? undefined : wccOf(dir.st);
    let status: Nfs3StatusCode;
    if (typeof file === "number") status = file;
    else if (typeof dir === "number") status = dir;
    else if (!dir.st.isDirectory()) status = Nfs3Status.NotDir;
    else if (file.st.isDirectory()) status = Nfs3Status.IsDir;
    else if (name === "." || name === "..") status = Nfs3Status.Exist;
    else {
      const rel = this.fs.childRel(dir, name);
      if (typeof rel === "number") status = rel;
      else if (this.readOnly) status = Nfs3Status.Rofs;
      else {
        try {
          await link(file.abs, this.fs.abs(rel));
          this.fs.namespaceChanged();
          status = Nfs3Status.Ok;
        } catch (err) {
          status = statusOfError(err);
        }
      }
    }
    w.u32(status);
    writePostOpAttr(w, typeof file === "number" ? undefined : await this.attrsAt(file.abs));
    writeWccData(w, dirPre, typeof dir === "number" ? undefined : await this.attrsAt(dir.abs));
    return status;
  }

  /**
   * READDIR (RFC 1813 §3.3.16) and READDIRPLUS (§3.3.17). `count`/`maxcount` bound the whole
   * reply (status included), `dircount` the entries' fileid+name+cookie bytes; a budget too
   * small for one entry is NFS3ERR_TOOSMALL. Entries start with "." and "..".
   */
  private async readdir(r: XdrReader, w: XdrWriter, plus: boolean): Promise<number> {
    const dirFh = readFh3(r);
    const cookie = r.u64();
    const verf = r.opaqueFixed(NFS3_VERF_SIZE);
    const first = r.u32();
    // A reply never exceeds one transfer size, whatever the client asks (RFC 1813 lets the
    // server return fewer entries); this bounds memory for huge directories.
    const maxcount = Math.min(plus ? r.u32() : first, NFS_MAX_TRANSFER);
    if (!r.ok) return GARBAGE;
    const dircount = plus && first > 0 ? first : Number.MAX_SAFE_INTEGER;
    const dir = await this.fs.resolve(dirFh);
    const fail = (status: Nfs3StatusCode, attrs: Fattr3 | undefined): number => {
      w.u32(status);
      writePostOpAttr(w, attrs);
      return status;
    };
    if (typeof dir === "number") return fail(dir, undefined);
    if (!dir.st.isDirectory()) return fail(Nfs3Status.NotDir, fattrOf(dir.st));
    const expectVerf = this.fs.cookieVerifier(dir.st);
    if (cookie !== 0 && verf.some((b) => b !== 0) && !Buffer.from(verf).equals(expectVerf)) {
      return fail(Nfs3Status.BadCookie, fattrOf(dir.st));
    }
    let entries: readonly ListingEntry[];
    try {
      entries = await this.listingOf(dir);
    } catch (err) {
      return fail(statusOfError(err), fattrOf(dir.st));
    }
    const parent = await this.fs.parentOf(dir);
    const parentNode = typeof parent === "number" ? dir : parent;
    // Virtual list: 0 = ".", 1 = "..", 2.. = entries.
    const total = entries.length + 2;
    let index = cookie < COOKIE_DOT ? 0 : cookie < COOKIE_DOTDOT ? 1 : 2 + firstAfter(entries, cookie);
    const entryAt = (i: number): ListingEntry =>
      i === 0
        ? { cookie: COOKIE_DOT, name: "." }
        : i === 1
          ? { cookie: COOKIE_DOTDOT, name: ".." }
          : entries[i - 2]!;
    let size = READDIR_FIXED;
    let dirBytes = 0;
    const page: { entry: ListingEntry; node: FsNode }[] = [];
    // Entries are stat'ed a batch at a time (file ids and, for READDIRPLUS, attributes);
    // names that vanished since the listing was read are skipped.
    fill: while (index < total) {
      const batch: ListingEntry[] = [];
      for (let i = index; i < total && batch.length < 64; i++) batch.push(entryAt(i));
      const nodes = await Promise.all(
        batch.map(async (e): Promise<FsNode | undefined> => {
          if (e.name === ".") return dir;
          if (e.name === "..") return parentNode;
          const n = await this.fs.stat(dir.rel === "" ? e.name : `${dir.rel}/${e.name}`);
          return typeof n === "number" ? undefined : n;
        }),
      );
      for (let k = 0; k < batch.length; k++) {
        const e = batch[k]!;
        const node = nodes[k];
        if (node !== undefined) {
          const info = 8 + xdrStringSize(e.name) + 8;
          const entrySize = 4 + info + (plus ? POST_OP_ATTR_SIZE + POST_OP_FH_SIZE : 0);
          if (size + entrySize > maxcount || dirBytes + info + 4 > dircount) break fill;
          size += entrySize;
          dirBytes += info + 4;
          page.push({ entry: e, node });
        }
        index++;
      }
    }
    const eof = index >= total;
    if (page.length === 0 && !eof) return fail(Nfs3Status.TooSmall, fattrOf(dir.st));
    w.u32(Nfs3Status.Ok);
    writePostOpAttr(w, fattrOf(dir.st));
    w.opaqueFixed(expectVerf);
    for (const { entry, node } of page) {
      w.bool(true);
      w.u64(node.st.ino);
      w.string(entry.name);
      w.u64(entry.cookie);
      if (plus) {
        writePostOpAttr(w, fattrOf(node.st));
        writePostOpFh(w, this.fs.handleOf(node));
      }
    }
    w.bool(false);
    w.bool(eof);
    return Nfs3Status.Ok;
  }

  private listingOf(dir: FsNode): Promise<readonly ListingEntry[]> {
    return this.listings.get(dir.abs, dir.st);
  }

  /** FSSTAT (RFC 1813 §3.3.18) from statfs(2) of the export root. */
  private async fsstat(r: XdrReader, w: XdrWriter): Promise<number> {
    const node = await this.resolveOnlyArg(r, w);
    if (typeof node === "number") return node;
    try {
      const s = await statfs(this.fs.root, { bigint: true });
      w.u32(Nfs3Status.Ok);
      writePostOpAttr(w, fattrOf(node.st));
      w.u64(s.blocks * s.bsize)
        .u64(s.bfree * s.bsize)
        .u64(s.bavail * s.bsize);
      w.u64(s.files).u64(s.ffree).u64(s.ffree);
      w.u32(0); // invarsec: the values may change at any time
      return Nfs3Status.Ok;
    } catch (err) {
      const status = statusOfError(err);
      w.u32(status);
      writePostOpAttr(w, fattrOf(node.st));
      return status;
    }
  }

  /** FSINFO (RFC 1813 §3.3.19). */
  private async fsinfo(r: XdrReader, w: XdrWriter): Promise<number> {
    const node = await this.resolveOnlyArg(r, w);
    if (typeof node === "number") return node;
    w.u32(Nfs3Status.Ok);
    writePostOpAttr(w, fattrOf(node.st));
    w.u32(NFS_MAX_TRANSFER).u32(PREFERRED_TRANSFER).u32(4096); // rtmax, rtpref, rtmult
    w.u32(NFS_MAX_TRANSFER).u32(PREFERRED_TRANSFER).u32(4096); // wtmax, wtpref, wtmult
    w.u32(DIR_PREFERRED);
    w.u64(0x7fffffffffffffffn); // maxfilesize
    w.u32(0).u32(1); // time_delta: 1 ns
    w.u32(FsfProps.Link | FsfProps.Symlink | FsfProps.Homogeneous | FsfProps.CanSetTime);
    return Nfs3Status.Ok;
  }

  /** PATHCONF (RFC 1813 §3.3.20), Linux/ext4 values. */
  private async pathconf(r: XdrReader, w: XdrWriter): Promise<number> {
    const node = await this.resolveOnlyArg(r, w);
    if (typeof node === "number") return node;
    w.u32(Nfs3Status.Ok);
    writePostOpAttr(w, fattrOf(node.st));
    w.u32(65000).u32(NAME_MAX); // linkmax (ext4 EXT4_LINK_MAX), name_max
    w.bool(true).bool(true).bool(false).bool(true); // no_trunc, chown_restricted, case_insensitive, case_preserving
    return Nfs3Status.Ok;
  }
}
