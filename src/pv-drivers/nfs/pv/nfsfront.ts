/**
 * The nfsif front end in a TypeScript guest: a small typed NFSv3 client whose calls are genuine
 * ONC RPC records (encoded with the server's own XDR codec) carried on one shared ring.
 *
 * Handshake (RingFrontend): ring-ref, event-channel and `read-path` (map | copy); once the back
 * end is Connected, `export-path` and `max-read` are read from its directory.
 *
 * Each call takes buffer pages from a fixed pool: a call record longer than the inline area
 * goes in pages granted read-only; a reply expected to be long gets writable reply pages. On the
 * map read path READ data arrives as read-only grants of the driver domain's buffer-cache
 * frames: the front end maps them into its own page cache (LRU) and keeps them mapped, so a
 * later READ that names the same grant costs no map at all, and N guests reading one file hold
 * one set of machine frames between them. A new grant for a cached page means the back end
 * dropped the old frame: the old mapping is unmapped and the new one mapped. On the copy path the
 * data is grant-copied into the guest's own pages, which its page cache then keeps (one private
 * copy per guest, as without Disco's optimization).
 */
import { type GrantMapping, type PvEnv, RingFrontend, XenbusError } from "../../../guest-sdk/index.js";
import { type Fattr3, type Sattr3, StableHow } from "../nfs3-proto.js";
import { AcceptStat } from "../rpc/rpc-msg.js";
import { XdrWriter } from "../rpc/xdr.js";
import { Nfs3Client, NfsTransportError, type RpcCaller, type RpcResult } from "./nfs3-client.js";
import type { NfsReadPath } from "./nfsback.js";
import {
  inlineReplySegRoom,
  NFSIF_INLINE_REQUEST,
  NFSIF_MAX_READ,
  NFSIF_MAX_RECORD,
  NfsifOp,
  type NfsifRequest,
  type NfsifResponse,
  NfsifRspFlag,
  NfsifStatus,
  nfsifProtocol,
  nfsifStatusName,
} from "./nfsif.js";
import { type AuthSys, authSysBody, readReplyHeader, writeCallHeader } from "./rpc-call.js";

const PAGE_SIZE = 4096;

export interface NfsFrontendOptions {
  devid?: number;
  /** "map" (Disco's shared buffer cache, default) or "copy" (private copies). */
  readPath?: NfsReadPath;
  /** Own pages for call records and reply pages. Default 40. */
  bufferPages?: number;
  /** Pages the guest's page cache keeps (mapped cache frames or private copies). Default 64. */
  cachePages?: number;
  /** AUTH_SYS identity of the calls. Default uid/gid 1000, machine "pvkit-dom<domid>". */
  auth?: AuthSys;
}

/** What the front end did. */
export interface NfsFrontendCounters {
  calls: number;
  /** GNTTABOP_map_grant_ref of cache frames, and READ pages served by an existing mapping. */
  maps: number;
  mapReuses: number;
  unmaps: number;
  /** READ data bytes taken from mapped cache frames / from copies in own pages. */
  bytesFromMappings: number;
  bytesFromCopies: number;
}

/** One page of the guest's page cache. */
type CacheEntry = { kind: "map"; ref: number; mapping: GrantMapping } | { kind: "own"; pfn: number };

export class NfsFrontend extends RingFrontend<NfsifRequest, NfsifResponse> implements RpcCaller {
  readonly counters: NfsFrontendCounters = {
    calls: 0,
    maps: 0,
    mapReuses: 0,
    unmaps: 0,
    bytesFromMappings: 0,
    bytesFromCopies: 0,
  };
  readonly readPath: NfsReadPath;
  exportPath = "";
  maxRead = NFSIF_MAX_READ;
  /** The NFSv3 procedures over this front end's `call`. */
  readonly nfs3: Nfs3Client;
  /** The guest's page cache: `${fh hex}:${page}` → entry, in LRU order (oldest first). */
  readonly pageCache = new Map<string, CacheEntry>();
  private readonly cachePages: number;
  private readonly bufferPages: number;
  private readonly credBody: Uint8Array;
  private readonly free: number[] = [];
  private readonly pageWaiters: { n: number; resolve: (p: number[]) => void }[] = [];
  private nextId = 1;
  private nextXid: number;

