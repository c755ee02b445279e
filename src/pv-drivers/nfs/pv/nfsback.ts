/**
 * The nfsif back end (driver-domain side): one per front end, all sharing the driver domain's
 * `BufferCache` and the real NFS server (`SyncRecordHandler`, the same code TCP clients use).
 *
 * Handshake: advertise `export-path`, `feature-read-map`, `max-read` and InitWait; map the
 * front end's ring and bind its port (RingBackend); read its `read-path` (map | copy).
 *
 * Per request, in ring order (one at a time; responses published once per drain):
 *  1. validate the private copy: operation, segment counts, record_len against the inline area
 *     and the pages, id not already in flight — a bad request gets a precise NFSIF_RSP_* status
 *     and the back end goes on;
 *  2. fetch the call record (inline, or by mapping its pages read-only);
 *  3. NFSv3 READ on the map path: GETATTR (a real RPC) validates the cache entry; missing
 *     pages are filled by a real READ RPC for their page-aligned span; the reply is the READ3res
 *     with its data bytes elided and the data pages' read-only grants in the response. On the
 *     copy path the same pages are grant-copied into the front end's reply pages;
 *  4. any other record goes to the server unchanged; WRITE / SETATTR / CREATE / REMOVE / RENAME
 *     invalidate the file's cached pages (REMOVE and RENAME look the victim up first);
 *  5. the reply record goes inline if it fits, else into the front end's reply pages.
 */
import { type AsyncBackRing, type GrantMapping, type PvEnv, RingBackend } from "../../../guest-sdk/index.js";
import { DomId, GntSt } from "../../../hypercalls/index.js";
import { CostTable } from "../../../machine/index.js";
import type { BufferCache } from "../buffer-cache.js";
import {
  type Fattr3,
  Ftype3,
  NFS_PROGRAM,
  NFS_V3,
  Nfs3Proc,
  Nfs3Status,
  readFattr3,
  readFh3,
  readPostOpAttr,
  writePostOpAttr,
} from "../nfs3-proto.js";
import {
  AcceptStat,
  decodeCallHeader,
  encodeAcceptedHeader,
  type RpcTransportContext,
} from "../rpc/rpc-msg.js";
import { type XdrReader, XdrWriter } from "../rpc/xdr.js";
import {
  inlineReplySegRoom,
  NFSIF_INLINE_REQUEST,
  NFSIF_INLINE_RESPONSE,
  NFSIF_MAX_DATA_PAGES,
  NFSIF_MAX_READ,
  NFSIF_MAX_RECORD,
  NFSIF_MAX_SEGS,
  NfsifOp,
  type NfsifRequest,
  type NfsifResponse,
  NfsifRspFlag,
  NfsifStatus,
  nfsifProtocol,
} from "./nfsif.js";
import { CALL_PROC_OFFSET, isSuccess, readReplyHeader } from "./rpc-call.js";
import type { SyncRecordHandler } from "./sync-export.js";

const PAGE_SIZE = 4096;
/** GNTCOPY_dest_gref (grant_table.h, struct gnttab_copy). */
const GNTCOPY_DEST_GREF = 1 << 1;
/** Call pages a request may name (a 64 KiB WRITE and its headers) and reply pages. */
const MAX_CALL_SEGS = 17;
const MAX_REPLY_SEGS = 16;
const EMPTY = new Uint8Array(0);

/** How READ data reaches the front end. */
export type NfsReadPath = "map" | "copy";

export interface NfsBackendOptions {
  /** Device id in the store paths. Default 0. */
  devid?: number;
  /** Back-end costs (cycles); default CostTable's. */
  costs?: { readonly backendPerRequest: number; readonly backendPerPage: number };
}

