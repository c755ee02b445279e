/**
 * i386 paging: the two-level walk (4 KiB pages, 4 MiB pages with CR4.PSE), permission checks
 * with CR0.WP, accessed/dirty bits, #PF error codes, and the software TLB.
 *
 * Layouts: SDM Vol. 3A §4.3 "32-bit paging", Table 4-5 (4 MiB PDE), 4-6 (PDE), 4-8 (PTE);
 * §4.6 access rights (supervisor writes to read-only pages allowed only with CR0.WP = 0);
 * §4.7 #PF error code (P bit 0, W/R bit 1, U/S bit 2); §4.8 accessed and dirty flags.
 *
 * The software TLB is a direct table indexed by linear page number (1 Mi entries) holding the
 * physical frame and the rights already checked, so a hit costs one typed-array load and a
 * mask compare. With paging off it caches identity entries, so the CPU has one fast path.
 */

export const PTE_P = 0x001;
export const PTE_W = 0x002;
export const PTE_U = 0x004;
export const PTE_PWT = 0x008;
export const PTE_PCD = 0x010;
export const PTE_A = 0x020;
export const PTE_D = 0x040;
export const PTE_PS = 0x080;
export const PTE_G = 0x100;

/** #PF error-code bits (SDM Vol. 3A Figure 4-12). */
export const PF_P = 1;
export const PF_W = 2;
export const PF_U = 4;

/** Rights recorded in the low bits of a TLB entry; the high 20 bits are the physical frame. */
export const TLB_VALID = 1;
export const TLB_USER_READ = 2;
export const TLB_SUP_WRITE = 4;
export const TLB_USER_WRITE = 8;
/** The dirty bit is already set in the mapping entry: a write needs no walk. */
export const TLB_DIRTY = 16;
export const TLB_GLOBAL = 32;
/** Never set in an entry: a CPU ORs it into its masks to make every access miss (oracle on). */
export const TLB_NEVER = 64;
/** The whole frame lies in RAM: compiled blocks may index RAM with the entry's frame directly. */
export const TLB_RAM = 128;

/** Masks a CPU compares a TLB entry with: reads and writes at CPL 0-2 and at CPL 3. */
export const TLB_READ_SUP = TLB_VALID;
export const TLB_READ_USER = TLB_VALID | TLB_USER_READ;
export const TLB_WRITE_SUP = TLB_VALID | TLB_SUP_WRITE | TLB_DIRTY;
export const TLB_WRITE_USER = TLB_VALID | TLB_USER_WRITE | TLB_DIRTY;

const FILLED_MAX = 16384;

/** What `walk` reads and writes: RAM as the CPU sees it (beyond RAM reads all-ones). */
export interface PageTableMemory {
  readonly size: number;
  readonly u32: Uint32Array;
  readonly watched: Uint8Array;
  notifyWatchedWrite(paddr: number, size: number): void;
}

export class Paging {
  /** Indexed by linear page number: frame | TLB_* rights, 0 when empty. */
  readonly tlb = new Int32Array(1 << 20);
  private readonly filled = new Int32Array(FILLED_MAX);
  private filledCount = 0;
  private overflowed = false;

  /** CR0.PG, CR0.WP, CR4.PSE, CR4.PGE and CR3, kept in sync by the CPU. */
  enabled = false;
  wp = false;
  pse = false;
  pge = false;
  cr3 = 0;

  /** #PF error code of the last failed `walk`. */
  faultCode = 0;
  /** Page-table walks done (TLB misses), for statistics. */
  walks = 0;
  /**
   * Called after every flush and INVLPG, whoever asks for it (the CPU's CR writes or a monitor
   * calling `flush`/`invalidate` from a watch handler in the middle of a store): the CPU drops
   * its fetch window and ends the running compiled block there, as a fetch would re-translate.
   */
  onFlush: (() => void) | null = null;

  constructor(private readonly mem: PageTableMemory) {}

