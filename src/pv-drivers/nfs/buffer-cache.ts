/**
 * The monitor-wide NFS buffer cache (Disco's NFS optimization, seed: "Special handling for NFS
 * so that all VMs 'share' a buffer cache"): file pages keyed by (file handle, page index),
 * held in machine frames owned by the driver domain and granted read-only to every front end
 * that reads them. N guests reading one file map the same frames: the data costs its size in
 * machine memory once, not N times, and a read is a remap rather than a copy.
 *
 * Coherence: each file's entry carries a version (fileid, size, mtime, ctime from a fresh
 * GETATTR); a different version drops every page of the file, and the back end drops a file
 * explicitly on WRITE, SETATTR, REMOVE, RENAME and CREATE through the ring. A dropped page
 * whose grant a front end still holds mapped is *retired*, never refilled: its frame keeps the
 * old bytes (a stale mapping can never show newer data) and the grant is read-only (the front
 * end cannot write it). Retired frames return to the free list once every mapping is gone.
 *
 * Bounded: at most `maxFrames` frames (resident + retired); when full the least recently used
 * page that no front end has mapped is evicted. With every frame mapped, `put` returns null
 * and the back end answers NFSIF_RSP_ENOSPC.
 */

/** What the cache needs from the driver domain: frames, their content, grants. */
export interface CacheFrames {
  /** A fresh frame of the driver domain (its pfn), or −1 when it has none left. */
  allocFrame(): number;
  /** Writes `data` at the start of frame `pfn` and zero-fills the rest of the page. */
  fill(pfn: number, data: Uint8Array): void;
  /** Grants `domid` read-only access to frame `pfn`; returns the grant reference. */
  grantReadOnly(domid: number, pfn: number): number;
  /** True while the grantee holds `ref` mapped. */
  inUse(ref: number): boolean;
  /** Ends access through `ref` (only called when not in use). */
  endAccess(ref: number): void;
}

/** One cached page. */
export interface CachePage {
  readonly pfn: number;
  readonly file: string;
  readonly index: number;
  /** Valid bytes (a short last page of a file is zero-filled after them). */
  length: number;
  /** Grants of this frame: domid, ref pairs. */
  readonly grants: { domid: number; ref: number }[];
  prev: CachePage | null;
  next: CachePage | null;
}

interface FileEntry {
  version: string;
  readonly pages: Map<number, CachePage>;
}

/** Counters of the cache (statistics, tests, compare). */
export interface BufferCacheStats {
  /** Page lookups served from the cache / that had to be filled from the server. */
  hits: number;
  misses: number;
  /** Pages filled with data from the server. */
  fills: number;
  /** Pages dropped by a version change or an explicit invalidation. */
  invalidated: number;
  /** Resident pages evicted to make room. */
  evictions: number;
  /** Grants issued to front ends. */
  grants: number;
  /** Times a page got a grant for a second (third, …) front end: the data was shared, not copied. */
  sharedGrants: number;
}

export class BufferCache {
  readonly stats: BufferCacheStats = {
    hits: 0,
    misses: 0,
    fills: 0,
    invalidated: 0,
    evictions: 0,
    grants: 0,
    sharedGrants: 0,
  };
  private readonly files = new Map<string, FileEntry>();
  private readonly free: number[] = [];
  private readonly retired: CachePage[] = [];
  /** LRU list of resident pages: head = least recently used. */
  private head: CachePage | null = null;
  private tail: CachePage | null = null;
  private resident = 0;
  /** Frames taken from the driver domain so far (resident + retired + free). */
  framesAllocated = 0;

  constructor(
    private readonly frames: CacheFrames,
    /** Frames the cache may hold at most (4 KiB each). */
    readonly maxFrames = 256,
  ) {}

  /** Pages holding current data. */
  get residentPages(): number {
    return this.resident;
  }

  /** Dropped pages still mapped by some front end. */
  get retiredPages(): number {
    return this.retired.length;
  }

  /** Frames holding file data now (resident + retired): the machine memory the data costs. */
  get framesInUse(): number {
    return this.resident + this.retired.length;
  }

  /** Resident pages granted to at least two front ends. */
  get sharedPages(): number {
    let n = 0;
    for (let p = this.head; p !== null; p = p.next) if (p.grants.length >= 2) n++;
    return n;
  }

  /**
   * Frames holding file data someone can still see, as the driver domain's pfns: resident pages
   * and retired pages a front end still maps (retired pages nobody maps are free frames waiting
   * for the next `reclaim`).
   */
  framePfns(): number[] {
    const out: number[] = [];
    for (let p = this.head; p !== null; p = p.next) out.push(p.pfn);
    for (const p of this.retired) if (p.grants.some((g) => this.frames.inUse(g.ref))) out.push(p.pfn);
    return out;
  }

  /** Drops the file's pages if its version changed; records the version. */
  validate(file: string, version: string): void {
    const e = this.files.get(file);
    if (e === undefined) {
      this.files.set(file, { version, pages: new Map() });
      return;
    }
    if (e.version === version) return;
    this.dropPages(e);
    e.version = version;
  }

