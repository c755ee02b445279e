/**
 * Disco's pmap and its two reverse maps, per domain (the seed's `emulate_tlbwrite_instruction`;
 * Disco SOSP'97 §4.2.2–4.2.3):
 *  - pmap: guest-physical frame → machine frame, filled on demand from the allocator the first
 *    time a guest mapping (or the kseg0 alias) reaches the frame;
 *  - pmapbackmap: machine frame → guest-physical frame;
 *  - memmap: machine frame → the guest virtual pages the monitor mapped onto it in the hardware
 *    TLB, so a frame that changes hands can be shot down (`shootdown`).
 *
 * Backing: the domain's P2M (the hypervisor's table) is the pmap of record — every frame the pmap
 * takes is entered there (and in the M2P), so the hypervisor's accounting, its destroy path
 * (which frees every P2M frame) and the isolation oracle all see it. `table` is a flat copy the
 * CPU's interpreted-kseg0 hook reads directly (`MipsCpu.unmappedRemap`).
 */
import { INVALID_MFN, type MachinePageAllocator } from "../interfaces.js";

/** What the pmap needs of the domain's P2M (src/hypervisor's P2mTable satisfies it). */
export interface PmapBacking {
  readonly nrPfns: number;
  lookup(pfn: number): number;
  writable(pfn: number): boolean;
  set(pfn: number, mfn: number, writable?: boolean): boolean;
}

/** The allocator, plus the M2P update where the hypervisor offers one (MachineMemory.setPfn). */
export interface PmapAllocator extends MachinePageAllocator {
  setPfn?(mfn: number, pfn: number): void;
}

/** Most guest pages one machine frame remembers in memmap before a shootdown flushes everything. */
const MEMMAP_MAX = 8;

export class Pmap {
  /** Guest-physical frame → machine frame, -1 while undefined. */
  readonly table: Int32Array;
  /** pmapbackmap: machine frame → guest-physical frame, -1 if not ours. */
  readonly backmap: Int32Array;
  /** memmap: machine frame → guest virtual page addresses mapped onto it in the hardware TLB. */
  readonly memmap = new Map<number, number[]>();
  /** Frames taken from the allocator by this pmap. */
  allocated = 0;

  constructor(
    readonly domid: number,
    private readonly backing: PmapBacking,
    private readonly allocator: PmapAllocator,
  ) {
    this.table = new Int32Array(backing.nrPfns).fill(-1);
    this.backmap = new Int32Array(allocator.machinePages).fill(-1);
    for (let pfn = 0; pfn < backing.nrPfns; pfn++) {
      const mfn = backing.lookup(pfn);
      if (mfn !== INVALID_MFN && mfn >= 0) {
        this.table[pfn] = mfn;
        this.backmap[mfn] = pfn;
      }
    }
  }

  /** Guest-physical frames (the guest's RAM size in pages). */
  get nrPfns(): number {
    return this.table.length;
  }

  /** Machine frame of `pfn`, or -1 if undefined (no allocation). */
  lookup(pfn: number): number {
    return pfn >= 0 && pfn < this.table.length ? this.table[pfn]! : -1;
  }

  /**
   * The machine frame of `pfn`, taking one from the allocator if the pmap has none yet ("fill in
   * pmap dynamically"). -1 if `pfn` is outside the guest's memory, -2 if no machine frame is left
   * for the domain (its limit or the machine).
   */
  ensure(pfn: number): number {
    if (pfn < 0 || pfn >= this.table.length) return -1;
    const m = this.table[pfn]!;
    if (m >= 0) return m;
    const mfn = this.allocator.allocate(this.domid);
    if (mfn === INVALID_MFN || mfn < 0) return -2;
    this.table[pfn] = mfn;
    this.backmap[mfn] = pfn;
    this.backing.set(pfn, mfn, true);
    this.allocator.setPfn?.(mfn, pfn);
    this.allocated++;
    return mfn;
  }

  /** True if the guest may write `pfn` (false for read-only frames: the hardware D bit is cleared). */
  writable(pfn: number): boolean {
    return this.backing.writable(pfn);
  }

  /** Records that the hardware TLB maps guest page `va` onto `mfn` (memmap). */
  recordMapping(mfn: number, va: number): void {
    const page = (va & ~0xfff) >>> 0;
    let list = this.memmap.get(mfn);
    if (!list) {
      list = [];
      this.memmap.set(mfn, list);
    }
    if (list.includes(page)) return;
    if (list.length >= MEMMAP_MAX) list.shift();
    list.push(page);
  }

  /**
   * TLB shootdown of `mfn`: the guest pages memmap says are mapped onto it, which the caller
   * invalidates in the hardware TLB; forgets them. (Overflowed lists lose the oldest pages: the
   * caller then flushes the domain's hardware entries.)
   */
  shootdown(mfn: number): { pages: number[]; complete: boolean } {
    const list = this.memmap.get(mfn) ?? [];
    this.memmap.delete(mfn);
    return { pages: list, complete: list.length < MEMMAP_MAX };
  }
}