/** What one back end did (tests, compare). */
export interface NfsBackendCounters {
  requests: number;
  rpcs: number;
  /** Requests answered with a non-OKAY nfsif status, by status. */
  rejected: Record<number, number>;
  /** READs answered from the buffer cache. */
  cacheReads: number;
  /** READ data bytes handed over as grants of cache frames (map path). */
  bytesMapped: number;
  /** Bytes moved with GNTTABOP_copy (READ data on the copy path). */
  bytesCopied: number;
  /** Record bytes moved through mapped call / reply pages. */
  recordBytesMapped: number;
  /** Pages filled from the server. */
  pagesFilled: number;
}

/** The parsed arguments of a READ call. */
interface ReadCall {
  fh: Uint8Array;
  offset: number;
  count: number;
}

/** Hex key of a file handle (the cache's file key). */
export function fhKey(fh: Uint8Array): string {
  return Buffer.from(fh.buffer, fh.byteOffset, fh.byteLength).toString("hex");
}

export class NfsBackend extends RingBackend<NfsifRequest, NfsifResponse> {
  readonly counters: NfsBackendCounters = {
    requests: 0,
    rpcs: 0,
    rejected: {},
    cacheReads: 0,
    bytesMapped: 0,
    bytesCopied: 0,
    recordBytesMapped: 0,
    pagesFilled: 0,
  };
  /** The front end's choice, read at attach. */
  readPath: NfsReadPath = "map";
  private readonly queue: NfsifRequest[] = [];
  private readonly inFlight = new Set<number>();
  private processing = false;
  private readonly costs: { readonly backendPerRequest: number; readonly backendPerPage: number };
  private readonly context: RpcTransportContext;

  constructor(
    env: PvEnv,
    frontendId: number,
    /** The real NFS server, answering synchronously (simulated time stands still meanwhile). */
    readonly server: SyncRecordHandler,
    /** The driver domain's buffer cache, shared by every front end. */
    readonly cache: BufferCache,
    /** Export path front ends MOUNT. */
    readonly exportPath: string,
    opts: NfsBackendOptions = {},
  ) {
    super(env, "vnfs", frontendId, opts.devid ?? 0, nfsifProtocol, (ring) => this.serveRing(ring), "manual");
    this.costs = opts.costs ?? CostTable;
    this.context = { transport: "ring", peer: `dom${frontendId}` };
  }

  protected override async advertise(): Promise<Record<string, string>> {
    return {
      "export-path": this.exportPath,
      "feature-read-map": "1",
      "max-read": String(NFSIF_MAX_READ),
      "max-record": String(NFSIF_MAX_RECORD),
    };
  }

  protected override async attach(): Promise<void> {
    const p = await this.env.store.tryRead(`${this.frontendDir}/read-path`);
    this.readPath = p === "copy" ? "copy" : "map";
    await super.attach();
  }

  protected override async detach(): Promise<void> {
    await super.detach();
    this.cache.forgetDomain(this.frontendId);
  }

  private serveRing(ring: AsyncBackRing<NfsifRequest, NfsifResponse>): void {
    ring.requests$.subscribe({
      next: (req) => {
        // An id already queued or being served: answer the duplicate at once, keep the first.
        if (this.inFlight.has(req.id)) {
          this.counters.rejected[NfsifStatus.IdInUse] =
            (this.counters.rejected[NfsifStatus.IdInUse] ?? 0) + 1;
          ring.respond(this.reject(req, NfsifStatus.IdInUse));
          if (!this.processing) ring.flush();
          return;
        }
        this.inFlight.add(req.id);
        this.queue.push(req);
        if (!this.processing) {
          this.processing = true;
          void this.process(ring);
        }
      },
      error: (err: unknown) => void this.fail(err instanceof Error ? err.message : String(err)),
    });
  }

