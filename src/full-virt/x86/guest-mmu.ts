/**
 * The guest's own page tables as the monitor reads them: a software walk of the two-level i386
 * tables in guest-physical memory (virtual CR3, CR0.PG/WP, CR4.PSE), setting the guest's
 * Accessed and Dirty bits as the hardware would (SDM Vol. 3A §4.3, §4.6, §4.8) — this is how
 * the shadow page tables propagate A/D back: a shadow entry is filled only through this walk,
 * and a shadow entry is writable only once the guest's entry is dirty.
 *
 * Guest-physical frames reach machine frames through the domain's pmap (P2M).
 */
import type { PhysicalMemory } from "../../machine/index.js";

const P = 1;
const W = 2;
const U = 4;
const A = 0x20;
const D = 0x40;
const PS = 0x80;

export class GuestMmu {
  /** Virtual CR0.PG, CR0.WP, CR4.PSE and CR3 (the guest's values, set by the monitor). */
  pg = false;
  wp = false;
  pse = false;
  cr3 = 0;
  /** #PF error code (P, W/R, U/S) of the last failed walk. */
  faultCode = 0;
  /** Of the last successful walk: guest frames holding the PDE and PTE (-1: none, e.g. 4 MiB page or paging off). */
  pdPfn = -1;
  ptPfn = -1;
  /** Effective guest rights and dirty state of the last successful walk. */
  user = false;
  writable = false;
  dirty = false;

  constructor(
    private readonly mem: PhysicalMemory,
    /** Machine frame of a guest frame (taking one on demand), or < 0 if outside the guest's RAM. */
    private readonly machineFrame: (pfn: number) => number,
    /** Guest RAM in bytes (guest-physical addresses at or beyond it are not RAM). */
    readonly ramBytes: number,
  ) {}

  /** Machine address of guest-physical `gpa`, or -1. */
  machineAddr(gpa: number): number {
    if (gpa < 0 || gpa >= this.ramBytes) return -1;
    const mfn = this.machineFrame(gpa >>> 12);
    return mfn < 0 ? -1 : mfn * 4096 + (gpa & 0xfff);
  }

  private readPhys(gpa: number): number {
    const m = this.machineAddr(gpa);
    return m < 0 ? -1 : this.mem.read32(m);
  }

  private writePhys(gpa: number, v: number): void {
    const m = this.machineAddr(gpa);
    if (m >= 0) this.mem.write32(m, v);
  }

  /**
   * Guest-physical address of `lin` for an access (`write`, `user` = CPL 3), or -1 with
   * `faultCode` set. `setAD` false: a side-effect-free probe.
   */
  walk(lin: number, write: boolean, user: boolean, setAD = true): number {
    lin >>>= 0;
    if (!this.pg) {
      this.pdPfn = -1;
      this.ptPfn = -1;
      this.user = true;
      this.writable = true;
      this.dirty = true;
      return lin;
    }
    const err = (write ? W : 0) | (user ? U : 0);
    const pdeAddr = ((this.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
    const pde = this.readPhys(pdeAddr);
    if (pde === -1 || (pde & P) === 0) {
      this.faultCode = err;
      return -1;
    }
    let entry: number;
    let entryAddr: number;
    let frame: number;
    let rU: boolean;
    let rW: boolean;
    if ((pde & PS) !== 0 && this.pse) {
      entry = pde;
      entryAddr = pdeAddr;
      frame = ((pde & 0xffc00000) | (lin & 0x003ff000)) >>> 0;
      rU = (pde & U) !== 0;
      rW = (pde & W) !== 0;
      this.ptPfn = -1;
    } else {
      entryAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
      entry = this.readPhys(entryAddr);
      if (entry === -1 || (entry & P) === 0) {
        this.faultCode = err;
        return -1;
      }
      frame = (entry & ~0xfff) >>> 0;
      rU = (pde & U) !== 0 && (entry & U) !== 0;
      rW = (pde & W) !== 0 && (entry & W) !== 0;
      this.ptPfn = entryAddr >>> 12;
    }
    if ((user && !rU) || (write && !rW && (user || this.wp))) {
      this.faultCode = P | err;
      return -1;
    }
    if (setAD) {
      if (entryAddr !== pdeAddr && (pde & A) === 0) this.writePhys(pdeAddr, pde | A);
      const ne = entry | A | (write ? D : 0);
      if (ne !== entry) this.writePhys(entryAddr, ne);
      entry = ne;
    }
    this.pdPfn = pdeAddr >>> 12;
    this.user = rU;
    this.writable = rW;
    this.dirty = (entry & D) !== 0;
    return (frame | (lin & 0xfff)) >>> 0;
  }
}
