/**
 * Xen's page types for direct paging (xen/arch/x86/mm.c: get_page_type / put_page_type,
 * get_page_from_l1e / l2e, alloc_l1_table / alloc_l2_table): every frame of a PV domain is at
 * most one of an L1 page table, an L2 page table or a writable page at any time, with a count of
 * the references that hold it in that type. A frame becomes a page table only while nobody maps
 * it writable; a writable mapping of a page table is refused. Validating a table (its type count
 * going 0 → 1) takes a reference for each of its present entries (a writable type reference for
 * each writable L1 entry, an L1 type reference for each L2 entry) and fails, undoing what it
 * took, if any entry is bad; the last reference going away (1 → 0) drops them again.
 *
 * What an entry may map: a frame of the domain's own pseudo-physical memory (never another
 * domain's, never a monitor frame) — `own`. L2 entries: no 4 MiB pages (PS), no linear page
 * tables (an L2 entry naming an L2), never the hole slot (the monitor writes it). Errors are
 * Xen's errno values: -EPERM for a frame the domain does not own, -EINVAL for a type conflict
 * or a bad entry.
 *
 * All state is in typed arrays indexed by machine frame; validation recursion is at most two
 * deep (L2 → L1 → writable), so the hot path allocates nothing.
 */
import { Errno } from "../../../hypercalls/index.js";
import type { PhysicalMemory } from "../../../machine/index.js";
import { HOLE_SLOT } from "./layout.js";

/** Frame types (Xen's PGT_none, PGT_writable_page, PGT_l1_page_table, PGT_l2_page_table). */
export const PageType = { none: 0, writable: 1, l1: 2, l2: 3 } as const;
export type PageType = (typeof PageType)[keyof typeof PageType];

const P = 1;
const RW = 2;
const PS = 0x80;

/** Counters for statistics and tests. */
export interface PageTypeCounts {
  validations: number;
  devalidations: number;
  refusals: number;
}

export class PageTypes {
  /** PageType per machine frame. */
  readonly type: Uint8Array;
  /** Type references per machine frame. */
  readonly count: Int32Array;
  /** 1 while pinned (MMUEXT_PIN_L*_TABLE holds one type reference). */
  readonly pinned: Uint8Array;
  readonly counts: PageTypeCounts = { validations: 0, devalidations: 0, refusals: 0 };

  constructor(
    private readonly mem: PhysicalMemory,
    machinePages: number,
    /** True if `mfn` is a frame of the domain's pseudo-physical memory (mappable by it). */
    private readonly own: (mfn: number) => boolean,
    /** The monitor's PDE for the hole slot (written into every L2 this validates). */
    private readonly holePde: number,
    /**
     * Frames that may be mapped but never become page tables: pages the hypervisor itself writes
     * (shared_info, the store and console rings, start_info). In Xen shared_info is a Xen page
     * and cannot be a table at all; here it lies in the domain's memory, and event bits or
     * console input written into a validated table would be unvalidated PTEs.
     */
    private readonly neverTable: (mfn: number) => boolean = () => false,
  ) {
    this.type = new Uint8Array(machinePages);
    this.count = new Int32Array(machinePages);
    this.pinned = new Uint8Array(machinePages);
  }

  /** True if `mfn` is currently a validated table of type `t` (L1 or L2). */
  isTable(mfn: number, t: PageType): boolean {
    return this.type[mfn] === t && this.count[mfn]! > 0;
  }

  /** True if `mfn` is an own frame of the domain (entries may map it). */
  owns(mfn: number): boolean {
    return mfn >= 0 && mfn < this.type.length && this.own(mfn);
  }

  /**
   * Takes a type reference of `t` on `mfn` (get_page_type): 0, or -EINVAL if the frame has
   * another type with references, or if validating it as a table fails.
   */
  getType(mfn: number, t: PageType): number {
    const c = this.count[mfn]!;
    if (c > 0) {
      if (this.type[mfn] !== t) {
        this.counts.refusals++;
        return Errno.EINVAL;
      }
      this.count[mfn] = c + 1;
      return 0;
    }
    if ((t === PageType.l1 || t === PageType.l2) && this.neverTable(mfn)) {
      this.counts.refusals++;
      return Errno.EINVAL;
    }
    // 0 → 1: the frame changes type; a table is validated first. The count is taken before
    // validating so that an entry naming the frame itself sees the new type (and is refused).
    this.type[mfn] = t;
    this.count[mfn] = 1;
    if (t === PageType.l1 || t === PageType.l2) {
      const r = t === PageType.l1 ? this.validateL1(mfn) : this.validateL2(mfn);
      if (r < 0) {
        this.count[mfn] = 0;
        this.type[mfn] = PageType.none;
        this.counts.refusals++;
        return r;
      }
      this.counts.validations++;
    }
    return 0;
  }

  /** Drops a type reference (put_page_type); the last one devalidates a table. */
  putType(mfn: number): void {
    const c = this.count[mfn]!;
    if (c <= 0) return;
    this.count[mfn] = c - 1;
    if (c === 1) {
      const t = this.type[mfn]!;
      if (t === PageType.l1 || t === PageType.l2) {
        this.devalidate(mfn, t);
        this.counts.devalidations++;
      }
      this.type[mfn] = PageType.none;
    }
  }

  /** get_page_from_l1e: references what a new L1 entry maps. 0 or a negative errno. */
  getL1e(pte: number): number {
    if ((pte & P) === 0) return 0;
    const mfn = pte >>> 12;
    if (!this.owns(mfn)) return Errno.EPERM;
    return (pte & RW) !== 0 ? this.getType(mfn, PageType.writable) : 0;
  }

  /** put_page_from_l1e. */
  putL1e(pte: number): void {
    if ((pte & (P | RW)) === (P | RW)) this.putType(pte >>> 12);
  }

  /** get_page_from_l2e: an L2 entry references an L1 table. 0 or a negative errno. */
  getL2e(pde: number): number {
    if ((pde & P) === 0) return 0;
    if ((pde & PS) !== 0) return Errno.EINVAL;
    const mfn = pde >>> 12;
    if (!this.owns(mfn)) return Errno.EPERM;
    return this.getType(mfn, PageType.l1);
  }

  /** put_page_from_l2e. */
  putL2e(pde: number): void {
    if ((pde & P) !== 0) this.putType(pde >>> 12);
  }

  private validateL1(mfn: number): number {
    const base = mfn * 4096;
    for (let i = 0; i < 1024; i++) {
      const r = this.getL1e(this.mem.read32(base + i * 4));
      if (r < 0) {
        for (let k = 0; k < i; k++) this.putL1e(this.mem.read32(base + k * 4));
        return r;
      }
    }
    return 0;
  }

  private validateL2(mfn: number): number {
    const base = mfn * 4096;
    for (let i = 0; i < HOLE_SLOT; i++) {
      const r = this.getL2e(this.mem.read32(base + i * 4));
      if (r < 0) {
        for (let k = 0; k < i; k++) this.putL2e(this.mem.read32(base + k * 4));
        return r;
      }
    }
    this.mem.write32(base + HOLE_SLOT * 4, this.holePde);
    return 0;
  }

  private devalidate(mfn: number, t: PageType): void {
    const base = mfn * 4096;
    if (t === PageType.l1) {
      for (let i = 0; i < 1024; i++) this.putL1e(this.mem.read32(base + i * 4));
    } else {
      for (let i = 0; i < HOLE_SLOT; i++) this.putL2e(this.mem.read32(base + i * 4));
    }
  }
}