  /** Serves queued requests in order; publishes the answers once the queue is empty. */
  private async process(ring: AsyncBackRing<NfsifRequest, NfsifResponse>): Promise<void> {
    try {
      while (this.queue.length > 0 && this.error === null) {
        const req = this.queue.shift()!;
        let rsp: NfsifResponse;
        try {
          rsp = await this.serveOne(req);
        } finally {
          this.inFlight.delete(req.id);
        }
        if (rsp.status !== NfsifStatus.Okay)
          this.counters.rejected[rsp.status] = (this.counters.rejected[rsp.status] ?? 0) + 1;
        ring.respond(rsp);
        if (this.queue.length === 0) ring.flush();
      }
      ring.flush();
    } catch (err) {
      await this.fail(`nfsback: ${err instanceof Error ? err.message : String(err)}`).catch(() => undefined);
    } finally {
      this.processing = false;
    }
  }

  private reject(req: NfsifRequest, status: number): NfsifResponse {
    return {
      id: req.id,
      status,
      flags: 0,
      recordLen: 0,
      dataLen: 0,
      dataOffset: 0,
      dataGrefs: [],
      inline: EMPTY,
    };
  }

  /** Serves one validated-on-copy request. */
  private async serveOne(req: NfsifRequest): Promise<NfsifResponse> {
    this.counters.requests++;
    this.env.ctx.charge(this.costs.backendPerRequest);
    if (req.operation !== NfsifOp.Call) return this.reject(req, NfsifStatus.NotSupported);
    if (
      req.flags !== 0 ||
      req.nrSegs > MAX_CALL_SEGS ||
      req.nrReplySegs > MAX_REPLY_SEGS ||
      req.nrSegs + req.nrReplySegs > NFSIF_MAX_SEGS
    )
      return this.reject(req, NfsifStatus.Invalid);
    if (req.recordLen > NFSIF_MAX_RECORD) return this.reject(req, NfsifStatus.TooBig);
    if (req.nrSegs === 0) {
      if (req.recordLen > NFSIF_INLINE_REQUEST) return this.reject(req, NfsifStatus.TooBig);
      if (req.nrReplySegs > inlineReplySegRoom(req.recordLen)) return this.reject(req, NfsifStatus.Invalid);
    } else if (req.recordLen > req.nrSegs * PAGE_SIZE) return this.reject(req, NfsifStatus.TooBig);
    if (req.recordLen === 0) return this.reject(req, NfsifStatus.Invalid);
    const record = req.nrSegs === 0 ? req.inline : await this.fetchRecord(req);
    if (record === null) return this.reject(req, NfsifStatus.BadGrant);
    const replyGrefs = req.grefs.slice(req.nrSegs, req.nrSegs + req.nrReplySegs);

    const header = decodeCallHeader(record, this.context);
    if (header.kind === "call" && header.call.prog === NFS_PROGRAM && header.call.vers === NFS_V3) {
      const call = header.call;
      if (call.proc === Nfs3Proc.Read) {
        const args = parseRead(call.args.clone());
        if (args !== null) {
          const r = await this.cacheRead(req, record, call.args.offset, call.xid, args, replyGrefs);
          if (r !== null) return r;
        }
      } else {
        const victims = this.victimsBefore(call.proc, record, call.args.offset, call.args.clone());
        const reply = this.rpc(record);
        if (reply === null) return this.reject(req, NfsifStatus.NoReply);
        for (const v of victims) this.cache.invalidate(v);
        this.invalidateAfter(call.proc, call.args.clone(), reply);
        return this.deliver(req, reply, replyGrefs);
      }
    }
    const reply = this.rpc(record);
    if (reply === null) return this.reject(req, NfsifStatus.NoReply);
    return this.deliver(req, reply, replyGrefs);
  }

  private rpc(record: Uint8Array): Uint8Array | null {
    this.counters.rpcs++;
    return this.server.handleRecordSync(record, this.context);
  }

