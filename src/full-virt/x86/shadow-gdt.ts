/**
 * The real GDT in the monitor hole: the guest's GDT shadowed descriptor by descriptor (the seed:
 * "the VMM's GDT ... a copy of the guest's with privilege levels compressed"):
 *
 * - flat data descriptors (any DPL) are truncated to end below the hole (limit 0xFFBFFFFF);
 * - code/data descriptors of DPL 0 get DPL 1 (ring compression: the guest kernel runs in ring 1
 *   and must be able to load its own segments there);
 * - the Accessed bit is preset in every code/data descriptor, so the CPU never writes the
 *   read-only hole when it loads a segment;
 * - flat ring-0 code descriptors (base 0, 4 GiB) get the private code base of the code window
 *   (CODE_WINDOW_BASE, limit CODE_WINDOW_BYTES - 1) when scan-and-patch is on: the guest kernel
 *   then fetches from patched copies while its data accesses read the original bytes;
 * - system descriptors are copied unchanged (the guest's TSS and LDT descriptors are only read
 *   by the monitor's emulated LTR/LLDT; the CPU's TR holds the monitor's TSS);
 * - entries beyond the guest's limit are zero; the monitor's TSS descriptor is the last slot.
 *
 * Guest writes to its GDT pages are tracked (PhysicalMemory page watching on their machine
 * frames): a write re-shadows the descriptors it touched.
 */
import { type PhysicalMemory, x86 } from "../../machine/index.js";
import { CODE_WINDOW_BASE, CODE_WINDOW_BYTES, HOLE_BASE, HOLE_TSS, MONITOR_TSS_SELECTOR } from "./layout.js";

const ENTRIES = 8192;
const S_BIT = 0x1000;
const CODE_BIT = 0x800;
const DPL_MASK = 0x6000;

export class ShadowGdt {
  /** The guest's descriptors as last read (uncompressed), by index. */
  readonly guestLo = new Int32Array(ENTRIES);
  readonly guestHi = new Int32Array(ENTRIES);
  /** What the real GDT holds, by index. */
  readonly realLo = new Int32Array(ENTRIES);
  readonly realHi = new Int32Array(ENTRIES);
  /** True: flat ring-0 code descriptors get the code window's private base. */
  codeWindow: boolean;
  private base = 0;
  private limit = 0;
  /** Machine frames of the guest GDT pages being watched. */
  private readonly watched = new Map<number, number>();
  /** Machine address of each guest descriptor at the last LGDT (-1 unmapped): what a store is matched against. */
  private readonly entryMachine = new Float64Array(ENTRIES).fill(-1);

  constructor(
    private readonly mem: PhysicalMemory,
    /** The 16 machine frames of the real GDT. */
    private readonly frames: readonly number[],
    /** Machine address of guest linear `lin` for reading (supervisor), or -1. */
    private readonly guestMachine: (lin: number) => number,
    codeWindow: boolean,
    /** The real GDT (true: holds the monitor's TSS and LDT descriptors) or a shadow LDT (false). */
    isGdt = true,
  ) {
    this.codeWindow = codeWindow;
    if (isGdt) {
      const [lo, hi] = x86.makeDescriptor(HOLE_TSS, 103, x86.ATTR_P | x86.SysType.Tss32Busy);
      this.setReal(MONITOR_TSS_SELECTOR >>> 3, lo | 0, hi | 0);
    }
  }

  /** Sets one real descriptor the monitor owns (the shadow LDT's, in the GDT). */
  setMonitorDescriptor(index: number, lo: number, hi: number): void {
    this.setReal(index, lo, hi);
  }

  /** Forgets the table (LLDT with a null selector): nothing watched, every entry zero. */
  clear(): void {
    this.load(0, 0xffff, true);
  }

  get guestBase(): number {
    return this.base;
  }
  get guestLimit(): number {
    return this.limit;
  }

