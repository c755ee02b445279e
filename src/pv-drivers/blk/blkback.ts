/**
 * The blkif back end (blkback) in the driver domain, serving one front end's virtual block
 * device from an injected `BlockStore` (mirage-block-xen's blkback is the model).
 *
 * Handshake (blkif.h "STATE DIAGRAMS"): publish the feature keys and InitWait; when the front
 * end is Initialised read `ring-ref`, `event-channel` and `protocol`, map the ring page by
 * grant, bind the port, publish `sectors`, `sector-size` and `info`, go Connected.
 *
 * Per batch of requests (everything one drain of the ring produced):
 *  1. each request is copied out of the shared page once (RING_COPY_REQUEST, in the codec) and
 *     validated on the copy: segment bounds first_sect ≤ last_sect ≤ 7, the sector range inside
 *     the disk, a read-only disk refuses writes, unknown operations get EOPNOTSUPP;
 *  2. data pages are reached by grant — mapped (GNTTABOP_map_grant_ref, read-only for writes)
 *     or grant-copied through a bounce page (GNTTABOP_copy), per `dataPath` — concurrently for
 *     the whole batch (the runtime dispatches the hypercalls of one turn together);
 *  3. the store operations run in ring order, synchronously (host I/O at cost-model times;
 *     CostTable.backendPerRequest + backendPerPage × pages is charged per request);
 *  4. every mapping is unmapped before its response is written (the front end ends grant
 *     access when it sees the response, and a still-mapped grant cannot be ended);
 *  5. the batch's responses are published with one push and at most one notification.
 *
 * A bad request (bad gref, revoked grant, segment or sector out of range) gets BLKIF_RSP_ERROR;
 * a protocol violation (req_prod overflow) disconnects this front end: the reason is written to
 * `<backend dir>/error`, the ring is unmapped and the back end goes Closing. Other front ends,
 * served by their own BlkBackend, are unaffected.
 */
import {
  AsyncBackRing,
  BackRing,
  EventChannel,
  type GrantMapping,
  PvBackend,
  type PvEnv,
  XenbusError,
} from "../../guest-sdk/index.js";
import { DomId, GntSt } from "../../hypercalls/index.js";
import { CostTable } from "../../machine/index.js";
import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_SECTOR_SIZE,
  type BlkifAbi,
  type BlkifDiscardRequest,
  type BlkifIndirectRequest,
  BlkifOp,
  type BlkifRequest,
  type BlkifResponse,
  type BlkifRwRequest,
  type BlkifSegment,
  BlkifStatus,
  blkifAbiByName,
  blkifProtocol,
  SECTORS_PER_PAGE,
  SEGMENTS_PER_INDIRECT_PAGE,
  Vdisk,
} from "./blkif.js";
import type { BlockStore } from "./block-store.js";

const PAGE_SIZE = 4096;
/** GNTCOPY_source_gref / GNTCOPY_dest_gref (xen/include/public/grant_table.h, struct gnttab_copy). */
const GNTCOPY_SOURCE_GREF = 1 << 0;
const GNTCOPY_DEST_GREF = 1 << 1;

/** How the back end reaches the front end's data pages. */
export type BlkDataPath = "map" | "copy";

export interface BlkBackendOptions {
  /** Device id (the `<devid>` of the store paths). Default 0. */
  devid?: number;
  /** Store device type. Default "vbd" (libxl's name for blkif devices). */
  type?: string;
  /** "map": GNTTABOP_map + access + unmap per page (blkback); "copy": GNTTABOP_copy via a bounce page. Default "map". */
  dataPath?: BlkDataPath;
  /** feature-max-indirect-segments to advertise; 0 disables BLKIF_OP_INDIRECT. Default 256 (Linux blkback's MAX_INDIRECT_SEGMENTS). */
  maxIndirectSegments?: number;
  /** Advertise and serve FLUSH_DISKCACHE / WRITE_BARRIER / DISCARD. Default true each. */
  flush?: boolean;
  barrier?: boolean;
  discard?: boolean;
  /** Pages the back end may hold mapped or as bounce buffers at once. Default 64. */
  maxPagesInFlight?: number;
  /** Back-end costs (cycles); default CostTable's, scaled tables may be passed. */
  costs?: { readonly backendPerRequest: number; readonly backendPerPage: number };
}