  /** Maps the call pages read-only and gathers the record; null on a bad grant. */
  private async fetchRecord(req: NfsifRequest): Promise<Uint8Array | null> {
    const out = new Uint8Array(req.recordLen);
    for (let i = 0; i < req.nrSegs; i++) {
      const n = Math.min(PAGE_SIZE, req.recordLen - i * PAGE_SIZE);
      let m: GrantMapping;
      try {
        m = await this.env.grants.map(this.frontendId, req.grefs[i]!, true);
      } catch {
        return null;
      }
      try {
        out.set(this.env.ctx.mem.readBytes(m.pfn * PAGE_SIZE, n), i * PAGE_SIZE);
        this.counters.recordBytesMapped += n;
      } finally {
        await this.env.grants.unmap(m);
      }
    }
    return out;
  }

  /** Puts the reply record inline or into the reply pages. */
  private async deliver(req: NfsifRequest, reply: Uint8Array, replyGrefs: number[]): Promise<NfsifResponse> {
    if (reply.length > req.replyMax) return this.reject(req, NfsifStatus.ReplyTooBig);
    const rsp = this.reject(req, NfsifStatus.Okay);
    rsp.recordLen = reply.length;
    if (reply.length <= NFSIF_INLINE_RESPONSE) {
      rsp.inline = reply;
      return rsp;
    }
    if (reply.length > replyGrefs.length * PAGE_SIZE) return this.reject(req, NfsifStatus.ReplyTooBig);
    if (!(await this.toPages(replyGrefs, reply))) return this.reject(req, NfsifStatus.BadGrant);
    rsp.flags = NfsifRspFlag.ReplyInPages;
    return rsp;
  }

  /** Writes `data` across the front end's writable pages by mapping them. */
  private async toPages(grefs: number[], data: Uint8Array): Promise<boolean> {
    for (let i = 0; i * PAGE_SIZE < data.length; i++) {
      let m: GrantMapping;
      try {
        m = await this.env.grants.map(this.frontendId, grefs[i]!, false);
      } catch {
        return false;
      }
      try {
        const part = data.subarray(i * PAGE_SIZE, Math.min(data.length, (i + 1) * PAGE_SIZE));
        this.env.ctx.mem.writeBytes(m.pfn * PAGE_SIZE, part);
        this.counters.recordBytesMapped += part.length;
      } finally {
        await this.env.grants.unmap(m);
      }
    }
    return true;
  }

  /**
   * READ through the buffer cache. Returns null to fall back to a plain RPC (the server then
   * produces the exact error reply: stale handle, not a regular file, …).
   */
  private async cacheRead(
    req: NfsifRequest,
    record: Uint8Array,
    argsOffset: number,
    xid: number,
    a: ReadCall,
    replyGrefs: number[],
  ): Promise<NfsifResponse | null> {
    // GETATTR with the caller's own header (credentials) validates the cached version.
    const attrs = this.getattr(record, argsOffset, a.fh);
    if (attrs === undefined || attrs.type !== Ftype3.Reg) return null;
    const file = fhKey(a.fh);
    this.cache.validate(file, versionOf(attrs));
    const size = Number(attrs.size);
    const inPage = a.offset % PAGE_SIZE;
    const count = Math.min(a.count, NFSIF_MAX_READ - inPage);
    const end = Math.min(a.offset + count, size);
    const n = Math.max(0, end - a.offset);
    const eof = a.offset + n >= size;
    const first = Math.floor(a.offset / PAGE_SIZE);
    const last = n > 0 ? Math.floor((end - 1) / PAGE_SIZE) : first - 1;
    if (this.readPath === "copy" && n > replyGrefs.length * PAGE_SIZE)
      return this.reject(req, NfsifStatus.ReplyTooBig);
    // Fill the missing span with one real READ.
    let lo = -1;
    let hi = -1;
    for (let p = first; p <= last; p++) {
      if (this.cache.lookup(file, p) !== undefined) continue;
      if (lo < 0) lo = p;
      hi = p;
    }
    if (lo >= 0) {
      const filled = this.fill(record, argsOffset, a.fh, file, lo, hi, attrs);
      if (filled === "changed") return null;
      if (filled === "nospace") return this.reject(req, NfsifStatus.NoSpace);
    }
    const rsp = this.reject(req, NfsifStatus.Okay);
    const pages = [];
    for (let p = first; p <= last; p++) {
      const page = this.cache.peek(file, p);
      if (page === undefined) return null; // evicted under us: let the server answer
      pages.push(page);
    }
    this.counters.cacheReads++;
    // Frames dropped earlier whose last mapping is gone go back to the free list now.
    if (this.cache.retiredPages > 0) this.cache.reclaim();
    if (this.readPath === "map") {
      rsp.dataGrefs = pages.map((p) => this.cache.grantFor(p, this.frontendId));
      rsp.dataOffset = n > 0 ? inPage : 0;
      this.counters.bytesMapped += n;
    } else {
      if (!(await this.copyOut(pages, inPage, n, replyGrefs))) return this.reject(req, NfsifStatus.BadGrant);
      rsp.flags = NfsifRspFlag.DataInReplyPages;
      this.counters.bytesCopied += n;
    }
    // READ3res with its data bytes left out (nfsif.ts): the length word stays.
    const w = new XdrWriter(160);
    encodeAcceptedHeader(w, xid, AcceptStat.Success);
    w.u32(Nfs3Status.Ok);
    writePostOpAttr(w, attrs);
    w.u32(n).bool(eof).u32(n);
    rsp.inline = w.bytes();
    rsp.recordLen = rsp.inline.length;
    rsp.dataLen = n;
    return rsp;
  }

