/**
 * A small ONC RPC client for the tests: TCP with record marking, xid matching, raw access to
 * replies, and typed wrappers for the NFSv3/MOUNT procedures the tests call.
 */
import net from "node:net";
import {
  AuthFlavor,
  encodeRecord,
  type Fattr3,
  MOUNT_PROGRAM,
  MOUNT_V3,
  Mount3Proc,
  NFS_PROGRAM,
  NFS_V3,
  Nfs3Proc,
  RecordMarkingDecoder,
  readFattr3,
  readPostOpAttr,
  readWccData,
  type Sattr3,
  writeSattr3,
  XdrReader,
  XdrWriter,
} from "../../../../src/pv-drivers/index.js";

/** Credentials a test call carries. */
export type TestCred =
  | { kind: "none" }
  | { kind: "sys"; uid: number; gid: number; machine?: string; gids?: number[] }
  | { kind: "raw"; flavor: number; body: Uint8Array };

export const SYS_CRED: TestCred = {
  kind: "sys",
  uid: 1000,
  gid: 1000,
  machine: "testhost",
  gids: [1000, 27],
};

/** A decoded reply header plus a reader at the results. */
export interface RpcReply {
  readonly xid: number;
  /** 0 accepted, 1 denied. */
  readonly replyStat: number;
  /** accept_stat when accepted. */
  readonly acceptStat: number;
  /** reject_stat when denied. */
  readonly rejectStat: number;
  /** Reader positioned after the accept_stat / reject_stat. */
  readonly r: XdrReader;
}

export function encodeCall(
  xid: number,
  prog: number,
  vers: number,
  proc: number,
  args: (w: XdrWriter) => void,
  cred: TestCred = SYS_CRED,
  rpcvers = 2,
): Uint8Array {
  const w = new XdrWriter();
  w.u32(xid).u32(0).u32(rpcvers).u32(prog).u32(vers).u32(proc);
  if (cred.kind === "none") w.u32(AuthFlavor.None).u32(0);
  else if (cred.kind === "sys") {
    const b = new XdrWriter();
    b.u32(12345)
      .string(cred.machine ?? "testhost")
      .u32(cred.uid)
      .u32(cred.gid);
    const gids = cred.gids ?? [];
    b.u32(gids.length);
    for (const g of gids) b.u32(g);
    w.u32(AuthFlavor.Sys).opaqueVar(b.toBytes());
  } else w.u32(cred.flavor).opaqueVar(cred.body);
  w.u32(AuthFlavor.None).u32(0);
  args(w);
  return w.toBytes();
}

export function decodeReply(bytes: Uint8Array): RpcReply {
  const r = new XdrReader(bytes);
  const xid = r.u32();
  r.u32(); // REPLY
  const replyStat = r.u32();
  let acceptStat = -1;
  let rejectStat = -1;
  if (replyStat === 0) {
    r.u32();
    r.opaqueVar(400);
    acceptStat = r.u32();
  } else rejectStat = r.u32();
  return { xid, replyStat, acceptStat, rejectStat, r };
}

