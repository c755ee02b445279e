/**
 * The x86 PV domain's view of the machine (docs/x86-pv-abi.md "Memory layout", "Segments").
 *
 * The hole is the VMware-style monitor's (../layout.ts): linear 0xFFC00000 up, page-directory
 * slot 1023, where Xen 3.x non-PAE starts at 0xFC000000 (arch-x86/xen-x86_32.h). pvkit needs only
 * the GDT, IDT and TSS there (no read-only M2P: guests keep their own reverse map), so 4 MiB do.
 * Every PV L2 table gets the monitor's hole page table in slot 1023 when it is validated, as Xen
 * copies its own slots into each L2 (xen/arch/x86/mm.c, init_xen_l2_slots); the guest can never
 * change that slot.
 *
 * GDT: the real GDT at HOLE_GDT (16 pages, 8192 descriptors) holds only Xen's four flat
 * selectors (arch-x86/xen-x86_32.h) in its reserved last pages — entries 7171..7174, i.e. the
 * selectors 0xe019, 0xe021, 0xe02b, 0xe033 — and the monitor's TSS at 8191. Segment limits end
 * below the hole as Xen's do (Xen: "ring 1 3.95GB code at 0x0"); the ring-3 code segment is the
 * one exception: it is 4 GiB (the hole's pages are supervisor-only, so paging keeps ring 3 out
 * and the CPU can run ring-3 code as compiled blocks) — listed in docs/xen-differences.md.
 */
import { FlatSelector } from "../../../hypercalls/index.js";
import { x86 } from "../../../machine/index.js";
import { HOLE_BASE } from "../layout.js";

/** Last byte guest data and kernel code segments reach: just below the hole. */
export const GUEST_SEG_LIMIT = HOLE_BASE - 1;
/** Page-directory slot of the hole (the monitor's, in every validated L2). */
export const HOLE_SLOT = HOLE_BASE >>> 22;
/** The monitor's TSS descriptor (same slot as the full monitor's). */
export const PV_TSS_SELECTOR = 8191 * 8;
/** GDT pages that hold something: page 14 (the flat selectors) and 15 (the TSS); the others map one zero page. */
export const GDT_FLAT_PAGE = FlatSelector.RING1_CS >>> 12;

const CODE = x86.ATTR_S | x86.ATTR_P | x86.ATTR_CODE | x86.ATTR_RW | x86.ATTR_ACCESSED | x86.ATTR_DB;
const DATA = x86.ATTR_S | x86.ATTR_P | x86.ATTR_RW | x86.ATTR_ACCESSED | x86.ATTR_DB;
const dpl = (d: number) => d << x86.ATTR_DPL_SHIFT;

/** The four flat descriptors: selector → [lo, hi]. */
export const FLAT_DESCRIPTORS: readonly (readonly [number, readonly [number, number]])[] = [
  [FlatSelector.RING1_CS, x86.makeDescriptor(0, GUEST_SEG_LIMIT, CODE | dpl(1))],
  [FlatSelector.RING1_DS, x86.makeDescriptor(0, GUEST_SEG_LIMIT, DATA | dpl(1))],
  [FlatSelector.RING3_CS, x86.makeDescriptor(0, 0xffffffff, CODE | dpl(3))],
  [FlatSelector.RING3_DS, x86.makeDescriptor(0, GUEST_SEG_LIMIT, DATA | dpl(3))],
];

/** The segment cache for flat selector `sel` (RPL as given), or null if it is not one of the four. */
export function flatSegment(sel: number): x86.SegmentCache | null {
  const s = sel & 0xffff;
  for (const [k, d] of FLAT_DESCRIPTORS) {
    if ((k & ~3) === (s & ~3)) {
      return {
        selector: s,
        base: 0,
        limit: x86.descLimit(d[0], d[1]),
        attr: x86.descAttr(d[1]),
        valid: true,
      };
    }
  }
  return null;
}
