/**
 * Machine memory as the hypervisor sees it: the machine's PhysicalMemory split into 4 KiB
 * frames, a deterministic page allocator with per-domain accounting and limits, the M2P table
 * (frame → owner domain and pfn), and per-domain access rights that the isolation oracle and
 * every guest-memory accessor check.
 *
 * Rights: a domain may read and write the frames it owns; a frame of another domain becomes
 * accessible only while mapped into it (grant mapping, refcounted, read-only or writable).
 */
import { INVALID_MFN, type M2p, type MachinePageAllocator } from "../full-virt/index.js";
import { PAGE_SIZE, type PhysicalMemory } from "../machine/index.js";

/** Owner value of frames the hypervisor keeps for itself. */
export const OWNER_XEN = 0x7ff2;
const FREE = -1;

/** Access-right bits in a domain's rights table. */
export const Access = { none: 0, read: 1, write: 2 } as const;

interface DomainAccount {
  pages: number;
  maxPages: number;
  /** One byte per machine frame: Access bits. */
  rights: Uint8Array;
  /** Frames of other domains mapped here: mfn → [readers, writers]. */
  foreign: Map<number, [number, number]>;
}

export class MachineMemory implements MachinePageAllocator, M2p {
  readonly machinePages: number;
  /** Owner domid per frame, FREE (-1) if free. */
  private readonly owners: Int32Array;
  /** pfn per frame in its owner's pseudo-physical space, -1 if none. */
  private readonly m2p: Int32Array;
  /** Free frames as a stack, lowest frame on top so allocation order is deterministic. */
  private readonly freeStack: Int32Array;
  private freeTop = 0;
  private readonly accounts = new Map<number, DomainAccount>();

  constructor(
    readonly memory: PhysicalMemory,
    /** Frames [0, reserved) belong to the hypervisor (its own structures, and never a guest's page 0). */
    reserved = 1,
  ) {
    this.machinePages = memory.pages;
    this.owners = new Int32Array(this.machinePages).fill(FREE);
    this.m2p = new Int32Array(this.machinePages).fill(-1);
    this.freeStack = new Int32Array(this.machinePages);
    for (let mfn = this.machinePages - 1; mfn >= reserved; mfn--) this.freeStack[this.freeTop++] = mfn;
    for (let mfn = 0; mfn < reserved && mfn < this.machinePages; mfn++) this.owners[mfn] = OWNER_XEN;
  }

  /** Free frames left. */
  get freePages(): number {
    return this.freeTop;
  }

  /** Opens the account of a new domain with a page limit. */
  addDomain(domid: number, maxPages: number): void {
    if (this.accounts.has(domid)) throw new Error(`domain ${domid} already has a memory account`);
    this.accounts.set(domid, {
      pages: 0,
      maxPages,
      rights: new Uint8Array(this.machinePages),
      foreign: new Map(),
    });
  }

  /** Closes an account; every frame must have been freed and every foreign mapping dropped. */
  removeDomain(domid: number): void {
    const a = this.accounts.get(domid);
    if (!a) return;
    if (a.pages !== 0) throw new Error(`domain ${domid} still owns ${a.pages} pages`);
    this.accounts.delete(domid);
  }

  /** Pages currently owned by `domid`. */
  pagesOf(domid: number): number {
    return this.accounts.get(domid)?.pages ?? 0;
  }

  maxPagesOf(domid: number): number {
    return this.accounts.get(domid)?.maxPages ?? 0;
  }

  allocate(domid: number): number {
    const a = this.accounts.get(domid);
    if (!a || a.pages >= a.maxPages || this.freeTop === 0) return INVALID_MFN;
    const mfn = this.freeStack[--this.freeTop]!;
    this.owners[mfn] = domid;
    this.m2p[mfn] = -1;
    a.pages++;
    a.rights[mfn] = Access.read | Access.write;
    // A frame never carries a previous owner's data into a new domain.
    this.memory.u8.fill(0, mfn * PAGE_SIZE, (mfn + 1) * PAGE_SIZE);
    return mfn;
  }

  free(mfn: number): void {
    if (!this.valid(mfn)) return;
    const owner = this.owners[mfn]!;
    if (owner === FREE || owner === OWNER_XEN) return;
    const a = this.accounts.get(owner);
    if (a) {
      a.pages--;
      a.rights[mfn] = Access.none;
    }
    // Whoever still maps the frame loses access: a freed frame is nobody's (Xen keeps a page
    // referenced while mapped; the grant table must unmap first — this is the backstop).
    for (const other of this.accounts.values()) {
      if (other.foreign.delete(mfn)) other.rights[mfn] = Access.none;
    }
    this.owners[mfn] = FREE;
    this.m2p[mfn] = -1;
    this.freeStack[this.freeTop++] = mfn;
  }

  owner(mfn: number): number {
    return this.valid(mfn) ? this.owners[mfn]! : FREE;
  }

  pfnOf(mfn: number): number {
    return this.valid(mfn) ? this.m2p[mfn]! : -1;
  }

  /** Records that `mfn` backs `pfn` in its owner (MMU_MACHPHYS_UPDATE's effect). */
  setPfn(mfn: number, pfn: number): void {
    if (this.valid(mfn)) this.m2p[mfn] = pfn;
  }

  /** Access bits `domid` has on `mfn` (Access.read | Access.write). O(1); the oracle's check. */
  rights(domid: number, mfn: number): number {
    const a = this.accounts.get(domid);
    return a && this.valid(mfn) ? a.rights[mfn]! : Access.none;
  }

  /** True if `domid` may access `mfn` (for writing if `write`). */
  canAccess(domid: number, mfn: number, write: boolean): boolean {
    const r = this.rights(domid, mfn);
    return write ? (r & Access.write) !== 0 : (r & Access.read) !== 0;
  }

  /**
   * Gives `domid` access to another domain's frame while it is mapped there (grant map).
   * Refcounted per (domain, frame); a frame mapped read-only and writable is writable.
   */
  mapForeign(domid: number, mfn: number, writable: boolean): boolean {
    const a = this.accounts.get(domid);
    if (!a || !this.valid(mfn) || this.owners[mfn] === FREE) return false;
    const c = a.foreign.get(mfn) ?? [0, 0];
    if (writable) c[1]++;
    else c[0]++;
    a.foreign.set(mfn, c);
    this.refreshForeign(a, domid, mfn, c);
    return true;
  }

  /** Drops one foreign mapping made by mapForeign. */
  unmapForeign(domid: number, mfn: number, writable: boolean): void {
    const a = this.accounts.get(domid);
    const c = a?.foreign.get(mfn);
    if (!a || !c) return;
    if (writable) c[1] = Math.max(0, c[1] - 1);
    else c[0] = Math.max(0, c[0] - 1);
    if (c[0] === 0 && c[1] === 0) a.foreign.delete(mfn);
    this.refreshForeign(a, domid, mfn, c);
  }

  /** Frames of other domains currently mapped into `domid`. */
  foreignMappings(domid: number): number {
    return this.accounts.get(domid)?.foreign.size ?? 0;
  }

  private refreshForeign(a: DomainAccount, domid: number, mfn: number, c: [number, number]): void {
    if (this.owners[mfn] === domid) return; // a loopback mapping of one's own frame changes nothing
    a.rights[mfn] = c[1] > 0 ? Access.read | Access.write : c[0] > 0 ? Access.read : Access.none;
  }

  private valid(mfn: number): boolean {
    return Number.isInteger(mfn) && mfn >= 0 && mfn < this.machinePages;
  }
}