  constructor(env: PvEnv, opts: NfsFrontendOptions = {}) {
    super(env, "vnfs", opts.devid ?? 0, nfsifProtocol);
    this.readPath = opts.readPath ?? "map";
    this.bufferPages = opts.bufferPages ?? 40;
    this.cachePages = opts.cachePages ?? 64;
    this.credBody = authSysBody(
      opts.auth ?? { uid: 1000, gid: 1000, machineName: `pvkit-dom${env.domid}`, gids: [1000] },
    );
    this.nextXid = (env.domid << 24) >>> 0;
    this.nfs3 = new Nfs3Client(this);
  }

  protected override async setup(backendId: number): Promise<Record<string, string>> {
    for (let i = 0; i < this.bufferPages; i++) {
      const pfn = this.env.ctx.allocPage();
      if (pfn < 0)
        throw new XenbusError(
          `nfsfront: only ${i} of ${this.bufferPages} buffer pages are free; give the domain more pages`,
        );
      this.free.push(pfn);
    }
    const keys = await super.setup(backendId);
    return { ...keys, "read-path": this.readPath };
  }

  protected override async connected(): Promise<void> {
    const key = (k: string) => this.env.store.tryRead(`${this.backendDir}/${k}`);
    this.exportPath = (await key("export-path")) ?? "";
    const max = Number(await key("max-read"));
    if (Number.isSafeInteger(max) && max > 0) this.maxRead = Math.min(max, NFSIF_MAX_READ);
  }

  protected override async teardown(): Promise<void> {
    await this.dropPageCache();
    await super.teardown();
  }

  /** Unmaps every cached mapping and returns private copies to the pool. */
  async dropPageCache(): Promise<void> {
    for (const e of this.pageCache.values()) await this.release(e);
    this.pageCache.clear();
  }

  // --- NFSv3 (the procedures live in Nfs3Client, over this front end's `call`) ----------------

  /** Root handle after `mount`. */
  get root(): Uint8Array | null {
    return this.nfs3.root;
  }
  mount(path = this.exportPath): Promise<Uint8Array> {
    return this.nfs3.mount(path);
  }
  getattr(fh: Uint8Array): Promise<Fattr3> {
    return this.nfs3.getattr(fh);
  }
  lookup(dir: Uint8Array, name: string): Promise<{ fh: Uint8Array; attrs?: Fattr3 }> {
    return this.nfs3.lookup(dir, name);
  }
  create(dir: Uint8Array, name: string, mode = 0o644): Promise<Uint8Array> {
    return this.nfs3.create(dir, name, mode);
  }
  remove(dir: Uint8Array, name: string): Promise<void> {
    return this.nfs3.remove(dir, name);
  }
  setattr(fh: Uint8Array, attrs: Sattr3): Promise<void> {
    return this.nfs3.setattr(fh, attrs);
  }
  write(
    fh: Uint8Array,
    offset: number,
    data: Uint8Array,
    stable: number = StableHow.FileSync,
  ): Promise<number> {
    return this.nfs3.write(fh, offset, data, stable);
  }
  read(fh: Uint8Array, offset: number, count: number): Promise<{ data: Uint8Array; eof: boolean }> {
    return this.nfs3.read(fh, offset, count);
  }
  readFile(fh: Uint8Array): Promise<Uint8Array> {
    return this.nfs3.readFile(fh);
  }
  readdir(dir: Uint8Array): Promise<string[]> {
    return this.nfs3.readdir(dir);
  }