/** What the back end did (benchmarks, tests, traces). */
export interface BlkBackendCounters {
  requests: number;
  batches: number;
  okay: number;
  errors: number;
  eopnotsupp: number;
  /** 512-byte sectors read from and written to the store. */
  sectorsRead: number;
  sectorsWritten: number;
  flushes: number;
  discards: number;
  /** Payload bytes moved by GNTTABOP_copy (copy path). */
  bytesCopied: number;
  /** Payload bytes accessed through grant mappings (map path) and pages mapped. */
  bytesMapped: number;
  pagesMapped: number;
}

/** One segment resolved to its disk position. */
interface Seg {
  gref: number;
  /** Byte offset in the frame (first_sect × 512) and length. */
  offset: number;
  length: number;
}

/** A validated data request. */
interface Job {
  rsp: BlkifResponse;
  write: boolean;
  barrier: boolean;
  sector: number;
  segs: Seg[];
  /** Payload (write: fetched from the front end; read: filled by the store). */
  data: Uint8Array;
}

/** A small counting semaphore (bounds the back end's mapped/bounce pages). */
class Slots {
  private readonly waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  give(): void {
    const w = this.waiting.shift();
    if (w) w();
    else this.free++;
  }
}

export class BlkBackend extends PvBackend {
  readonly counters: BlkBackendCounters = {
    requests: 0,
    batches: 0,
    okay: 0,
    errors: 0,
    eopnotsupp: 0,
    sectorsRead: 0,
    sectorsWritten: 0,
    flushes: 0,
    discards: 0,
    bytesCopied: 0,
    bytesMapped: 0,
    pagesMapped: 0,
  };
  ring: AsyncBackRing<BlkifRequest, BlkifResponse> | null = null;
  channel: EventChannel | null = null;
  /** The ABI the front end asked for. */
  abi: BlkifAbi | null = null;
  readonly dataPath: BlkDataPath;
  readonly maxIndirectSegments: number;
  private readonly features: { flush: boolean; barrier: boolean; discard: boolean };
  private readonly costs: { readonly backendPerRequest: number; readonly backendPerPage: number };
  private readonly pages: Slots;
  /** Bounce pages (copy path), reused. */
  private readonly bounce: number[] = [];
  private ringMapping: GrantMapping | null = null;
  private readonly queue: BlkifRequest[] = [];
  private processing = false;
  private detached = false;

  constructor(
    env: PvEnv,
    frontendId: number,
    readonly store: BlockStore,
    opts: BlkBackendOptions = {},
  ) {
    super(env, opts.type ?? "vbd", frontendId, opts.devid ?? 0);
    this.dataPath = opts.dataPath ?? "map";
    this.maxIndirectSegments = opts.maxIndirectSegments ?? 256;
    this.features = {
      flush: opts.flush ?? true,
      barrier: opts.barrier ?? true,
      discard: opts.discard ?? true,
    };
    this.costs = opts.costs ?? CostTable;
    this.pages = new Slots(opts.maxPagesInFlight ?? 64);
  }

  /** Feature keys, published before InitWait (blkif.h "Backend XenBus Nodes"). */
  protected override async advertise(): Promise<Record<string, string>> {
    const keys: Record<string, string> = {
      "feature-flush-cache": this.features.flush ? "1" : "0",
      "feature-barrier": this.features.barrier ? "1" : "0",
      "feature-discard": this.features.discard && !this.store.readOnly ? "1" : "0",
      mode: this.store.readOnly ? "r" : "w",
    };
    if (this.maxIndirectSegments > 0)
      keys["feature-max-indirect-segments"] = String(this.maxIndirectSegments);
    return keys;
  }

