/**
 * The NFSv3 and MOUNT v3 procedures a guest needs (RFC 1813), over any transport that carries
 * one RPC call and returns its reply: the nfsif ring (`NfsFrontend`) or UDP datagrams through an
 * emulated NIC. Calls are encoded with the server's own XDR codec; an nfsstat3 other than
 * NFS3_OK becomes an `NfsError`, a failure below NFS an `NfsTransportError`.
 */
import { PvkitError } from "../../../guest-sdk/index.js";
import { MOUNT_PROGRAM, MOUNT_V3, Mount3Proc, MountStat3 } from "../mount3-proto.js";
import {
  CreateMode,
  type Fattr3,
  NFS_PROGRAM,
  NFS_V3,
  Nfs3Proc,
  Nfs3Status,
  nfs3StatusName,
  readFattr3,
  readFh3,
  readPostOpAttr,
  readWccData,
  type Sattr3,
  StableHow,
  writeSattr3,
} from "../nfs3-proto.js";
import type { XdrReader, XdrWriter } from "../rpc/xdr.js";

const PAGE_SIZE = 4096;

/** An nfsif request failed below NFS: an NFSIF_RSP_* status or an RPC-level rejection. */
export class NfsTransportError extends PvkitError {
  constructor(
    /** NFSIF_RSP_* status, or 0 for an RPC-level failure (accept_stat / denied). */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** An NFSv3 procedure answered with an error status (nfsstat3). */
export class NfsError extends PvkitError {
  constructor(
    readonly status: number,
    readonly procedure: string,
  ) {
    super(`NFS ${procedure} failed: ${nfs3StatusName(status)}`);
  }
}

/** A reply: its header's reader at the results, and READ data when some came outside the record. */
export interface RpcResult {
  readonly r: XdrReader;
  readonly data?: Uint8Array;
}

/** A transport for one RPC at a time: what `Nfs3Client` needs. */
export interface RpcCaller {
  /** Largest READ count one call may carry. */
  readonly maxRead: number;
  /** Reply pages a READ of `count` bytes needs on this transport (0 where data comes otherwise). */
  readReplyPages(count: number): number;
  /**
   * One call: writes the header and `args`, sends, and resolves with a reader at the results
   * (accept_stat SUCCESS checked). `replyPages` sizes the reply buffer on page transports;
   * `read` names the file and offset of a READ (for a page cache).
   */
  call(
    prog: number,
    vers: number,
    proc: number,
    args: (w: XdrWriter) => void,
    replyPages: number,
    read?: { fh: Uint8Array; offset: number },
  ): Promise<RpcResult>;
}

/** NFSv3 over an `RpcCaller`. */
export class Nfs3Client {
  /** Root handle after `mount`. */
  root: Uint8Array | null = null;

  constructor(private readonly t: RpcCaller) {}

  /** MOUNT v3 MNT of the back end's export; sets and returns the root handle. */
  async mount(path: string): Promise<Uint8Array> {
    const { r } = await this.t.call(MOUNT_PROGRAM, MOUNT_V3, Mount3Proc.Mnt, (w) => w.string(path), 1);
    const st = r.u32();
    if (st !== MountStat3.Ok) throw new NfsError(st, "MNT");
    const fh = readFh3(r);
    if (!r.ok) throw new NfsTransportError(0, "malformed MNT reply");
    this.root = fh.slice();
    return this.root;
  }

  async getattr(fh: Uint8Array): Promise<Fattr3> {
    const { r } = await this.t.call(NFS_PROGRAM, NFS_V3, Nfs3Proc.Getattr, (w) => w.opaqueVar(fh), 0);
    this.status(r, "GETATTR");
    return this.checked(r, readFattr3(r));
  }

  async lookup(dir: Uint8Array, name: string): Promise<{ fh: Uint8Array; attrs?: Fattr3 }> {
    const { r } = await this.t.call(
      NFS_PROGRAM,
      NFS_V3,
      Nfs3Proc.Lookup,
      (w) => w.opaqueVar(dir).string(name),
      1,
    );
    this.status(r, "LOOKUP");
    const fh = readFh3(r).slice();
    const attrs = readPostOpAttr(r);
    return this.checked(r, attrs === undefined ? { fh } : { fh, attrs });
  }

  /** Creates (UNCHECKED: truncates an existing file to the given attributes) and returns the handle. */
  async create(dir: Uint8Array, name: string, mode = 0o644): Promise<Uint8Array> {
    const { r } = await this.t.call(
      NFS_PROGRAM,
      NFS_V3,
      Nfs3Proc.Create,
      (w) => {
        w.opaqueVar(dir).string(name).u32(CreateMode.Unchecked);
        writeSattr3(w, { mode, size: 0 });
      },
      1,
    );
    this.status(r, "CREATE");
    if (r.bool()) {
      const fh = readFh3(r).slice();
      return this.checked(r, fh);
    }
    return (await this.lookup(dir, name)).fh;
  }

  async remove(dir: Uint8Array, name: string): Promise<void> {
    const { r } = await this.t.call(
      NFS_PROGRAM,
      NFS_V3,
      Nfs3Proc.Remove,
      (w) => w.opaqueVar(dir).string(name),
      1,
    );
    this.status(r, "REMOVE");
  }

  async setattr(fh: Uint8Array, attrs: Sattr3): Promise<void> {
    const { r } = await this.t.call(
      NFS_PROGRAM,
      NFS_V3,
      Nfs3Proc.Setattr,
      (w) => {
        w.opaqueVar(fh);
        writeSattr3(w, attrs);
        w.bool(false); // guard: none
      },
      1,
    );
    this.status(r, "SETATTR");
  }

  /** WRITE (FILE_SYNC by default); returns the count written. */
  async write(
    fh: Uint8Array,
    offset: number,
    data: Uint8Array,
    stable: number = StableHow.FileSync,
  ): Promise<number> {
    const { r } = await this.t.call(
      NFS_PROGRAM,
      NFS_V3,
      Nfs3Proc.Write,
      (w) => {
        w.reserveCapacity(data.length + 128);
        w.opaqueVar(fh).u64(offset).u32(data.length).u32(stable).opaqueVar(data);
      },
      1,
    );
    this.status(r, "WRITE");
    readWccData(r);
    const count = r.u32();
    return this.checked(r, count);
  }

  /** READ of at most `maxRead` bytes (a short read near EOF is normal). */
  async read(fh: Uint8Array, offset: number, count: number): Promise<{ data: Uint8Array; eof: boolean }> {
    // Page transports carry at most maxRead bytes of whole pages: an unaligned start costs room.
    const room = this.t.maxRead >= PAGE_SIZE ? this.t.maxRead - (offset % PAGE_SIZE) : this.t.maxRead;
    const n = Math.min(count, room);
    const replyPages = this.t.readReplyPages(n);
    const { r, data } = await this.t.call(
      NFS_PROGRAM,
      NFS_V3,
      Nfs3Proc.Read,
      (w) => w.opaqueVar(fh).u64(offset).u32(n),
      replyPages,
      { fh, offset },
    );
    this.status(r, "READ");
    readPostOpAttr(r);
    const got = r.u32();
    const eof = r.bool();
    if (data !== undefined) return this.checked(r, { data: data.subarray(0, got), eof });
    // The back end let the server answer inline (no cache): the bytes are in the record.
    const bytes = r.opaqueVar(1 << 20);
    return this.checked(r, { data: bytes.slice(), eof });
  }

  /** Reads a whole file in `maxRead` pieces. */
  async readFile(fh: Uint8Array): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const { data, eof } = await this.read(fh, offset, this.t.maxRead);
      parts.push(data);
      offset += data.length;
      if (eof || data.length === 0) break;
    }
    const out = new Uint8Array(offset);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** READDIR of a whole directory: the names (without "." and ".."). */
  async readdir(dir: Uint8Array): Promise<string[]> {
    const names: string[] = [];
    let cookie = 0n;
    let verf: Uint8Array = new Uint8Array(8);
    for (;;) {
      const { r } = await this.t.call(
        NFS_PROGRAM,
        NFS_V3,
        Nfs3Proc.Readdir,
        (w) => w.opaqueVar(dir).u64(cookie).opaqueFixed(verf).u32(3800),
        1,
      );
      this.status(r, "READDIR");
      readPostOpAttr(r);
      verf = r.opaqueFixed(8).slice();
      while (r.bool()) {
        r.u64big(); // fileid
        const name = r.string(255);
        cookie = r.u64big();
        if (name !== "." && name !== "..") names.push(name);
      }
      const eof = r.bool();
      this.checked(r, 0);
      if (eof) return names;
    }
  }

  private status(r: XdrReader, proc: string): void {
    const st = r.u32();
    if (!r.ok) throw new NfsTransportError(0, `malformed ${proc} reply`);
    if (st !== Nfs3Status.Ok) throw new NfsError(st, proc);
  }

  private checked<T>(r: XdrReader, v: T): T {
    if (!r.ok) throw new NfsTransportError(0, "malformed NFS reply");
    return v;
  }
}