  /** LGDT (or LLDT): re-shadows the whole table and re-targets write tracking. */
  load(base: number, limit: number, empty = false): void {
    for (const [mfn, n] of this.watched) for (let i = 0; i < n; i++) this.mem.watchPage(mfn, false);
    this.watched.clear();
    this.base = base >>> 0;
    this.limit = limit & 0xffff;
    const count = empty ? 0 : Math.min(ENTRIES - 2, (this.limit + 1) >>> 3);
    this.entryMachine.fill(-1);
    for (let i = 0; i < ENTRIES - 2; i++) {
      if (i < count) {
        this.entryMachine[i] = this.guestMachine(this.base + i * 8);
        this.resync(i);
      } else {
        this.guestLo[i] = 0;
        this.guestHi[i] = 0;
        this.setReal(i, 0, 0);
      }
    }
    if (empty) {
      this.limit = 0;
      return;
    }
    for (let off = 0; off <= this.limit; off += 4096) this.watchLinear(this.base + off);
    this.watchLinear(this.base + this.limit);
  }

  private watchLinear(lin: number): void {
    const m = this.guestMachine(lin);
    if (m < 0) return;
    const mfn = m >>> 12;
    if (this.watched.has(mfn)) return;
    this.watched.set(mfn, 1);
    this.mem.watchPage(mfn, true);
  }

  /** Watch handler: a store into machine address `paddr`. True if it changed a guest descriptor. */
  onWrite(paddr: number, size: number): boolean {
    if (!this.watched.has(paddr >>> 12)) return false;
    const count = Math.min(ENTRIES - 2, (this.limit + 1) >>> 3);
    let hit = false;
    for (let i = 0; i < count; i++) {
      const m = this.entryMachine[i]!;
      if (m >= 0 && m + 8 > paddr && m < paddr + size) {
        this.resync(i);
        hit = true;
      }
    }
    return hit;
  }

  /** Re-reads guest descriptor `i` and writes its shadow. */
  resync(i: number): void {
    const a = this.base + i * 8;
    const m0 = this.guestMachine(a);
    const m1 = this.guestMachine(a + 4);
    const lo = m0 < 0 ? 0 : this.mem.read32(m0) | 0;
    const hi = m1 < 0 ? 0 : this.mem.read32(m1) | 0;
    this.guestLo[i] = lo;
    this.guestHi[i] = hi;
    const [rlo, rhi] = this.compress(lo, hi);
    this.setReal(i, rlo, rhi);
  }

  /** The shadow form of a guest descriptor. */
  compress(lo: number, hi: number): [number, number] {
    if ((hi & S_BIT) === 0 || (hi & 0x8000) === 0) return [lo, hi];
    let h = hi | 0x100; // Accessed preset
    if ((h & CODE_BIT) === 0 && (h & 0x400) === 0) {
      // Segment truncation (Adams & Agesen §3.1): flat data segments end below the hole, so a
      // guest data access there faults (#GP) and the monitor emulates it against the guest's
      // own mapping, instead of reaching the monitor's pages.
      const base = x86.descBase(lo, h);
      if (base === 0 && x86.descLimit(lo, h) === 0xffffffff) {
        const [tlo, thi] = x86.makeDescriptor(0, HOLE_BASE - 1, x86.descAttr(h));
        lo = tlo | 0;
        h = thi | 0;
      }
    }
    if ((h & DPL_MASK) !== 0) return [lo, h];
    h |= 0x2000; // DPL 0 → 1
    if (this.codeWindow && (h & CODE_BIT) !== 0) {
      const base = x86.descBase(lo, h);
      const limit = x86.descLimit(lo, h);
      if (base === 0 && limit === 0xffffffff) {
        const [nlo, nhi] = x86.makeDescriptor(CODE_WINDOW_BASE, CODE_WINDOW_BYTES - 1, x86.descAttr(h));
        return [nlo | 0, nhi | 0];
      }
    }
    return [lo, h];
  }

  private setReal(i: number, lo: number, hi: number): void {
    this.realLo[i] = lo;
    this.realHi[i] = hi;
    const frame = this.frames[(i * 8) >>> 12]!;
    const off = (i * 8) & 0xfff;
    this.mem.write32(frame * 4096 + off, lo);
    this.mem.write32(frame * 4096 + off + 4, hi);
  }
}
