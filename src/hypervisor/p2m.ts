/**
 * A domain's P2M: pseudo-physical frame → machine frame, with a writable bit per entry
 * (read-only for read-only grant mappings and shared frames). Typed arrays: Disco's pmap and
 * the TS-guest accessors look entries up on every access.
 */
import { INVALID_MFN, type P2m } from "../full-virt/index.js";

export const P2mFlag = { writable: 1, foreign: 2 } as const;

export class P2mTable implements P2m {
  private readonly mfns: Int32Array;
  private readonly flags: Uint8Array;

  constructor(readonly nrPfns: number) {
    this.mfns = new Int32Array(nrPfns).fill(INVALID_MFN);
    this.flags = new Uint8Array(nrPfns);
  }

  lookup(pfn: number): number {
    return pfn >= 0 && pfn < this.nrPfns ? this.mfns[pfn]! : INVALID_MFN;
  }

  writable(pfn: number): boolean {
    return pfn >= 0 && pfn < this.nrPfns && (this.flags[pfn]! & P2mFlag.writable) !== 0;
  }

  /** True if the entry maps a frame owned by another domain (a grant mapping). */
  foreign(pfn: number): boolean {
    return pfn >= 0 && pfn < this.nrPfns && (this.flags[pfn]! & P2mFlag.foreign) !== 0;
  }

  /** Points `pfn` at `mfn`. Returns false if `pfn` is out of range. */
  set(pfn: number, mfn: number, writable = true, foreign = false): boolean {
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= this.nrPfns) return false;
    this.mfns[pfn] = mfn;
    this.flags[pfn] = (writable ? P2mFlag.writable : 0) | (foreign ? P2mFlag.foreign : 0);
    return true;
  }

  /** Invalidates `pfn`; returns the machine frame it mapped (or INVALID_MFN). */
  clear(pfn: number): number {
    const old = this.lookup(pfn);
    if (old !== INVALID_MFN) {
      this.mfns[pfn] = INVALID_MFN;
      this.flags[pfn] = 0;
    }
    return old;
  }
}
