/**
 * Shadow page tables (the seed: "VMware keeps a shadow copy of each guest page table ... the
 * real CR3 points to the shadow"; Adams & Agesen §2.4 "traces" and hidden page faults).
 *
 * - One shadow page directory per guest CR3 (cache keyed by the guest's CR3; key -1 is the
 *   identity space used while the guest runs with paging off). A guest CR3 load reuses a cached
 *   shadow or builds an empty one.
 * - Shadow entries are filled lazily: a #PF the shadow cannot explain but the guest's tables can
 *   is a hidden page fault (filled here, invisible to the guest); one the guest's tables also
 *   refuse is a true page fault, reflected with the guest's CR2 and error code.
 * - Guest frames used as page directories or page tables by any cached shadow are tracked: every
 *   shadow mapping of them is read-only, so guest writes fault and are emulated by the monitor,
 *   which then drops the shadow entries the write made stale.
 * - A/D: entries are filled through the guest walk, which sets the guest's Accessed bit, and are
 *   writable only once the guest entry is Dirty (a first write faults and sets Dirty).
 * - PDE 1023 maps the monitor hole (layout.ts) through a per-shadow hole page table.
 */
import type { PhysicalMemory } from "../../machine/index.js";
import type { GuestMmu } from "./guest-mmu.js";
import { HOLE_BASE, HOLE_PDE } from "./layout.js";

const P = 1;
const W = 2;
const U = 4;
const A = 0x20;
const D = 0x40;
/** Role index of a tracked frame used as a page directory (PT roles are PDE indexes 0..1023). */
const ROLE_PD = 1024;
/** Cached shadow address spaces before the cache is dropped wholesale. */
const MAX_SHADOWS = 32;

export interface ShadowSpace {
  readonly key: number;
  /** Machine frame of the shadow page directory. */
  readonly pd: number;
  /** Machine frame of the shadow page table for each PDE index, -1 if none yet. */
  readonly pts: Int32Array;
  /** The hole page table (PDE 1023). */
  readonly hole: number;
}

export const FillResult = {
  /** The shadow now maps the page: resume the guest (hidden page fault). */
  hidden: 0,
  /** The guest's own tables refuse the access: reflect #PF with `guest.faultCode`. */
  true: 1,
  /** The guest may write but the shadow must stay read-only (tracked page table, or a supervisor write with CR0.WP = 0): emulate the write. */
  emulateWrite: 2,
  /** The guest page is outside its RAM. */
  noMemory: 3,
} as const;
export type FillResult = (typeof FillResult)[keyof typeof FillResult];

export interface ShadowHost {
  /** A zeroed machine frame for the domain, or < 0. */
  allocFrame(): number;
  freeFrame(mfn: number): void;
  /** Fills the fixed part of a new hole page table (GDT, IDT, TSS). */
  initHole(holePtMfn: number): void;
  /** The CPU's translations may be stale (flush the TLB of the current space). */
  flushTlb(): void;
  /** The CPU's translation of one linear page may be stale. */
  invalidatePage(lin: number): void;
}

export class ShadowMmu {
  private readonly cache = new Map<number, ShadowSpace>();
  current: ShadowSpace | null = null;
  /** Guest frame → shadows and roles in which it serves as a page directory or table. */
  private readonly tracked = new Map<number, number[]>();
  private readonly trackedSpaces = new Map<number, ShadowSpace[]>();
  /** Guest frame → machine addresses of writable shadow PTEs mapping it. */
  private readonly rmap = new Map<number, number[]>();
  builds = 0;
  reuses = 0;
  frames = 0;

  constructor(
    private readonly mem: PhysicalMemory,
    private readonly guest: GuestMmu,
    private readonly host: ShadowHost,
  ) {}

  /** The shadow space for `key` (guest CR3 frame address, or -1 with paging off), built if missing. */
  activate(key: number): ShadowSpace | null {
    let s = this.cache.get(key);
    if (s !== undefined) {
      this.reuses++;
    } else {
      if (this.cache.size >= MAX_SHADOWS) this.dropAll();
      const pd = this.alloc();
      const hole = this.alloc();
      if (pd < 0 || hole < 0) return null;
      this.host.initHole(hole);
      this.mem.write32(pd * 4096 + HOLE_PDE * 4, (hole * 4096) | P | W | A);
      s = { key, pd, pts: new Int32Array(1024).fill(-1), hole };
      this.cache.set(key, s);
      this.builds++;
    }
    this.current = s;
    return s;
  }

  /** Every cached shadow (the hole writer and code-copy invalidation visit them all). */
  spaces(): IterableIterator<ShadowSpace> {
    return this.cache.values();
  }

  /** Forgets every shadow (guest CR4.PSE/CR0.WP changes, cache overflow); frames go back. */
  dropAll(): void {
    for (const s of this.cache.values()) {
      this.host.freeFrame(s.pd);
      this.host.freeFrame(s.hole);
      for (const pt of s.pts) if (pt >= 0) this.host.freeFrame(pt);
      this.frames -= 2 + s.pts.filter((x) => x >= 0).length;
    }
    this.cache.clear();
    this.tracked.clear();
    this.trackedSpaces.clear();
    this.rmap.clear();
    this.current = null;
  }