  /** A real GETATTR built from the call's own header; undefined unless NFS3_OK. */
  private getattr(record: Uint8Array, argsOffset: number, fh: Uint8Array): Fattr3 | undefined {
    const w = new XdrWriter(argsOffset + 8 + fh.length);
    const head = w.reserve(argsOffset);
    w.bytes().set(record.subarray(0, argsOffset), head);
    w.patchU32(CALL_PROC_OFFSET, Nfs3Proc.Getattr);
    w.opaqueVar(fh);
    const reply = this.rpc(w.bytes());
    if (reply === null) return undefined;
    const h = readReplyHeader(reply);
    if (!isSuccess(h) || h.r.u32() !== Nfs3Status.Ok) return undefined;
    const a = readFattr3(h.r);
    return h.r.ok ? a : undefined;
  }

  /**
   * Fills pages lo..hi of `file` with one real READ. "changed" when the server's attributes no
   * longer match the version just validated (a writer got in between).
   */
  private fill(
    record: Uint8Array,
    argsOffset: number,
    fh: Uint8Array,
    file: string,
    lo: number,
    hi: number,
    attrs: Fattr3,
  ): "ok" | "changed" | "nospace" {
    const w = new XdrWriter(argsOffset + 24 + fh.length);
    const head = w.reserve(argsOffset);
    w.bytes().set(record.subarray(0, argsOffset), head);
    w.patchU32(CALL_PROC_OFFSET, Nfs3Proc.Read);
    w.opaqueVar(fh)
      .u64(lo * PAGE_SIZE)
      .u32((hi - lo + 1) * PAGE_SIZE);
    const reply = this.rpc(w.bytes());
    if (reply === null) return "changed";
    const h = readReplyHeader(reply);
    if (!isSuccess(h) || h.r.u32() !== Nfs3Status.Ok) return "changed";
    const after = readPostOpAttr(h.r);
    h.r.u32(); // count
    h.r.bool(); // eof
    const data = h.r.opaqueVar(NFSIF_MAX_DATA_PAGES * PAGE_SIZE);
    if (!h.r.ok || (after !== undefined && versionOf(after) !== versionOf(attrs))) return "changed";
    for (let p = lo; p <= hi; p++) {
      const part = data.subarray((p - lo) * PAGE_SIZE, Math.min(data.length, (p - lo + 1) * PAGE_SIZE));
      if (this.cache.put(file, p, part) === null) return "nospace";
      this.counters.pagesFilled++;
      this.env.ctx.charge(this.costs.backendPerPage);
    }
    return "ok";
  }

