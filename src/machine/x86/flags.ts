/**
 * EFLAGS bits and the lazy arithmetic-flag scheme of the i386 interpreter.
 *
 * Bit positions: Intel SDM Vol. 1 §3.4.3, Figure 3-8 (EFLAGS register).
 *
 * Lazy flags: an arithmetic instruction does not compute OF/SF/ZF/AF/PF/CF; it records its
 * operands and result (`LazyFlags`) and the flags are derived when something reads them (Jcc,
 * SETcc, PUSHF, an interrupt frame). Every addition-like operation is stored as
 * `sum = a + b (+ carry in)`; a subtraction `r = d - s (- borrow)` is stored as `d = r + s
 * (+ borrow)`, so a single set of formulas gives CF (carry out of the top bit), OF and AF for
 * ADD, ADC, SUB, SBB, CMP, NEG, INC and DEC (the trick Bochs' and v86's lazy flags use too).
 */

export const CF = 0x0001;
export const PF = 0x0004;
export const AF = 0x0010;
export const ZF = 0x0040;
export const SF = 0x0080;
export const TF = 0x0100;
export const IF = 0x0200;
export const DF = 0x0400;
export const OF = 0x0800;
export const IOPL_MASK = 0x3000;
export const IOPL_SHIFT = 12;
export const NT = 0x4000;
export const RF = 0x10000;
export const VM = 0x20000;
export const AC = 0x40000;
export const ID = 0x200000;

/** The six arithmetic status flags. */
export const OSZAPC = OF | SF | ZF | AF | PF | CF;
export const OSZAP = OF | SF | ZF | AF | PF;
export const SZP = SF | ZF | PF;

/** Bit 1 of EFLAGS always reads as 1 (SDM Vol. 1 Figure 3-8, "reserved, set to 1"). */
export const EFLAGS_FIXED1 = 0x0002;

/**
 * EFLAGS bits this CPU implements and lets software change (i486 set: AC, but not VIF/VIP/ID —
 * without ID being toggleable software sees a CPU without CPUID; we keep ID writable so that
 * the classic CPUID probe succeeds, as on every Pentium-class CPU).
 */
export const EFLAGS_WRITABLE = OSZAPC | TF | IF | DF | IOPL_MASK | NT | RF | AC | ID;

/** PF of each byte value: 1 when the number of set bits is even (SDM Vol. 1 §3.4.3.1). */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let n = i;
  n ^= n >> 4;
  n ^= n >> 2;
  n ^= n >> 1;
  PARITY[i] = (n & 1) === 0 ? 1 : 0;
}

/** Operand size in the form the lazy formulas use: the index of the sign bit. */
export const SIZE8 = 7;
export const SIZE16 = 15;
export const SIZE32 = 31;

/**
 * The record of the last flag-setting arithmetic operation. `lazy` says which of the six
 * arithmetic flags must be derived from it; the others live in the CPU's materialised flags.
 */
export class LazyFlags {
  /** Bit mask (subset of OSZAPC) of flags still to be derived from the record below. */
  lazy = 0;
  /** Result, as the low `sizeBit + 1` bits of this number. */
  res = 0;
  /** The two addends of the equivalent addition, and its sum (see the file comment). */
  a = 0;
  b = 0;
  sum = 0;
  /** Index of the sign bit: 7, 15 or 31. */
  sizeBit = 31;

  /** Derives the lazy flags, merged into `flags` (whose lazy bits are ignored). */
  materialize(flags: number): number {
    const lazy = this.lazy;
    if (lazy === 0) return flags;
    let f = flags & ~lazy;
    const s = this.sizeBit;
    if (lazy & CF) f |= ((this.a ^ ((this.a ^ this.b) & (this.b ^ this.sum))) >>> s) & 1;
    if (lazy & PF) f |= PARITY[this.res & 0xff]! << 2;
    if (lazy & AF) f |= (this.a ^ this.b ^ this.sum) & AF;
    if (lazy & ZF) f |= (this.res << (31 - s) === 0 ? 1 : 0) << 6;
    if (lazy & SF) f |= ((this.res >>> s) & 1) << 7;
    if (lazy & OF) f |= (((this.a ^ this.sum) & (this.b ^ this.sum)) >>> s) & 1 ? OF : 0;
    return f;
  }
}