/** TCP RPC connection. */
export class RpcClient {
  private xid = 0x1000;
  private readonly waiting = new Map<number, (b: Uint8Array) => void>();
  private readonly anyReply: ((b: Uint8Array) => void)[] = [];
  private readonly decoder = new RecordMarkingDecoder(64 * 1024 * 1024);
  closed = false;
  private readonly closeWaiters: (() => void)[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk) => {
      for (const rec of this.decoder.push(chunk).records) {
        const xid = new DataView(rec.buffer, rec.byteOffset).getUint32(0, false);
        const waiter = this.waiting.get(xid);
        if (waiter !== undefined) {
          this.waiting.delete(xid);
          waiter(rec);
        } else this.anyReply.shift()?.(rec);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      for (const c of this.closeWaiters) c();
    });
  }

  static connect(port: number): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(new RpcClient(s)));
      s.once("error", reject);
    });
  }

  /** Sends a call and waits for its reply. */
  async call(
    prog: number,
    vers: number,
    proc: number,
    args: (w: XdrWriter) => void = () => {},
    cred?: TestCred,
  ): Promise<RpcReply> {
    const xid = this.xid++;
    const rec = encodeCall(xid, prog, vers, proc, args, cred);
    return decodeReply(await this.sendRecord(rec, xid));
  }

  /** Sends a record (framed as fragments of `maxFragment` bytes) and waits for the reply with `xid`. */
  sendRecord(record: Uint8Array, xid: number, maxFragment?: number): Promise<Uint8Array> {
    return new Promise((resolve) => {
      this.waiting.set(xid, resolve);
      this.socket.write(encodeRecord(record, maxFragment));
    });
  }

  /** Writes raw bytes; resolves with the next reply, or null if the server closes or stays silent. */
  sendRaw(bytes: Uint8Array, timeoutMs = 300): Promise<Uint8Array | null> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: Uint8Array | null): void => {
        if (!done) {
          done = true;
          resolve(v);
        }
      };
      this.anyReply.push(finish);
      this.closeWaiters.push(() => finish(null));
      setTimeout(() => finish(null), timeoutMs);
      this.socket.write(bytes);
    });
  }

  nextXid(): number {
    return this.xid++;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Results the tests look at. */
export interface LookupResult {
  status: number;
  fh?: Uint8Array;
  attrs?: Fattr3;
}

/** NFSv3 + MOUNT wrappers over an RpcClient. */
export class Nfs3TestClient {
  constructor(readonly rpc: RpcClient) {}

  async mount(path: string): Promise<{ status: number; fh?: Uint8Array; flavors?: number[] }> {
    const rep = await this.rpc.call(MOUNT_PROGRAM, MOUNT_V3, Mount3Proc.Mnt, (w) => w.string(path));
    const status = rep.r.u32();
    if (status !== 0) return { status };
    const fh = rep.r.opaqueVar(64).slice();
    const n = rep.r.u32();
    const flavors: number[] = [];
    for (let i = 0; i < n; i++) flavors.push(rep.r.u32());
    return { status, fh, flavors };
  }

  nfs(proc: number, args: (w: XdrWriter) => void, cred?: TestCred): Promise<RpcReply> {
    return this.rpc.call(NFS_PROGRAM, NFS_V3, proc, args, cred);
  }

  async getattr(fh: Uint8Array): Promise<{ status: number; attrs?: Fattr3 }> {
    const { r } = await this.nfs(Nfs3Proc.Getattr, (w) => w.opaqueVar(fh));
    const status = r.u32();
    return status === 0 ? { status, attrs: readFattr3(r) } : { status };
  }

  async lookup(dir: Uint8Array, name: string): Promise<LookupResult> {
    const { r } = await this.nfs(Nfs3Proc.Lookup, (w) => w.opaqueVar(dir).string(name));
    const status = r.u32();
    if (status !== 0) return { status };
    const fh = r.opaqueVar(64).slice();
    return { status, fh, attrs: readPostOpAttr(r) };
  }

  async create(
    dir: Uint8Array,
    name: string,
    how: { mode: 0 | 1; sattr?: Sattr3 } | { mode: 2; verf: Uint8Array },
  ): Promise<LookupResult & { dirAfter?: Fattr3 }> {
    const { r } = await this.nfs(Nfs3Proc.Create, (w) => {
      w.opaqueVar(dir).string(name).u32(how.mode);
      if (how.mode === 2) w.opaqueFixed(how.verf);
      else writeSattr3(w, how.sattr ?? { mode: 0o644 });
    });
    return this.createResult(r);
  }

  createResult(r: XdrReader): LookupResult & { dirAfter?: Fattr3 } {
    const status = r.u32();
    if (status !== 0) {
      const wcc = readWccData(r);
      return { status, dirAfter: wcc.after };
    }
    const fh = r.bool() ? r.opaqueVar(64).slice() : undefined;
    const attrs = readPostOpAttr(r);
    const wcc = readWccData(r);
    return { status, fh, attrs, dirAfter: wcc.after };
  }

  async mkdir(dir: Uint8Array, name: string, mode = 0o755): Promise<LookupResult> {
    const { r } = await this.nfs(Nfs3Proc.Mkdir, (w) => {
      w.opaqueVar(dir).string(name);
      writeSattr3(w, { mode });
    });
    return this.createResult(r);
  }

  async write(
    fh: Uint8Array,
    offset: number,
    data: Uint8Array,
    stable: number,
  ): Promise<{ status: number; count?: number; committed?: number; verf?: Uint8Array; after?: Fattr3 }> {
    const { r } = await this.nfs(Nfs3Proc.Write, (w) =>
      w.opaqueVar(fh).u64(offset).u32(data.length).u32(stable).opaqueVar(data),
    );
    const status = r.u32();
    const wcc = readWccData(r);
    if (status !== 0) return { status, after: wcc.after };
    return { status, count: r.u32(), committed: r.u32(), verf: r.opaqueFixed(8).slice(), after: wcc.after };
  }

  async commit(fh: Uint8Array): Promise<{ status: number; verf?: Uint8Array }> {
    const { r } = await this.nfs(Nfs3Proc.Commit, (w) => w.opaqueVar(fh).u64(0).u32(0));
    const status = r.u32();
    readWccData(r);
    return status === 0 ? { status, verf: r.opaqueFixed(8).slice() } : { status };
  }

  async read(
    fh: Uint8Array,
    offset: number,
    count: number,
  ): Promise<{ status: number; data?: Uint8Array; eof?: boolean }> {
    const { r } = await this.nfs(Nfs3Proc.Read, (w) => w.opaqueVar(fh).u64(offset).u32(count));
    const status = r.u32();
    readPostOpAttr(r);
    if (status !== 0) return { status };
    const n = r.u32();
    const eof = r.bool();
    const data = r.opaqueVar(1 << 24).slice();
    expectLength(n, data.length);
    return { status, data, eof };
  }

  /** Simple status-only call: writes args, returns nfsstat3 and the reader after it. */
  async status(proc: number, args: (w: XdrWriter) => void): Promise<{ status: number; r: XdrReader }> {
    const { r } = await this.nfs(proc, args);
    return { status: r.u32(), r };
  }

  /**
   * Reads a whole directory with READDIR (plus=false) or READDIRPLUS, page by page,
   * returning every name with its cookie and the number of pages.
   */
  async readdirAll(
    dir: Uint8Array,
    plus: boolean,
    count: number,
  ): Promise<{ names: string[]; pages: number; handles: number; status: number }> {
    let cookie = 0n;
    let verf = new Uint8Array(8);
    const names: string[] = [];
    let pages = 0;
    let handles = 0;
    for (;;) {
      const { r } = await this.nfs(plus ? 17 : 16, (w) => {
        w.opaqueVar(dir).u64(cookie).opaqueFixed(verf).u32(count);
        if (plus) w.u32(count * 4);
      });
      const status = r.u32();
      readPostOpAttr(r);
      if (status !== 0) return { names, pages, handles, status };
      verf = r.opaqueFixed(8).slice();
      pages++;
      while (r.bool()) {
        r.u64big();
        names.push(r.string(1024));
        cookie = r.u64big();
        if (plus) {
          readPostOpAttr(r);
          if (r.bool()) {
            r.opaqueVar(64);
            handles++;
          }
        }
      }
      const eof = r.bool();
      if (!r.ok) throw new Error("bad READDIR reply");
      if (eof) return { names, pages, handles, status: 0 };
    }
  }
}

function expectLength(a: number, b: number): void {
  if (a !== b) throw new Error(`READ count ${a} != data length ${b}`);
}