  /** Copy path: GNTTABOP_copy from the cache frames into the front end's reply pages. */
  private async copyOut(
    pages: { pfn: number }[],
    inPage: number,
    n: number,
    replyGrefs: number[],
  ): Promise<boolean> {
    let done = 0;
    while (done < n) {
      const src = inPage + done;
      const page = pages[Math.floor(src / PAGE_SIZE)]!;
      const srcOff = src % PAGE_SIZE;
      const dstOff = done % PAGE_SIZE;
      const len = Math.min(n - done, PAGE_SIZE - srcOff, PAGE_SIZE - dstOff);
      const st = await this.env.hypercalls.gnttabCopy(
        { ref: page.pfn, domid: DomId.SELF, offset: srcOff },
        { ref: replyGrefs[Math.floor(done / PAGE_SIZE)]!, domid: this.frontendId, offset: dstOff },
        len,
        GNTCOPY_DEST_GREF,
      );
      if (st !== GntSt.okay) return false;
      done += len;
    }
    return true;
  }

  /** Files a call will remove or replace, looked up before it runs (REMOVE, RENAME's target). */
  private victimsBefore(proc: number, record: Uint8Array, argsOffset: number, args: XdrReader): string[] {
    if (proc !== Nfs3Proc.Remove && proc !== Nfs3Proc.Rename) return [];
    const out: string[] = [];
    const dir = readFh3(args);
    const name = args.string(255);
    if (!args.ok) return out;
    const lookups: [Uint8Array, string][] = [[dir, name]];
    if (proc === Nfs3Proc.Rename) {
      const toDir = readFh3(args);
      const toName = args.string(255);
      if (args.ok) lookups.push([toDir, toName]);
    }
    for (const [d, nm] of lookups) {
      const w = new XdrWriter(argsOffset + 300);
      const head = w.reserve(argsOffset);
      w.bytes().set(record.subarray(0, argsOffset), head);
      w.patchU32(CALL_PROC_OFFSET, Nfs3Proc.Lookup);
      w.opaqueVar(d).string(nm);
      const reply = this.rpc(w.bytes());
      if (reply === null) continue;
      const h = readReplyHeader(reply);
      if (!isSuccess(h) || h.r.u32() !== Nfs3Status.Ok) continue;
      const fh = readFh3(h.r);
      if (h.r.ok) out.push(fhKey(fh));
    }
    return out;
  }

  /** WRITE / SETATTR drop the file named in the arguments; CREATE the file it returns. */
  private invalidateAfter(proc: number, args: XdrReader, reply: Uint8Array): void {
    if (proc === Nfs3Proc.Write || proc === Nfs3Proc.Setattr || proc === Nfs3Proc.Commit) {
      const fh = readFh3(args);
      if (args.ok && proc !== Nfs3Proc.Commit) this.cache.invalidate(fhKey(fh));
      return;
    }
    if (proc === Nfs3Proc.Create) {
      const h = readReplyHeader(reply);
      if (!isSuccess(h) || h.r.u32() !== Nfs3Status.Ok) return;
      if (h.r.bool()) {
        const fh = readFh3(h.r);
        if (h.r.ok) this.cache.invalidate(fhKey(fh));
      }
    }
  }
}

/** READ3args (RFC 1813 §3.3.6): file, offset, count; null when malformed. */
function parseRead(r: XdrReader): ReadCall | null {
  const fh = readFh3(r);
  const offset = r.u64();
  const count = r.u32();
  return r.ok && r.remaining === 0 ? { fh, offset, count } : null;
}

/** The cache version of a file: identity, size and both change times. */
function versionOf(a: Fattr3): string {
  return `${a.fileid}:${a.size}:${a.mtime.seconds}.${a.mtime.nseconds}:${a.ctime.seconds}.${a.ctime.nseconds}`;
}