  // --- the RPC step ----------------------------------------------------------------------------

  /** Copy path: the data comes back in reply pages; map path: as grants. */
  readReplyPages(count: number): number {
    return this.readPath === "copy" ? Math.ceil(count / PAGE_SIZE) : 0;
  }

  /**
   * One RPC over the ring: encodes the call, places the record inline or in granted pages,
   * provides `replyPages` writable pages, waits, and returns a reader at the procedure results
   * (accept_stat SUCCESS checked). `read` names the file and offset of a READ for the page cache.
   */
  async call(
    prog: number,
    vers: number,
    proc: number,
    args: (w: XdrWriter) => void,
    replyPages: number,
    read?: { fh: Uint8Array; offset: number },
  ): Promise<RpcResult> {
    const w = new XdrWriter(512);
    const xid = this.nextXid;
    this.nextXid = (this.nextXid + 1) >>> 0;
    writeCallHeader(w, xid, prog, vers, proc, this.credBody);
    args(w);
    const record = w.bytes();
    if (record.length > NFSIF_MAX_RECORD)
      throw new NfsTransportError(
        NfsifStatus.TooBig,
        `call record of ${record.length} bytes exceeds ${NFSIF_MAX_RECORD}`,
      );
    const inline = record.length <= NFSIF_INLINE_REQUEST && replyPages <= inlineReplySegRoom(record.length);
    const callPages = inline ? 0 : Math.ceil(record.length / PAGE_SIZE);
    const pages = await this.takePages(callPages + replyPages);
    const grants: number[] = [];
    let keep = -1; // copy path: reply pages [keep, keep + keepN) become page-cache pages
    let keepN = 0;
    try {
      this.counters.calls++;
      const rsp = await this.sendCall(record, inline, callPages, replyPages, pages, grants);
      if (rsp.status !== NfsifStatus.Okay)
        throw new NfsTransportError(rsp.status, nfsifStatusName(rsp.status));
      let replyBytes: Uint8Array;
      if ((rsp.flags & NfsifRspFlag.ReplyInPages) !== 0) {
        if (rsp.recordLen > replyPages * PAGE_SIZE)
          throw new NfsTransportError(0, `reply of ${rsp.recordLen} bytes overruns the reply pages`);
        replyBytes = this.gather(pages.slice(callPages), 0, rsp.recordLen);
      } else replyBytes = rsp.inline;
      const h = readReplyHeader(replyBytes);
      if (h.kind === "malformed") throw new NfsTransportError(0, `malformed RPC reply: ${h.reason}`);
      if (h.kind === "denied")
        throw new NfsTransportError(0, `RPC call denied (reject_stat ${h.rejectStat})`);
      if (h.acceptStat !== AcceptStat.Success)
        throw new NfsTransportError(0, `RPC call not accepted: accept_stat ${h.acceptStat}`);
      if (h.xid !== xid) throw new NfsTransportError(0, `reply xid ${h.xid} does not match call ${xid}`);
      let data: Uint8Array | undefined;
      if (rsp.dataGrefs.length > 0 && read !== undefined) {
        data = await this.fromMappings(read.fh, read.offset, rsp);
      } else if ((rsp.flags & NfsifRspFlag.DataInReplyPages) !== 0 && read !== undefined) {
        if (rsp.dataLen > replyPages * PAGE_SIZE)
          throw new NfsTransportError(0, `READ data of ${rsp.dataLen} bytes overruns the reply pages`);
        const own = pages.slice(callPages);
        data = this.gather(own, 0, rsp.dataLen);
        this.counters.bytesFromCopies += rsp.dataLen;
        if (read.offset % PAGE_SIZE === 0) {
          keep = callPages;
          keepN = Math.ceil(rsp.dataLen / PAGE_SIZE);
        }
      } else if (rsp.dataLen > 0) {
        data = new Uint8Array(0);
      }
      return data === undefined ? { r: h.r } : { r: h.r, data };
    } finally {
      const back: number[] = [];
      for (let i = 0; i < pages.length; i++) {
        const g = grants[i];
        try {
          if (g !== undefined) this.env.grants.endAccess(g);
          if (keep >= 0 && i >= keep && i < keep + keepN && read !== undefined) {
            this.keepOwn(read.fh, read.offset / PAGE_SIZE + (i - keep), pages[i]!);
            continue;
          }
          back.push(pages[i]!);
        } catch {
          // Still mapped by the back end: never reuse that page.
        }
      }
      this.givePages(back);
    }
  }