  protected override async attach(): Promise<void> {
    const ref = Number(await this.frontendKey("ring-ref"));
    const port = Number(await this.frontendKey("event-channel"));
    const proto = await this.env.store.tryRead(`${this.frontendDir}/protocol`);
    if (!Number.isInteger(ref) || !Number.isInteger(port))
      throw new XenbusError(
        `${this.frontendDir}: ring-ref "${ref}" / event-channel "${port}" are not numbers`,
      );
    const abi = blkifAbiByName(proto);
    if (!abi)
      throw new XenbusError(`${this.frontendDir}/protocol "${proto}" is not x86_32-abi or x86_64-abi`);
    this.abi = abi;
    const protocol = blkifProtocol(abi);
    this.ringMapping = await this.env.grants.map(this.frontendId, ref);
    const back = new BackRing(this.ringMapping.page, protocol.request, protocol.response);
    this.channel = await EventChannel.bindInterdomain(
      this.env.hypercalls,
      this.env.events,
      this.frontendId,
      port,
    );
    const ch = this.channel;
    // Device properties, published before Connected (blkif.h: "Publish backend device properties").
    await this.env.store.write(`${this.dir}/sectors`, String(this.store.sectors));
    await this.env.store.write(`${this.dir}/sector-size`, String(BLKIF_SECTOR_SIZE));
    await this.env.store.write(`${this.dir}/info`, String(this.store.readOnly ? Vdisk.ReadOnly : 0));
    // Manual flush: responses are published once per batch, by `process`.
    const ring = new AsyncBackRing(back, () => ch.notify(), "manual");
    this.ring = ring;
    ring.requests$.subscribe({
      next: (req) => {
        this.queue.push(req);
        this.kick();
      },
      error: (err: unknown) => void this.fail(err instanceof Error ? err.message : String(err)),
    });
    ch.events$.subscribe(() => ring.onNotification());
    ring.onNotification(); // requests published before we bound the port
  }

  protected override async detach(): Promise<void> {
    if (this.detached) return;
    this.detached = true;
    this.ring?.shutdown();
    await this.channel?.close();
    // Unmap before the front end ends access: the grant stays pinned until then.
    if (this.ringMapping) await this.env.grants.unmap(this.ringMapping);
    this.ringMapping = null;
  }

  // --- request processing ------------------------------------------------------------------

  private kick(): void {
    if (this.processing) return;
    this.processing = true;
    void this.process();
  }

