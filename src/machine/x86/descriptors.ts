/**
 * Segment and gate descriptor fields, from the two dwords of an 8-byte descriptor.
 *
 * Layouts: SDM Vol. 3A §3.4.5 Figure 3-8 (segment descriptor), §5.8.3 Figure 5-8 (call gate),
 * §6.11 Figure 6-2 (IDT gate descriptors), §7.2.2 (TSS descriptor), Table 3-1 and 3-2 (types).
 *
 * A descriptor cache's `attr` keeps bits 8..23 of the high dword: bits 0-3 type, 4 S, 5-6 DPL,
 * 7 P, 12 AVL, 14 D/B, 15 G (the "access rights" layout VMX also uses).
 */

export const ATTR_TYPE = 0x000f;
/** Type bit 0: accessed (code and data). */
export const ATTR_ACCESSED = 0x0001;
/** Data: writable. Code: readable. */
export const ATTR_RW = 0x0002;
/** Data: expand-down. Code: conforming. */
export const ATTR_DC = 0x0004;
/** Code (1) or data (0). */
export const ATTR_CODE = 0x0008;
/** S: code/data (1) or system (0). */
export const ATTR_S = 0x0010;
export const ATTR_DPL_SHIFT = 5;
export const ATTR_P = 0x0080;
export const ATTR_DB = 0x4000;
export const ATTR_G = 0x8000;

/** System descriptor types (S = 0), SDM Vol. 3A Table 3-2. */
export const SysType = {
  Tss16Avail: 1,
  Ldt: 2,
  Tss16Busy: 3,
  CallGate16: 4,
  TaskGate: 5,
  IntGate16: 6,
  TrapGate16: 7,
  Tss32Avail: 9,
  Tss32Busy: 11,
  CallGate32: 12,
  IntGate32: 14,
  TrapGate32: 15,
} as const;

export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}

/** Limit in bytes (granularity applied: 4 KiB units fill the low 12 bits with ones). */
export function descLimit(lo: number, hi: number): number {
  const raw = (lo & 0xffff) | (hi & 0x000f0000);
  return (hi & 0x00800000) !== 0 ? ((raw << 12) | 0xfff) >>> 0 : raw;
}

export function descAttr(hi: number): number {
  return (hi >>> 8) & 0xf0ff;
}

export function attrDpl(attr: number): number {
  return (attr >>> ATTR_DPL_SHIFT) & 3;
}

/** Gate: target offset, selector, parameter count (call gates), from the descriptor dwords. */
export function gateOffset(lo: number, hi: number): number {
  return ((lo & 0xffff) | (hi & 0xffff0000)) >>> 0;
}
export function gateSelector(lo: number): number {
  return lo >>> 16;
}
export function gateParamCount(hi: number): number {
  return hi & 0x1f;
}

/** Builds the two dwords of a segment descriptor (for tests, loaders and monitors). */
export function makeDescriptor(base: number, limit: number, attr: number): [number, number] {
  // A limit above 1 MiB needs page granularity.
  let a = attr;
  let l = limit >>> 0;
  if (l > 0xfffff) {
    a |= ATTR_G;
    l >>>= 12;
  }
  const lo = ((base & 0xffff) << 16) | (l & 0xffff);
  const hi = ((base >>> 16) & 0xff) | (base & 0xff000000) | (l & 0xf0000) | ((a & 0xf0ff) << 8);
  return [lo >>> 0, hi >>> 0];
}

/** Builds the two dwords of a gate descriptor (interrupt/trap/call gate). */
export function makeGate(
  selector: number,
  offset: number,
  type: number,
  dpl: number,
  params = 0,
): [number, number] {
  const lo = ((selector & 0xffff) << 16) | (offset & 0xffff);
  const hi = (offset & 0xffff0000) | 0x8000 | ((dpl & 3) << 13) | ((type & 0xf) << 8) | (params & 0x1f);
  return [lo >>> 0, hi >>> 0];
}