  /**
   * Sends any bytes as a call record (inline when they fit, else in granted pages) with
   * `replyPages` reply pages; resolves with the nfsif status and the reply record, if any. For
   * tools and tests of malformed records: no RPC checks.
   */
  async sendRecord(
    record: Uint8Array,
    replyPages = 1,
  ): Promise<{ status: number; reply: Uint8Array | null }> {
    const inline = record.length <= NFSIF_INLINE_REQUEST && replyPages <= inlineReplySegRoom(record.length);
    const callPages = inline ? 0 : Math.ceil(record.length / PAGE_SIZE);
    const pages = await this.takePages(callPages + replyPages);
    const grants: number[] = [];
    try {
      const rsp = await this.sendCall(record, inline, callPages, replyPages, pages, grants);
      if (rsp.status !== NfsifStatus.Okay) return { status: rsp.status, reply: null };
      const reply =
        (rsp.flags & NfsifRspFlag.ReplyInPages) !== 0
          ? this.gather(pages.slice(callPages), 0, Math.min(rsp.recordLen, replyPages * PAGE_SIZE))
          : rsp.inline;
      return { status: rsp.status, reply };
    } finally {
      const back: number[] = [];
      for (let i = 0; i < pages.length; i++) {
        try {
          const g = grants[i];
          if (g !== undefined) this.env.grants.endAccess(g);
          back.push(pages[i]!);
        } catch {
          // still mapped by the back end: never reuse
        }
      }
      this.givePages(back);
    }
  }

  /**
   * One nfsif CALL: writes the record into the call pages (unless it goes inline), grants them
   * read-only and the reply pages writable to the back end, and sends the request. `grants` is
   * filled as it goes, so the caller's cleanup ends every grant made even if this throws.
   */
  private sendCall(
    record: Uint8Array,
    inline: boolean,
    callPages: number,
    replyPages: number,
    pages: readonly number[],
    grants: number[],
  ): Promise<NfsifResponse> {
    for (let i = 0; i < callPages; i++) {
      this.env.ctx.mem.writeBytes(pages[i]! * PAGE_SIZE, record.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
      grants.push(this.env.grants.grantAccess(this.backendId, pages[i]!, true));
    }
    for (let i = 0; i < replyPages; i++)
      grants.push(this.env.grants.grantAccess(this.backendId, pages[callPages + i]!, false));
    const id = this.nextId;
    this.nextId = (this.nextId % 0x7fffffff) + 1;
    return this.request({
      id,
      operation: NfsifOp.Call,
      nrSegs: callPages,
      nrReplySegs: replyPages,
      flags: 0,
      recordLen: record.length,
      replyMax: Math.max(replyPages * PAGE_SIZE, 164),
      inline: inline ? record : new Uint8Array(0),
      grefs: grants.slice(),
    });
  }

  /** Sends a request as is (tests of hostile requests); resolves with the raw response. */
  raw(req: NfsifRequest): Promise<NfsifResponse> {
    return this.request(req);
  }

  // --- internals -----------------------------------------------------------------------------

  /** Bytes [off, off+len) of the concatenated own pages. */
  private gather(pfns: number[], off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const at = off + done;
      const n = Math.min(len - done, PAGE_SIZE - (at % PAGE_SIZE));
      out.set(
        this.env.ctx.mem.readBytes(pfns[Math.floor(at / PAGE_SIZE)]! * PAGE_SIZE + (at % PAGE_SIZE), n),
        done,
      );
      done += n;
    }
    return out;
  }