  /** True if guest frame `pfn` is a page directory or table of some cached shadow. */
  isTracked(pfn: number): boolean {
    return this.tracked.has(pfn);
  }

  /**
   * Handles a #PF at `lin` (not in the hole) in the current shadow: walks the guest's tables
   * for the access and fills the shadow entry.
   */
  fill(lin: number, write: boolean, user: boolean): FillResult {
    const s = this.current!;
    const g = this.guest;
    const gpa = g.walk(lin, write, user, true);
    if (gpa < 0) return FillResult.true;
    const pfn = gpa >>> 12;
    const ma = g.machineAddr(gpa);
    if (ma < 0) return FillResult.noMemory;
    const mfn = ma >>> 12;
    if (g.pg) {
      this.track(g.pdPfn, s, ROLE_PD);
      if (g.ptPfn >= 0) this.track(g.ptPfn, s, lin >>> 22);
    }
    const pdi = lin >>> 22;
    let pt = s.pts[pdi]!;
    if (pt < 0) {
      pt = this.alloc();
      if (pt < 0) return FillResult.noMemory;
      s.pts[pdi] = pt;
    }
    this.mem.write32(s.pd * 4096 + pdi * 4, (pt * 4096) | P | W | U | A);
    const isPt = this.tracked.has(pfn);
    const w = g.writable && g.dirty && !isPt;
    const pteAddr = pt * 4096 + ((lin >>> 12) & 0x3ff) * 4;
    this.mem.write32(pteAddr, (mfn * 4096) | P | A | (w ? W | D : 0) | (g.user ? U : 0));
    if (w) {
      let list = this.rmap.get(pfn);
      if (list === undefined) {
        list = [];
        this.rmap.set(pfn, list);
      }
      list.push(pteAddr);
    }
    // Only this page's translation can be cached stale (a read-only entry being upgraded).
    this.host.invalidatePage(lin);
    // A write the guest allows but the shadow cannot (tracked table, or CR0.WP = 0 supervisor
    // write to a read-only page) is emulated by the monitor.
    if (write && !w) return FillResult.emulateWrite;
    return FillResult.hidden;
  }

  /** Machine address of the shadow PTE for `lin` in the current space, or -1. */
  pteAddress(lin: number): number {
    const s = this.current;
    if (s === null) return -1;
    const pt = s.pts[lin >>> 22]!;
    return pt < 0 ? -1 : pt * 4096 + ((lin >>> 12) & 0x3ff) * 4;
  }

  /** INVLPG: drops the current shadow's entry for `lin`. */
  invalidate(lin: number): void {
    const a = this.pteAddress(lin);
    if (a >= 0) this.mem.write32(a, 0);
    this.host.flushTlb();
  }

  /**
   * The guest wrote bytes [off, off+len) of tracked frame `pfn` (by an emulated write): drops
   * every shadow entry derived from the entries written.
   */
  tableWritten(pfn: number, off: number, len: number): void {
    const roles = this.tracked.get(pfn);
    const spaces = this.trackedSpaces.get(pfn);
    if (roles === undefined || spaces === undefined) return;
    const first = off >>> 2;
    const last = Math.min(1023, (off + len - 1) >>> 2);
    for (let i = 0; i < roles.length; i++) {
      const role = roles[i]!;
      const s = spaces[i]!;
      for (let e = first; e <= last; e++) {
        if (role === ROLE_PD) {
          if (e === HOLE_PDE) continue;
          const pt = s.pts[e]!;
          if (pt >= 0) this.mem.u8.fill(0, pt * 4096, pt * 4096 + 4096);
          this.mem.write32(s.pd * 4096 + e * 4, 0);
        } else {
          const pt = s.pts[role]!;
          if (pt >= 0) this.mem.write32(pt * 4096 + e * 4, 0);
        }
      }
    }
    this.host.flushTlb();
  }

  /** Starts tracking `pfn` in role `role` of `s`; on first use, write-protects every mapping of it. */
  private track(pfn: number, s: ShadowSpace, role: number): void {
    let roles = this.tracked.get(pfn);
    let spaces = this.trackedSpaces.get(pfn);
    if (roles === undefined || spaces === undefined) {
      roles = [];
      spaces = [];
      this.tracked.set(pfn, roles);
      this.trackedSpaces.set(pfn, spaces);
      const list = this.rmap.get(pfn);
      if (list !== undefined) {
        for (const a of list) {
          const v = this.mem.read32(a);
          if (((v >>> 12) & 0xfffff) !== 0) this.mem.write32(a, v & ~W);
        }
        this.rmap.delete(pfn);
        this.host.flushTlb();
      }
    }
    for (let i = 0; i < roles.length; i++) if (roles[i] === role && spaces[i] === s) return;
    roles.push(role);
    spaces.push(s);
  }

  private alloc(): number {
    const f = this.host.allocFrame();
    if (f >= 0) this.frames++;
    return f;
  }
}

/** True if `lin` lies in the monitor hole. */
export function inHole(lin: number): boolean {
  return lin >>> 0 >= HOLE_BASE;
}
