/**
 * The blkif front end (blkfront) in a TypeScript guest: a `BlockDevice` over one shared ring.
 *
 * `connect()` runs the XenBus handshake (pv-driver.ts): on the back end's InitWait it allocates
 * the ring page (SHARED_RING_INIT), grants it, allocates an event channel and publishes
 * `ring-ref`, `event-channel` and `protocol`; once the back end is Connected it reads
 * `sectors`, `sector-size`, `info` and the `feature-*` keys.
 *
 * The I/O step is one call (`read`, `write`, `flush`, `discard`): a transfer is split into
 * requests of at most 11 segments (one 4 KiB page each), or up to the negotiated
 * feature-max-indirect-segments with BLKIF_OP_INDIRECT; each request takes pages from a fixed
 * buffer pool, grants them to the back end (read-only for writes), waits for its response over
 * the async ring layer (per-request completion; response ids are checked against the requests
 * in flight), then ends grant access before the pages are reused. Requests issued in the same
 * turn are published with one push.
 */
import type { Subscription } from "rxjs";
import {
  AsyncFrontRing,
  EventChannel,
  FrontRing,
  GuestPage,
  type PvEnv,
  PvFrontend,
  XenbusError,
  XenbusState,
} from "../../guest-sdk/index.js";
import {
  BLKIF_ABI_X86_32,
  BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_SECTOR_SIZE,
  BLKIF_SEGMENT_SIZE,
  type BlkifAbi,
  BlkifOp,
  type BlkifRequest,
  type BlkifResponse,
  type BlkifSegment,
  BlkifStatus,
  blkifProtocol,
  indirectPagesFor,
  SECTORS_PER_PAGE,
  SEGMENTS_PER_INDIRECT_PAGE,
  Vdisk,
  writeSegment,
} from "./blkif.js";
import { BlockIoError, BlockRequestError } from "./errors.js";
import type { BlockDevice } from "./tokens.js";

const PAGE_SIZE = 4096;

export interface BlkFrontendOptions {
  devid?: number;
  /** Store device type. Default "vbd". */
  type?: string;
  /** Ring ABI to announce in `protocol`. Default x86_32-abi. */
  abi?: BlkifAbi;
  /** Data pages allocated once for I/O buffers (the queue depth × segments the front end can carry). Default 64. */
  bufferPages?: number;
  /** Largest indirect request to use (0: never use BLKIF_OP_INDIRECT). Default 0. */
  maxIndirectSegments?: number;
}

/** What the front end did (benchmarks, tests). */
export interface BlkFrontendCounters {
  requests: number;
  indirectRequests: number;
  grants: number;
  /** Pages whose grant the back end still held after answering (leaked, never reused). */
  leakedPages: number;
}

interface PageWaiter {
  n: number;
  resolve: (pfns: number[]) => void;
}

export class BlkFrontend extends PvFrontend implements BlockDevice {
  sectors = 0;
  sectorSize = BLKIF_SECTOR_SIZE;
  readOnly = false;
  /** Back-end features read at connection. */
  readonly features = { flush: false, barrier: false, discard: false, maxIndirectSegments: 0 };
  readonly counters: BlkFrontendCounters = { requests: 0, indirectRequests: 0, grants: 0, leakedPages: 0 };
  ring: AsyncFrontRing<BlkifRequest, BlkifResponse> | null = null;
  channel: EventChannel | null = null;
  readonly abi: BlkifAbi;
  /** Segments one request carries after negotiation (11, or the indirect maximum). */
  segmentsPerRequest = BLKIF_MAX_SEGMENTS_PER_REQUEST;
  private readonly bufferPages: number;
  private readonly wantIndirect: number;
  private ringPfn = -1;
  private ringRef = -1;
  private readonly freePages: number[] = [];
  private readonly pageWaiters: PageWaiter[] = [];
  private readonly freeIds: number[] = [];
  private readonly idWaiters: ((id: number) => void)[] = [];
  private backendWatch: Subscription | null = null;

  constructor(env: PvEnv, opts: BlkFrontendOptions = {}) {
    super(env, opts.type ?? "vbd", opts.devid ?? 0);
    this.abi = opts.abi ?? BLKIF_ABI_X86_32;
    this.bufferPages = opts.bufferPages ?? 64;
    this.wantIndirect = opts.maxIndirectSegments ?? 0;
  }