  /** READ data from cache frames: reuse a mapping whose grant is unchanged, else (re)map. */
  private async fromMappings(fh: Uint8Array, offset: number, rsp: NfsifResponse): Promise<Uint8Array> {
    const key = Buffer.from(fh.buffer, fh.byteOffset, fh.byteLength).toString("hex");
    const first = Math.floor(offset / PAGE_SIZE);
    const out = new Uint8Array(rsp.dataLen);
    let done = 0;
    for (let i = 0; i < rsp.dataGrefs.length && done < rsp.dataLen; i++) {
      const ref = rsp.dataGrefs[i]!;
      const k = `${key}:${first + i}`;
      let e = this.pageCache.get(k);
      if (e !== undefined) this.pageCache.delete(k);
      if (e !== undefined && e.kind === "map" && e.ref === ref) this.counters.mapReuses++;
      else {
        if (e !== undefined) await this.release(e);
        const mapping = await this.env.grants.map(this.backendId, ref, true);
        this.counters.maps++;
        e = { kind: "map", ref, mapping };
      }
      this.pageCache.set(k, e);
      const start = i === 0 ? rsp.dataOffset : 0;
      const n = Math.min(rsp.dataLen - done, PAGE_SIZE - start);
      out.set(this.env.ctx.mem.readBytes(e.mapping.pfn * PAGE_SIZE + start, n), done);
      done += n;
    }
    this.counters.bytesFromMappings += done;
    await this.trimPageCache();
    return out;
  }

  /** Copy path: keeps an own page holding file page `index` in the page cache. */
  private keepOwn(fh: Uint8Array, index: number, pfn: number): void {
    const k = `${Buffer.from(fh.buffer, fh.byteOffset, fh.byteLength).toString("hex")}:${index}`;
    const old = this.pageCache.get(k);
    this.pageCache.delete(k);
    if (old?.kind === "own") this.free.push(old.pfn);
    this.pageCache.set(k, { kind: "own", pfn });
    void this.trimPageCache();
  }

  private async trimPageCache(): Promise<void> {
    while (this.pageCache.size > this.cachePages) {
      const [k, e] = this.pageCache.entries().next().value as [string, CacheEntry];
      this.pageCache.delete(k);
      await this.release(e);
    }
  }

  private async release(e: CacheEntry): Promise<void> {
    if (e.kind === "map") {
      await this.env.grants.unmap(e.mapping);
      this.counters.unmaps++;
    } else this.givePages([e.pfn]);
  }

  private async takePages(n: number): Promise<number[]> {
    if (n === 0) return [];
    while (this.free.length < n) {
      const pfn = this.env.ctx.allocPage();
      if (pfn < 0) break;
      this.free.push(pfn);
    }
    // Private copies in the page cache give their pages back before anyone waits.
    for (const [k, e] of this.pageCache) {
      if (this.free.length >= n) break;
      if (e.kind !== "own") continue;
      this.pageCache.delete(k);
      this.free.push(e.pfn);
    }
    if (this.pageWaiters.length === 0 && this.free.length >= n) return this.free.splice(-n, n);
    if (n > this.bufferPages + this.cachePages)
      throw new NfsTransportError(NfsifStatus.TooBig, `a call needing ${n} pages exceeds the buffer pool`);
    return new Promise((resolve) => this.pageWaiters.push({ n, resolve }));
  }

  private givePages(pfns: number[]): void {
    this.free.push(...pfns);
    while (this.pageWaiters.length > 0 && this.free.length >= this.pageWaiters[0]!.n) {
      const w = this.pageWaiters.shift()!;
      w.resolve(this.free.splice(-w.n, w.n));
    }
  }
}
