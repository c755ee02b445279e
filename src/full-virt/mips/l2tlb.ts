/**
 * Disco's l2tlb: a per-vCPU software cache of the guest's TLB entries with guest-physical PFNs,
 * larger than the 16-entry architectural TLB (Disco SOSP'97 §4.2.2: "a second-level software TLB
 * … we cache recent virtual-to-machine translations"). Every guest TLB write inserts here; an
 * entry for the same VPN2 and ASID (or the same VPN2, global) is replaced, so the l2tlb never
 * holds two answers for one address.
 *
 * Layout: 4 KiB-page entries (PageMask 0, everything the sample kernels use) live in a 4-way
 * set-associative table indexed by VPN2; entries with larger pages live in a small fully
 * associative table. Typed arrays, no allocation per lookup.
 */

const WAYS = 4;
const LARGE = 16;

export class L2Tlb {
  readonly sets: number;
  /** Total slots: sets × ways hashed + LARGE fully associative. */
  readonly size: number;
  readonly vpn2: Uint32Array;
  readonly asid: Uint8Array;
  readonly global: Uint8Array;
  readonly used: Uint8Array;
  readonly mask: Uint32Array;
  readonly lo0: Uint32Array;
  readonly lo1: Uint32Array;
  private readonly victim: Uint8Array;
  private largeVictim = 0;

  /** @param entries hashed capacity (power of two, ≥ 4). */
  constructor(entries = 1024) {
    this.sets = Math.max(1, entries / WAYS) | 0;
    if ((this.sets & (this.sets - 1)) !== 0) throw new RangeError("l2tlb entries must be a power of two");
    this.size = this.sets * WAYS + LARGE;
    this.vpn2 = new Uint32Array(this.size);
    this.asid = new Uint8Array(this.size);
    this.global = new Uint8Array(this.size);
    this.used = new Uint8Array(this.size);
    this.mask = new Uint32Array(this.size);
    this.lo0 = new Uint32Array(this.size);
    this.lo1 = new Uint32Array(this.size);
    this.victim = new Uint8Array(this.sets);
  }

  private setOf(vpn2: number): number {
    return ((vpn2 >>> 13) ^ (vpn2 >>> 23)) & (this.sets - 1);
  }

  /** Number of valid entries (tests, statistics). */
  get count(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) n += this.used[i]!;
    return n;
  }

  flush(): void {
    this.used.fill(0);
  }

  /**
   * tlb_insert: caches a guest TLB entry (CP0 formats: EntryHi, PageMask, EntryLo0/1 with
   * guest PFNs; global when both G bits are set). Replaces any entry for the same VPN2 and ASID
   * (any ASID when either is global). Returns the slot.
   */
  insert(entryHi: number, pageMask: number, lo0: number, lo1: number): number {
    const mask = pageMask & 0x1fffe000;
    const vpn2 = (entryHi & 0xffffe000 & ~mask) >>> 0;
    const asid = entryHi & 0xff;
    const g = lo0 & lo1 & 1;
    this.removeMatching(vpn2, mask, asid, g);
    let slot: number;
    if (mask === 0) {
      const base = this.setOf(vpn2) * WAYS;
      slot = -1;
      for (let w = 0; w < WAYS; w++) {
        if (!this.used[base + w]) {
          slot = base + w;
          break;
        }
      }
      if (slot < 0) {
        const s = base / WAYS;
        slot = base + this.victim[s]!;
        this.victim[s] = (this.victim[s]! + 1) % WAYS;
      }
    } else {
      const base = this.sets * WAYS;
      slot = -1;
      for (let w = 0; w < LARGE; w++) {
        if (!this.used[base + w]) {
          slot = base + w;
          break;
        }
      }
      if (slot < 0) {
        slot = base + this.largeVictim;
        this.largeVictim = (this.largeVictim + 1) % LARGE;
      }
    }
    this.used[slot] = 1;
    this.vpn2[slot] = vpn2;
    this.asid[slot] = asid;
    this.global[slot] = g;
    this.mask[slot] = mask;
    this.lo0[slot] = lo0 & 0x3ffffffe;
    this.lo1[slot] = lo1 & 0x3ffffffe;
    return slot;
  }

  /** Drops the entry a guest TLB entry put here (same VPN2, and same ASID unless global). */
  remove(entryHi: number, pageMask: number, lo0: number, lo1: number): void {
    const mask = pageMask & 0x1fffe000;
    this.removeMatching((entryHi & 0xffffe000 & ~mask) >>> 0, mask, entryHi & 0xff, lo0 & lo1 & 1);
  }

  private removeMatching(vpn2: number, mask: number, asid: number, g: number): void {
    if (mask === 0) {
      const base = this.setOf(vpn2) * WAYS;
      for (let w = 0; w < WAYS; w++) this.dropIf(base + w, vpn2, asid, g);
    }
    const lb = this.sets * WAYS;
    for (let w = 0; w < LARGE; w++) this.dropIf(lb + w, vpn2, asid, g);
    if (mask !== 0) {
      // A large page may cover 4 KiB entries of the hashed part: drop those it overlaps.
      const span = (mask | 0x1fff) >>> 0;
      for (let i = 0; i < this.sets * WAYS; i++) {
        if (this.used[i] && (this.vpn2[i]! & ~span) >>> 0 === (vpn2 & ~span) >>> 0) {
          if (g || this.global[i] || this.asid[i] === asid) this.used[i] = 0;
        }
      }
    }
  }

  private dropIf(i: number, vpn2: number, asid: number, g: number): void {
    if (!this.used[i]) return;
    const m = ~(this.mask[i]! | 0x1fff) >>> 0;
    if ((this.vpn2[i]! & m) >>> 0 !== (vpn2 & m) >>> 0) return;
    if (g || this.global[i] || this.asid[i] === asid) this.used[i] = 0;
  }

  /** tlb_lookup: the slot translating `va` for `asid`, or -1. Allocation-free. */
  lookup(va: number, asid: number): number {
    const u = va >>> 0;
    const vpn2 = (u & 0xffffe000) >>> 0;
    const base = this.setOf(vpn2) * WAYS;
    for (let w = 0; w < WAYS; w++) {
      const i = base + w;
      if (this.used[i] && this.vpn2[i] === vpn2 && (this.global[i] || this.asid[i] === asid)) return i;
    }
    const lb = this.sets * WAYS;
    for (let w = 0; w < LARGE; w++) {
      const i = lb + w;
      if (!this.used[i]) continue;
      const m = ~(this.mask[i]! | 0x1fff) >>> 0;
      if ((u & m) >>> 0 === (this.vpn2[i]! & m) >>> 0 && (this.global[i] || this.asid[i] === asid)) return i;
    }
    return -1;
  }

  /** Bytes per half-page of slot `i` (4096 for PageMask 0). */
  halfBytes(i: number): number {
    return ((this.mask[i]! >>> 1) | 0xfff) + 1;
  }

  /** The EntryLo half of slot `i` that maps `va` (without G). */
  loFor(i: number, va: number): number {
    return (va >>> 0) & this.halfBytes(i) ? this.lo1[i]! : this.lo0[i]!;
  }

  /** Guest-physical frame that `va` reaches through slot `i` (the half's PFN plus the page offset). */
  pfnFor(i: number, va: number): number {
    const half = this.halfBytes(i);
    const lo = this.loFor(i, va);
    const base = (lo >>> 6) - ((lo >>> 6) % (half / 4096));
    return base + (((va >>> 0) & (half - 1)) >>> 12);
  }
}