  protected override async setup(backendId: number): Promise<Record<string, string>> {
    this.ringPfn = this.env.ctx.allocPage();
    if (this.ringPfn < 0) throw new XenbusError("blkfront: no free guest page for the ring");
    for (let i = 0; i < this.bufferPages; i++) {
      const pfn = this.env.ctx.allocPage();
      if (pfn < 0)
        throw new XenbusError(
          `blkfront: only ${i} of ${this.bufferPages} buffer pages are free; give the domain more pages`,
        );
      this.freePages.push(pfn);
    }
    const protocol = blkifProtocol(this.abi);
    const front = new FrontRing(
      new GuestPage(this.env.ctx.mem, this.ringPfn),
      protocol.request,
      protocol.response,
    );
    for (let id = front.size - 1; id >= 0; id--) this.freeIds.push(id);
    this.ringRef = this.env.grants.grantAccess(backendId, this.ringPfn);
    this.channel = await EventChannel.allocUnbound(this.env.hypercalls, this.env.events, backendId);
    const ch = this.channel;
    const ring = new AsyncFrontRing(front, () => ch.notify(), protocol.ids, "microtask");
    this.ring = ring;
    ch.events$.subscribe(() => ring.onNotification());
    return { "ring-ref": String(this.ringRef), "event-channel": String(ch.port), protocol: this.abi.name };
  }

  protected override async connected(): Promise<void> {
    const key = (k: string) => this.env.store.tryRead(`${this.backendDir}/${k}`);
    const sectors = Number(await key("sectors"));
    if (!Number.isSafeInteger(sectors) || sectors < 0)
      throw new XenbusError(`${this.backendDir}/sectors is not a sector count`);
    this.sectors = sectors;
    this.sectorSize = Number((await key("sector-size")) ?? BLKIF_SECTOR_SIZE) || BLKIF_SECTOR_SIZE;
    this.readOnly = (Number((await key("info")) ?? 0) & Vdisk.ReadOnly) !== 0;
    this.features.flush = (await key("feature-flush-cache")) === "1";
    this.features.barrier = (await key("feature-barrier")) === "1";
    this.features.discard = (await key("feature-discard")) === "1";
    const maxInd = Number((await key("feature-max-indirect-segments")) ?? 0);
    this.features.maxIndirectSegments = Number.isSafeInteger(maxInd) && maxInd > 0 ? maxInd : 0;
    // Segments per request: 11 direct, or the smaller of both sides' indirect limits; never more
    // than the buffer pool can hold (minus the indirect descriptor pages).
    const ind = Math.min(
      this.wantIndirect,
      this.features.maxIndirectSegments,
      SEGMENTS_PER_INDIRECT_PAGE * BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
    );
    let per = Math.max(ind, BLKIF_MAX_SEGMENTS_PER_REQUEST);
    if (per > BLKIF_MAX_SEGMENTS_PER_REQUEST) per = Math.min(per, this.bufferPages - indirectPagesFor(per));
    this.segmentsPerRequest = Math.max(1, Math.min(per, this.bufferPages));
    // A back end that gives up on us (Closing after a protocol error) fails the outstanding and
    // later I/O with its reason instead of leaving it waiting forever.
    const ring = this.ring;
    this.backendWatch = this.env.store.watch(`${this.backendDir}/state`).subscribe(() => {
      void (async () => {
        const st = Number(await key("state"));
        if (st < XenbusState.Closing || !ring) return;
        const why = (await key("error")) ?? "no error key";
        ring.shutdown(new BlockRequestError(`back end ${this.backendDir} is closing (state ${st}): ${why}`));
      })();
    });
  }

  protected override async teardown(): Promise<void> {
    this.backendWatch?.unsubscribe();
    this.backendWatch = null;
    this.ring?.shutdown();
    await this.channel?.close();
    if (this.ringRef >= 0) this.env.grants.endAccess(this.ringRef);
    this.ringRef = -1;
  }

  // --- BlockDevice ---------------------------------------------------------------------------