  /** Serves batches until the queue is empty; one push (and ≤ 1 notification) per batch. */
  private async process(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.detached) {
        const batch = this.queue.splice(0);
        this.counters.batches++;
        // Store operations run in ring order: each job waits for the previous one's turn.
        let turn: Promise<void> = Promise.resolve();
        const done = batch.map((req) => {
          const prev = turn;
          let release!: () => void;
          turn = new Promise<void>((r) => {
            release = r;
          });
          return this.serve(req, prev, release);
        });
        const responses = await Promise.all(done);
        if (this.detached) return;
        for (const rsp of responses) {
          if (rsp.status === BlkifStatus.Okay) this.counters.okay++;
          else if (rsp.status === BlkifStatus.EOpNotSupp) this.counters.eopnotsupp++;
          else this.counters.errors++;
          this.ring?.respond(rsp);
        }
        this.ring?.flush();
      }
    } catch (err) {
      // Not a bad request (those are answered with a status) but a failure of our own plumbing
      // (an unmap the hypervisor refused, a dying domain): stop serving this front end, say why.
      await this.fail(`blkback: ${err instanceof Error ? err.message : String(err)}`).catch(() => undefined);
    } finally {
      this.processing = false;
    }
  }

  /** Serves one request; `prev` resolves when the store is ours, `release` hands it on. */
  private async serve(req: BlkifRequest, prev: Promise<void>, release: () => void): Promise<BlkifResponse> {
    this.counters.requests++;
    const rsp: BlkifResponse = { id: req.id, operation: req.operation, status: BlkifStatus.Error };
    try {
      this.env.ctx.charge(this.costs.backendPerRequest);
      switch (req.kind) {
        case "unknown":
          rsp.status = BlkifStatus.EOpNotSupp;
          return rsp;
        case "discard":
          await prev;
          rsp.status = this.discard(req);
          return rsp;
        case "indirect":
        case "rw": {
          if (req.kind === "rw" && req.operation === BlkifOp.FlushDiskcache) {
            await prev;
            rsp.status = this.flushOp(req);
            return rsp;
          }
          const job = await this.prepare(req, rsp);
          if (!job) return rsp;
          this.env.ctx.charge(this.costs.backendPerPage * job.segs.length);
          if (job.write && !(await this.fetch(job))) return rsp;
          await prev;
          if (!this.storeIo(job)) return rsp;
          release();
          if (!job.write && !(await this.deliver(job))) return rsp;
          rsp.status = BlkifStatus.Okay;
          return rsp;
        }
      }
    } finally {
      // Hand the store on only after our predecessor did, even if we never used it: jobs that
      // failed early must not let later ones overtake earlier ones. Resolving twice is a no-op.
      void prev.then(release);
    }
  }

  private flushOp(req: BlkifRwRequest): number {
    if (!this.features.flush) return BlkifStatus.EOpNotSupp;
    if (req.nrSegments !== 0) return BlkifStatus.Error;
    try {
      this.store.flush();
      this.counters.flushes++;
      return BlkifStatus.Okay;
    } catch {
      return BlkifStatus.Error;
    }
  }

  private discard(req: BlkifDiscardRequest): number {
    if (!this.features.discard) return BlkifStatus.EOpNotSupp;
    if (this.store.readOnly) return BlkifStatus.Error;
    if (!this.inDisk(req.sectorNumber, req.nrSectors)) return BlkifStatus.Error;
    try {
      if (req.nrSectors > 0) this.store.discard(req.sectorNumber, req.nrSectors);
      this.counters.discards++;
      return BlkifStatus.Okay;
    } catch {
      return BlkifStatus.Error;
    }
  }

  /** Validates a read/write (direct or indirect) on the private copy; null = answered with `rsp`. */
  private async prepare(req: BlkifRwRequest | BlkifIndirectRequest, rsp: BlkifResponse): Promise<Job | null> {
    let op: number;
    let segments: BlkifSegment[];
    if (req.kind === "indirect") {
      if (this.maxIndirectSegments === 0) {
        rsp.status = BlkifStatus.EOpNotSupp; // never advertised (blkif.h: must not be used then)
        return null;
      }
      op = req.indirectOp;
      if (op !== BlkifOp.Read && op !== BlkifOp.Write) return null;
      if (req.nrSegments < 1 || req.nrSegments > this.maxIndirectSegments) return null;
      const segs = await this.fetchIndirect(req);
      if (!segs) return null;
      segments = segs;
    } else {
      op = req.operation;
      if (req.nrSegments < 1 || req.nrSegments > BLKIF_MAX_SEGMENTS_PER_REQUEST) return null;
      segments = req.segments;
    }
    if (op === BlkifOp.WriteBarrier && !this.features.barrier) {
      rsp.status = BlkifStatus.EOpNotSupp;
      return null;
    }
    const write = op !== BlkifOp.Read;
    if (write && this.store.readOnly) return null;
    const segs: Seg[] = new Array(segments.length);
    let sectors = 0;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      if (s.firstSect > s.lastSect || s.lastSect >= SECTORS_PER_PAGE) return null;
      const n = s.lastSect - s.firstSect + 1;
      segs[i] = { gref: s.gref, offset: s.firstSect * BLKIF_SECTOR_SIZE, length: n * BLKIF_SECTOR_SIZE };
      sectors += n;
    }
    if (!this.inDisk(req.sectorNumber, sectors)) return null;
    return {
      rsp,
      write,
      barrier: op === BlkifOp.WriteBarrier,
      sector: req.sectorNumber,
      segs,
      data: new Uint8Array(sectors * BLKIF_SECTOR_SIZE),
    };
  }

  private inDisk(sector: number, count: number): boolean {
    return (
      Number.isSafeInteger(sector) && Number.isSafeInteger(count) && sector + count <= this.store.sectors
    );
  }

  /** Reads an indirect request's segment descriptors out of its granted pages (each once). */
  private async fetchIndirect(req: BlkifIndirectRequest): Promise<BlkifSegment[] | null> {
    const out: BlkifSegment[] = [];
    for (let p = 0; p < req.indirectGrefs.length; p++) {
      const n = Math.min(SEGMENTS_PER_INDIRECT_PAGE, req.nrSegments - p * SEGMENTS_PER_INDIRECT_PAGE);
      const bytes = await this.fromGrant(req.indirectGrefs[p]!, 0, n * 8);
      if (!bytes) return null;
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < n; i++)
        out.push({
          gref: dv.getUint32(i * 8, true),
          firstSect: dv.getUint8(i * 8 + 4),
          lastSect: dv.getUint8(i * 8 + 5),
        });
    }
    return out;
  }

  /** Write: brings every segment's bytes into `job.data`. */
  private async fetch(job: Job): Promise<boolean> {
    const parts = await Promise.all(job.segs.map((s) => this.fromGrant(s.gref, s.offset, s.length)));
    let at = 0;
    for (const p of parts) {
      if (!p) return false;
      job.data.set(p, at);
      at += p.length;
    }
    return true;
  }

  /** Read: sends `job.data` to every segment. */
  private async deliver(job: Job): Promise<boolean> {
    let at = 0;
    const oks = await Promise.all(
      job.segs.map((s) => {
        const part = job.data.subarray(at, at + s.length);
        at += s.length;
        return this.toGrant(s.gref, s.offset, part);
      }),
    );
    return oks.every((ok) => ok);
  }

  /** The store operation itself, in ring order. */
  private storeIo(job: Job): boolean {
    try {
      const n = job.data.length / BLKIF_SECTOR_SIZE;
      if (job.write) {
        if (job.barrier) this.store.flush(); // earlier writes are stable before the barrier write
        this.store.write(job.sector, job.data);
        if (job.barrier) this.store.flush();
        this.counters.sectorsWritten += n;
      } else {
        this.store.read(job.sector, job.data);
        this.counters.sectorsRead += n;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** `length` bytes at `offset` of the front end's granted frame `gref`; null on a grant failure. */
  private async fromGrant(gref: number, offset: number, length: number): Promise<Uint8Array | null> {
    await this.pages.take();
    try {
      if (this.dataPath === "map") {
        let m: GrantMapping;
        try {
          m = await this.env.grants.map(this.frontendId, gref, true);
        } catch {
          return null;
        }
        this.counters.pagesMapped++;
        try {
          const bytes = this.env.ctx.mem.readBytes(m.pfn * PAGE_SIZE + offset, length);
          this.counters.bytesMapped += length;
          return bytes;
        } finally {
          await this.env.grants.unmap(m);
        }
      }
      const pfn = this.bouncePage();
      if (pfn < 0) return null;
      try {
        const st = await this.env.hypercalls.gnttabCopy(
          { ref: gref, domid: this.frontendId, offset },
          { ref: pfn, domid: DomId.SELF, offset },
          length,
          GNTCOPY_SOURCE_GREF,
        );
        if (st !== GntSt.okay) return null;
        this.counters.bytesCopied += length;
        return this.env.ctx.mem.readBytes(pfn * PAGE_SIZE + offset, length);
      } finally {
        this.bounce.push(pfn);
      }
    } finally {
      this.pages.give();
    }
  }

  /** Writes `data` at `offset` of the front end's granted frame `gref`; false on a grant failure. */
  private async toGrant(gref: number, offset: number, data: Uint8Array): Promise<boolean> {
    await this.pages.take();
    try {
      if (this.dataPath === "map") {
        let m: GrantMapping;
        try {
          m = await this.env.grants.map(this.frontendId, gref, false);
        } catch {
          return false;
        }
        this.counters.pagesMapped++;
        try {
          this.env.ctx.mem.writeBytes(m.pfn * PAGE_SIZE + offset, data);
          this.counters.bytesMapped += data.length;
          return true;
        } finally {
          await this.env.grants.unmap(m);
        }
      }
      const pfn = this.bouncePage();
      if (pfn < 0) return false;
      try {
        this.env.ctx.mem.writeBytes(pfn * PAGE_SIZE + offset, data);
        const st = await this.env.hypercalls.gnttabCopy(
          { ref: pfn, domid: DomId.SELF, offset },
          { ref: gref, domid: this.frontendId, offset },
          data.length,
          GNTCOPY_DEST_GREF,
        );
        if (st !== GntSt.okay) return false;
        this.counters.bytesCopied += data.length;
        return true;
      } finally {
        this.bounce.push(pfn);
      }
    } finally {
      this.pages.give();
    }
  }

  private bouncePage(): number {
    return this.bounce.pop() ?? this.env.ctx.allocPage();
  }
}