  /**
   * Translates `lin` for an access (write: W/R, user: an access at CPL 3 that is not an implicit
   * supervisor access), sets A/D bits, fills the TLB and returns the physical address, or -1
   * with `faultCode` set. The caller sets CR2 and raises #PF.
   */
  walk(lin: number, write: boolean, user: boolean): number {
    this.walks++;
    const page = lin >>> 12;
    if (!this.enabled) {
      const frame = lin & ~0xfff;
      const ram = (frame >>> 0) + 0x1000 <= this.mem.size ? TLB_RAM : 0;
      this.fill(page, frame | TLB_VALID | TLB_USER_READ | TLB_SUP_WRITE | TLB_USER_WRITE | TLB_DIRTY | ram);
      return lin >>> 0;
    }
    const pdeAddr = ((this.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
    const pde = this.readPhys(pdeAddr);
    const errUW = (write ? PF_W : 0) | (user ? PF_U : 0);
    if ((pde & PTE_P) === 0) {
      this.faultCode = errUW;
      return -1;
    }
    let entryAddr: number;
    let entry: number;
    let frame: number;
    let rightsU: boolean;
    let rightsW: boolean;
    if ((pde & PTE_PS) !== 0 && this.pse) {
      // 4 MiB page: the PDE maps it directly (SDM Table 4-4).
      entryAddr = pdeAddr;
      entry = pde;
      frame = ((pde & 0xffc00000) | (lin & 0x003ff000)) >>> 0;
      rightsU = (pde & PTE_U) !== 0;
      rightsW = (pde & PTE_W) !== 0;
    } else {
      entryAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
      entry = this.readPhys(entryAddr);
      if ((entry & PTE_P) === 0) {
        this.faultCode = errUW;
        return -1;
      }
      frame = (entry & ~0xfff) >>> 0;
      // The effective rights are the stricter of the two levels (SDM §4.6.1).
      rightsU = (pde & PTE_U) !== 0 && (entry & PTE_U) !== 0;
      rightsW = (pde & PTE_W) !== 0 && (entry & PTE_W) !== 0;
    }
    if ((user && !rightsU) || (write && !rightsW && (user || this.wp))) {
      this.faultCode = PF_P | errUW;
      return -1;
    }
    // Accessed bits on every entry used, dirty on the final entry for a write (SDM §4.8).
    if (entryAddr !== pdeAddr && (pde & PTE_A) === 0) this.writePhys(pdeAddr, pde | PTE_A);
    let newEntry = entry | PTE_A;
    if (write) newEntry |= PTE_D;
    if (newEntry !== entry) this.writePhys(entryAddr, newEntry);
    let rights = TLB_VALID;
    if (rightsU) rights |= TLB_USER_READ;
    if (rightsW || !this.wp) rights |= TLB_SUP_WRITE;
    if (rightsU && rightsW) rights |= TLB_USER_WRITE;
    if ((newEntry & PTE_D) !== 0) rights |= TLB_DIRTY;
    if (this.pge && (entry & PTE_G) !== 0) rights |= TLB_GLOBAL;
    if (frame + 0x1000 <= this.mem.size) rights |= TLB_RAM;
    this.fill(page, frame | rights);
    return (frame | (lin & 0xfff)) >>> 0;
  }

  /** Drops every TLB entry (CR3 load keeps global ones when `keepGlobal`; CR0/CR4 writes do not). */
  flush(keepGlobal: boolean): void {
    const tlb = this.tlb;
    if (this.overflowed) {
      if (keepGlobal) {
        for (let i = 0; i < tlb.length; i++) if ((tlb[i]! & TLB_GLOBAL) === 0) tlb[i] = 0;
      } else {
        tlb.fill(0);
      }
      this.overflowed = false;
      this.filledCount = 0;
      if (keepGlobal) {
        for (let i = 0; i < tlb.length; i++) if (tlb[i] !== 0) this.remember(i);
      }
      this.onFlush?.();
      return;
    }
    let kept = 0;
    for (let i = 0; i < this.filledCount; i++) {
      const page = this.filled[i]!;
      if (keepGlobal && (tlb[page]! & TLB_GLOBAL) !== 0) this.filled[kept++] = page;
      else tlb[page] = 0;
    }
    this.filledCount = kept;
    this.onFlush?.();
  }

  /** INVLPG: drops the entry for one linear page, global or not. */
  invalidate(lin: number): void {
    this.tlb[lin >>> 12] = 0;
    this.onFlush?.();
  }

  private fill(page: number, value: number): void {
    const old = this.tlb[page]!;
    this.tlb[page] = value;
    if (old === 0) this.remember(page);
    // A re-walk that maps the page elsewhere (page tables changed without INVLPG) is a change
    // of translation like a flush for whoever cached the old one.
    else if (((old ^ value) & ~0xfff) !== 0) this.onFlush?.();
  }

  private remember(page: number): void {
    if (this.filledCount < FILLED_MAX) this.filled[this.filledCount++] = page;
    else this.overflowed = true;
  }

  private readPhys(paddr: number): number {
    // Page-table entries are 4-byte aligned (CR3 and PDE frames are page aligned).
    return paddr + 4 <= this.mem.size ? this.mem.u32[paddr >>> 2]! : 0xffffffff;
  }

  private writePhys(paddr: number, value: number): void {
    if (paddr + 4 > this.mem.size) return;
    this.mem.u32[paddr >>> 2] = value;
    if (this.mem.watched[paddr >>> 12] !== 0) this.mem.notifyWatchedWrite(paddr, 4);
  }
}