  async read(sector: number, count: number): Promise<Uint8Array> {
    this.checkRange(sector, count);
    const out = new Uint8Array(count * BLKIF_SECTOR_SIZE);
    const per = this.segmentsPerRequest * SECTORS_PER_PAGE;
    const parts: Promise<void>[] = [];
    for (let s = 0; s < count; s += per) {
      const n = Math.min(per, count - s);
      parts.push(
        this.transfer(
          BlkifOp.Read,
          sector + s,
          n,
          out.subarray(s * BLKIF_SECTOR_SIZE, (s + n) * BLKIF_SECTOR_SIZE),
        ),
      );
    }
    await Promise.all(parts);
    return out;
  }

  async write(sector: number, data: Uint8Array): Promise<void> {
    if (data.length % BLKIF_SECTOR_SIZE !== 0)
      throw new BlockRequestError(`write of ${data.length} bytes: not a multiple of ${BLKIF_SECTOR_SIZE}`);
    const count = data.length / BLKIF_SECTOR_SIZE;
    this.checkRange(sector, count);
    if (this.readOnly)
      throw new BlockRequestError(`write at sector ${sector}: the disk is read-only (info & VDISK_READONLY)`);
    const per = this.segmentsPerRequest * SECTORS_PER_PAGE;
    const parts: Promise<void>[] = [];
    for (let s = 0; s < count; s += per) {
      const n = Math.min(per, count - s);
      parts.push(
        this.transfer(
          BlkifOp.Write,
          sector + s,
          n,
          data.subarray(s * BLKIF_SECTOR_SIZE, (s + n) * BLKIF_SECTOR_SIZE),
        ),
      );
    }
    await Promise.all(parts);
  }

  /** BLKIF_OP_FLUSH_DISKCACHE (no segments); EOPNOTSUPP if the back end lacks feature-flush-cache. */
  async flush(): Promise<void> {
    const st = await this.simple({
      kind: "rw",
      operation: BlkifOp.FlushDiskcache,
      id: 0,
      nrSegments: 0,
      handle: 0,
      sectorNumber: 0,
      segments: [],
    });
    if (st !== BlkifStatus.Okay) throw new BlockIoError(st, BlkifOp.FlushDiskcache, 0);
  }

  /** BLKIF_OP_DISCARD of a sector range. */
  async discard(sector: number, count: number): Promise<void> {
    this.checkRange(sector, count);
    const st = await this.simple({
      kind: "discard",
      operation: BlkifOp.Discard,
      id: 0,
      flag: 0,
      handle: 0,
      sectorNumber: sector,
      nrSectors: count,
    });
    if (st !== BlkifStatus.Okay) throw new BlockIoError(st, BlkifOp.Discard, sector);
  }

  /** Sends any request as is (tests of hostile or unusual requests); resolves with the status. */
  async raw(req: BlkifRequest): Promise<BlkifResponse> {
    const ring = this.connectedRing();
    const id = await this.takeId();
    try {
      return await ring.request({ ...req, id });
    } finally {
      this.freeId(id);
    }
  }

  // --- internals ---------------------------------------------------------------------------

  private connectedRing(): AsyncFrontRing<BlkifRequest, BlkifResponse> {
    if (!this.ring) throw new BlockRequestError("blkfront is not connected: call connect() first");
    return this.ring;
  }

  private checkRange(sector: number, count: number): void {
    if (
      !Number.isSafeInteger(sector) ||
      !Number.isSafeInteger(count) ||
      sector < 0 ||
      count < 0 ||
      sector + count > this.sectors
    )
      throw new BlockRequestError(
        `sectors [${sector}, ${sector + count}) are outside the ${this.sectors}-sector disk`,
      );
  }

  private async simple(req: BlkifRequest): Promise<number> {
    this.counters.requests++;
    const rsp = await this.raw(req);
    return rsp.operation === req.operation ? rsp.status : BlkifStatus.Error;
  }