  /** The file's current version, if known. */
  versionOf(file: string): string | undefined {
    return this.files.get(file)?.version;
  }

  /** Looks a page up for a read: counts a hit or a miss; a hit becomes most recently used. */
  lookup(file: string, index: number): CachePage | undefined {
    const p = this.files.get(file)?.pages.get(index);
    if (p === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.touch(p);
    return p;
  }

  /** The cached page without statistics or LRU change. */
  peek(file: string, index: number): CachePage | undefined {
    return this.files.get(file)?.pages.get(index);
  }

  /**
   * Caches `data` (≤ 4096 bytes) as page `index` of `file` (whose version must have been set
   * with `validate`). Returns null when no frame can be had (every frame mapped).
   */
  put(file: string, index: number, data: Uint8Array): CachePage | null {
    const e = this.files.get(file);
    if (e === undefined) return null;
    const old = e.pages.get(index);
    if (old !== undefined) this.drop(e, old);
    const pfn = this.takeFrame();
    if (pfn < 0) return null;
    this.frames.fill(pfn, data);
    const p: CachePage = { pfn, file, index, length: data.length, grants: [], prev: null, next: null };
    e.pages.set(index, p);
    this.linkTail(p);
    this.resident++;
    this.stats.fills++;
    return p;
  }

  /** The read-only grant of `page` for `domid` (issued once per page and domain). */
  grantFor(page: CachePage, domid: number): number {
    for (const g of page.grants) if (g.domid === domid) return g.ref;
    const ref = this.frames.grantReadOnly(domid, page.pfn);
    if (page.grants.length > 0) this.stats.sharedGrants++;
    page.grants.push({ domid, ref });
    this.stats.grants++;
    return ref;
  }

  /** Drops every page of `file` (WRITE, SETATTR, REMOVE… through the ring). */
  invalidate(file: string): void {
    const e = this.files.get(file);
    if (e === undefined) return;
    this.dropPages(e);
    this.files.delete(file);
  }

  /** Frees retired frames nobody maps any more; returns how many were freed. */
  reclaim(): number {
    let freed = 0;
    for (let i = this.retired.length - 1; i >= 0; i--) {
      const p = this.retired[i]!;
      if (this.releaseGrants(p)) {
        this.retired.splice(i, 1);
        this.free.push(p.pfn);
        freed++;
      }
    }
    return freed;
  }

  /** Drops the grants `domid` holds unmapped (a front end went away). */
  forgetDomain(domid: number): void {
    for (let p = this.head; p !== null; p = p.next) {
      for (let i = p.grants.length - 1; i >= 0; i--) {
        const g = p.grants[i]!;
        if (g.domid === domid && !this.frames.inUse(g.ref)) {
          this.frames.endAccess(g.ref);
          p.grants.splice(i, 1);
        }
      }
    }
    this.reclaim();
  }

  // --- internals -----------------------------------------------------------------------------

  private dropPages(e: FileEntry): void {
    for (const p of e.pages.values()) this.drop(e, p);
  }

  /** Removes a resident page: its frame is freed, or retired while a front end maps it. */
  private drop(e: FileEntry, p: CachePage): void {
    e.pages.delete(p.index);
    this.unlink(p);
    this.resident--;
    this.stats.invalidated++;
    if (this.releaseGrants(p)) this.free.push(p.pfn);
    else this.retired.push(p);
  }

  /** Ends every grant of `p` that is not mapped; true when none is left. */
  private releaseGrants(p: CachePage): boolean {
    for (let i = p.grants.length - 1; i >= 0; i--) {
      const g = p.grants[i]!;
      if (this.frames.inUse(g.ref)) continue;
      this.frames.endAccess(g.ref);
      p.grants.splice(i, 1);
    }
    return p.grants.length === 0;
  }

  private takeFrame(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    if (this.reclaim() > 0) return this.free.pop()!;
    if (this.framesAllocated < this.maxFrames) {
      const pfn = this.frames.allocFrame();
      if (pfn >= 0) {
        this.framesAllocated++;
        return pfn;
      }
    }
    // Evict the least recently used page nobody maps.
    for (let p = this.head; p !== null; p = p.next) {
      if (p.grants.some((g) => this.frames.inUse(g.ref))) continue;
      const e = this.files.get(p.file)!;
      e.pages.delete(p.index);
      this.unlink(p);
      this.resident--;
      this.stats.evictions++;
      this.releaseGrants(p);
      return p.pfn;
    }
    return -1;
  }

  private touch(p: CachePage): void {
    if (this.tail === p) return;
    this.unlink(p);
    this.linkTail(p);
  }

  private linkTail(p: CachePage): void {
    p.prev = this.tail;
    p.next = null;
    if (this.tail !== null) this.tail.next = p;
    else this.head = p;
    this.tail = p;
  }

  private unlink(p: CachePage): void {
    if (p.prev !== null) p.prev.next = p.next;
    else this.head = p.next;
    if (p.next !== null) p.next.prev = p.prev;
    else this.tail = p.prev;
    p.prev = null;
    p.next = null;
  }
}
