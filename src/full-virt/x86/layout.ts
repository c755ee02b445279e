/**
 * The monitor hole: the top 4 MiB of every shadow address space (linear 0xFFC00000 up, shadow
 * page-directory entry 1023), as VMware reserves it (Adams & Agesen, ASPLOS 2006, §3.1; the
 * seed's "VMware ... puts its own GDT, IDT and TSS at the top of the address space").
 *
 *   0xFFC00000 .. 0xFFEFFFFF  code window (768 pages): patched copies of the guest's ring-0 code,
 *                             reached through the private CS base of the compressed ring-0 code
 *                             descriptors (scan-and-patch, scanner.ts)
 *   0xFFF00000 .. 0xFFF0FFFF  the real GDT (8192 descriptors = 16 pages): the guest's GDT with
 *                             DPL 0 compressed to 1, Accessed bits preset, plus the monitor's TSS
 *   0xFFF10000                the real IDT (256 gates, never used to vector: the CPU is in
 *                             intercept mode and every event comes to the monitor)
 *   0xFFF11000                the monitor's TSS (no I/O bitmap: every IN/OUT at CPL 1 or 3 faults)
 *   0xFFF12000 .. 0xFFF21FFF  the shadow LDT (16 pages): the guest's current LDT, compressed like
 *                             the GDT; the real GDT's slot 8190 describes it
 *
 * Everything is mapped supervisor read-only, so the guest (CPL 1) can read the tables the CPU
 * uses but never change them, and ring 3 cannot touch them at all.
 */
export const HOLE_BASE = 0xffc00000;
export const HOLE_PDE = 1023;
/** The code window: ring-0 guest code at offset x runs from linear HOLE_BASE + x. */
export const CODE_WINDOW_BASE = HOLE_BASE;
export const CODE_WINDOW_BYTES = 0x300000;
export const CODE_WINDOW_PAGES = CODE_WINDOW_BYTES >>> 12;
export const HOLE_GDT = 0xfff00000;
export const HOLE_GDT_PAGES = 16;
export const HOLE_IDT = 0xfff10000;
export const HOLE_TSS = 0xfff11000;
export const HOLE_LDT = 0xfff12000;
export const HOLE_LDT_PAGES = 16;
/** The shadow LDT's descriptor in the real GDT. */
export const MONITOR_LDT_SELECTOR = 8190 * 8;
/** The monitor's TSS descriptor: the last GDT slot, beyond any guest GDT limit below 0xFFF8. */
export const MONITOR_TSS_SELECTOR = 8191 * 8;
/** Hole page-table index of a hole linear address. */
export function holeIndex(lin: number): number {
  return ((lin >>> 0) - HOLE_BASE) >>> 12;
}