  /** One read or write request of `count` ≤ segmentsPerRequest × 8 sectors; `buf` is its payload. */
  private async transfer(op: number, sector: number, count: number, buf: Uint8Array): Promise<void> {
    const ring = this.connectedRing();
    const nseg = Math.ceil(count / SECTORS_PER_PAGE);
    const indirect = nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST;
    const nind = indirect ? indirectPagesFor(nseg) : 0;
    const pages = await this.takePages(nseg + nind);
    const id = await this.takeId();
    const mem = this.env.ctx.mem;
    const write = op === BlkifOp.Write;
    const grefs: number[] = [];
    let status: number = BlkifStatus.Error;
    try {
      const segments: BlkifSegment[] = new Array(nseg);
      for (let i = 0; i < nseg; i++) {
        const pfn = pages[i]!;
        const n = Math.min(SECTORS_PER_PAGE, count - i * SECTORS_PER_PAGE);
        if (write)
          mem.writeBytes(pfn * PAGE_SIZE, buf.subarray(i * PAGE_SIZE, i * PAGE_SIZE + n * BLKIF_SECTOR_SIZE));
        // The back end only reads a write's pages: grant them read-only.
        const gref = this.env.grants.grantAccess(this.backendId, pfn, write);
        grefs.push(gref);
        segments[i] = { gref, firstSect: 0, lastSect: n - 1 };
      }
      this.counters.grants += nseg;
      let req: BlkifRequest;
      if (indirect) {
        const indirectGrefs: number[] = [];
        for (let p = 0; p < nind; p++) {
          const pfn = pages[nseg + p]!;
          const page = new GuestPage(mem, pfn);
          const end = Math.min(nseg, (p + 1) * SEGMENTS_PER_INDIRECT_PAGE);
          for (let i = p * SEGMENTS_PER_INDIRECT_PAGE; i < end; i++)
            writeSegment(segments[i]!, page, (i - p * SEGMENTS_PER_INDIRECT_PAGE) * BLKIF_SEGMENT_SIZE);
          const gref = this.env.grants.grantAccess(this.backendId, pfn, true);
          grefs.push(gref);
          indirectGrefs.push(gref);
        }
        this.counters.indirectRequests++;
        req = {
          kind: "indirect",
          operation: BlkifOp.Indirect,
          indirectOp: op,
          nrSegments: nseg,
          id,
          handle: 0,
          sectorNumber: sector,
          indirectGrefs,
        };
      } else {
        req = { kind: "rw", operation: op, nrSegments: nseg, id, handle: 0, sectorNumber: sector, segments };
      }
      this.counters.requests++;
      const rsp = await ring.request(req);
      status = rsp.operation === req.operation ? rsp.status : BlkifStatus.Error;
      if (status === BlkifStatus.Okay && !write) {
        for (let i = 0; i < nseg; i++) {
          const n = Math.min(SECTORS_PER_PAGE, count - i * SECTORS_PER_PAGE);
          buf.set(mem.readBytes(pages[i]! * PAGE_SIZE, n * BLKIF_SECTOR_SIZE), i * PAGE_SIZE);
        }
      }
    } finally {
      this.freeId(id);
      // End access before reuse. A grant the back end still holds mapped cannot be ended: that
      // page is retired (never reused) rather than handed to the next request.
      const reusable: number[] = [];
      for (let i = 0; i < pages.length; i++) {
        const gref = grefs[i];
        if (gref === undefined) {
          reusable.push(pages[i]!);
          continue;
        }
        try {
          this.env.grants.endAccess(gref);
          reusable.push(pages[i]!);
        } catch {
          this.counters.leakedPages++;
        }
      }
      this.givePages(reusable);
    }
    if (status !== BlkifStatus.Okay) throw new BlockIoError(status, op, sector);
  }

  private takePages(n: number): Promise<number[]> {
    if (this.pageWaiters.length === 0 && this.freePages.length >= n)
      return Promise.resolve(this.freePages.splice(-n, n));
    return new Promise((resolve) => this.pageWaiters.push({ n, resolve }));
  }

  private givePages(pfns: number[]): void {
    this.freePages.push(...pfns);
    // FIFO: the oldest waiter first, so a large request is not starved by small ones.
    while (this.pageWaiters.length > 0 && this.freePages.length >= this.pageWaiters[0]!.n) {
      const w = this.pageWaiters.shift()!;
      w.resolve(this.freePages.splice(-w.n, w.n));
    }
  }

  private takeId(): Promise<number> {
    const id = this.freeIds.pop();
    if (id !== undefined) return Promise.resolve(id);
    return new Promise((resolve) => this.idWaiters.push(resolve));
  }

  private freeId(id: number): void {
    const w = this.idWaiters.shift();
    if (w) w(id);
    else this.freeIds.push(id);
  }
}
