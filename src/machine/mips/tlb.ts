/**
 * The R4000-style joint TLB of a MIPS32 R1 CPU: 16 entries, each mapping an even/odd pair of
 * pages under one VPN2, with a PageMask (4 KiB .. 256 MiB pages), an 8-bit ASID and G/V/D bits.
 *
 * Layouts (MD00090 §4.3 and §9.2): EntryHi = VPN2[31:13] | ASID[7:0]; EntryLo = PFN[29:6] |
 * C[5:3] | D[2] | V[1] | G[0]; PageMask = Mask[28:13]. An entry is global when both EntryLo halves
 * have G set at write time; TLBR returns G in both halves.
 *
 * Monitors (Disco) drive the TLB from TypeScript with `write`, `read`, `probe`, `flush`; the CPU
 * calls `onChange` after every change so its translation caches stay coherent.
 */

/** Result of `lookup`. */
export const TlbResult = {
  Hit: 0,
  /** No entry matches: TLB refill (vector offset 0 when EXL = 0). */
  Miss: 1,
  /** The matching half has V = 0: TLB invalid (general vector). */
  Invalid: 2,
  /** A store to a half with D = 0: TLB modified. */
  Modified: 3,
} as const;
export type TlbResult = (typeof TlbResult)[keyof typeof TlbResult];

/** One TLB entry as plain CP0-format values. */
export interface TlbEntry {
  entryHi: number;
  pageMask: number;
  entryLo0: number;
  entryLo1: number;
}

export class Tlb {
  readonly size: number;
  /** VPN2 bits of EntryHi (31..13), already masked by the entry's PageMask. */
  readonly vpn2: Uint32Array;
  readonly asid: Uint8Array;
  readonly global: Uint8Array;
  readonly mask: Uint32Array;
  readonly lo0: Uint32Array;
  readonly lo1: Uint32Array;
  /** Physical address of the last successful lookup (a double: PFN can reach 36 bits). */
  pa = 0;
  /** Index of the entry that matched the last lookup, or -1. */
  hitIndex = -1;
  /** The CPU installs this to drop cached translations whenever an entry changes. */
  onChange: () => void = () => {};

  constructor(size = 16) {
    this.size = size;
    this.vpn2 = new Uint32Array(size);
    this.asid = new Uint8Array(size);
    this.global = new Uint8Array(size);
    this.mask = new Uint32Array(size);
    this.lo0 = new Uint32Array(size);
    this.lo1 = new Uint32Array(size);
    this.flush();
  }

  /**
   * Invalidates every entry. Entries get distinct VPN2s in kseg1-like space that no mapped access
   * can match with V = 0, as a reset handler would (MD00090 recommends unique VPN2s).
   */
  flush(): void {
    for (let i = 0; i < this.size; i++) {
      this.vpn2[i] = (0xa0000000 + i * 0x2000) >>> 0;
      this.asid[i] = 0;
      this.global[i] = 0;
      this.mask[i] = 0;
      this.lo0[i] = 0;
      this.lo1[i] = 0;
    }
    this.onChange();
  }

  /** Writes entry `i` (TLBWI/TLBWR semantics: G = G0 & G1, VPN2 masked by PageMask). */
  write(i: number, e: TlbEntry): void {
    if (i < 0 || i >= this.size) throw new RangeError(`TLB index ${i} out of range 0..${this.size - 1}`);
    const mask = e.pageMask & 0x1fffe000;
    this.mask[i] = mask;
    this.vpn2[i] = (e.entryHi & 0xffffe000 & ~mask) >>> 0;
    this.asid[i] = e.entryHi & 0xff;
    this.global[i] = e.entryLo0 & e.entryLo1 & 1;
    this.lo0[i] = e.entryLo0 & 0x3ffffffe;
    this.lo1[i] = e.entryLo1 & 0x3ffffffe;
    this.onChange();
  }

  /** Reads entry `i` as TLBR would (G reported in both EntryLo halves). */
  read(i: number): TlbEntry {
    const g = this.global[i]!;
    return {
      entryHi: (this.vpn2[i]! | this.asid[i]!) >>> 0,
      pageMask: this.mask[i]!,
      entryLo0: (this.lo0[i]! | g) >>> 0,
      entryLo1: (this.lo1[i]! | g) >>> 0,
    };
  }

  /** TLBP: the index of the entry matching EntryHi's VPN2 and ASID (or G), or -1. */
  probe(entryHi: number): number {
    const asid = entryHi & 0xff;
    for (let i = 0; i < this.size; i++) {
      const m = ~this.mask[i]! & 0xffffe000;
      if ((entryHi & m) >>> 0 === (this.vpn2[i]! & m) >>> 0 && (this.global[i] || this.asid[i] === asid)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Translates `va` for address space `asid`. On a hit sets `pa` and `hitIndex` and returns Hit;
   * otherwise the reason (the CPU raises TLBL/TLBS/Mod). Allocation-free.
   */
  lookup(va: number, asid: number, write: boolean): TlbResult {
    va >>>= 0;
    for (let i = 0; i < this.size; i++) {
      const mask = this.mask[i]!;
      const m = ~mask & 0xffffe000;
      if ((va & m) >>> 0 !== (this.vpn2[i]! & m) >>> 0) continue;
      if (!this.global[i] && this.asid[i] !== asid) continue;
      this.hitIndex = i;
      // The page-select bit is the one just above the page offset: bit 12 for 4 KiB pages.
      const pageBytes = ((mask >>> 1) | 0xfff) + 1;
      const lo = va & pageBytes ? this.lo1[i]! : this.lo0[i]!;
      if ((lo & 2) === 0) return TlbResult.Invalid;
      if (write && (lo & 4) === 0) return TlbResult.Modified;
      const pfn = lo >>> 6;
      const offMask = pageBytes - 1;
      // PFN is in 4 KiB units; larger pages use the PFN bits above their offset.
      this.pa = pfn * 4096 - ((pfn * 4096) % pageBytes) + (va & offMask);
      return TlbResult.Hit;
    }
    this.hitIndex = -1;
    return TlbResult.Miss;
  }
}
