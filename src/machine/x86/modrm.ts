/**
 * ModRM and SIB decoding for 16- and 32-bit addressing (SDM Vol. 2 §2.1.5, Tables 2-1 and
 * 2-2, Table 2-3 for SIB). The interpreter inlines the same rules on its hot path using the
 * tables exported here; the disassembler and the scanner call `decodeModrm`.
 */

/** Register numbers in encoding order (SDM Table 2-2 "r32" row). */
export const EAX = 0;
export const ECX = 1;
export const EDX = 2;
export const EBX = 3;
export const ESP = 4;
export const EBP = 5;
export const ESI = 6;
export const EDI = 7;

/** Segment register numbers in encoding order (Sreg field). */
export const ES = 0;
export const CS = 1;
export const SS = 2;
export const DS = 3;
export const FS = 4;
export const GS = 5;

export const REG32_NAMES = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"] as const;
export const REG16_NAMES = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"] as const;
export const REG8_NAMES = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"] as const;
export const SEG_NAMES = ["es", "cs", "ss", "ds", "fs", "gs"] as const;

/** 16-bit addressing (SDM Table 2-1): base register per rm, or -1. */
export const MODRM16_BASE = Int8Array.from([EBX, EBX, EBP, EBP, -1, -1, EBP, EBX]);
/** 16-bit addressing: index register per rm, or -1. */
export const MODRM16_INDEX = Int8Array.from([ESI, EDI, ESI, EDI, ESI, EDI, -1, -1]);

/** A decoded ModRM (+SIB +displacement). */
export interface ModrmDecoded {
  mod: number;
  reg: number;
  rm: number;
  /** Base register or -1; index register or -1 (ESP as index means none). */
  base: number;
  index: number;
  /** Scale as a shift count 0..3. */
  scale: number;
  /** Displacement, sign-extended to 32 bits (16-bit forms: as encoded, sign-extended). */
  disp: number;
  /** Segment used when no override prefix: SS for EBP/ESP-based forms, else DS. */
  defaultSeg: number;
  /** Bytes consumed from the ModRM byte on. */
  length: number;
}

export function emptyModrm(): ModrmDecoded {
  return { mod: 0, reg: 0, rm: 0, base: -1, index: -1, scale: 0, disp: 0, defaultSeg: DS, length: 1 };
}

/**
 * Decodes the ModRM at `bytes[pos]` into `out` and returns the position after the
 * displacement. Returns -1 if `bytes` ends before the ModRM does.
 */
export function decodeModrm(bytes: Uint8Array, pos: number, addr32: boolean, out: ModrmDecoded): number {
  const start = pos;
  if (pos >= bytes.length) return -1;
  const m = bytes[pos++]!;
  out.mod = m >>> 6;
  out.reg = (m >>> 3) & 7;
  out.rm = m & 7;
  out.base = -1;
  out.index = -1;
  out.scale = 0;
  out.disp = 0;
  out.defaultSeg = DS;
  const need = (n: number): boolean => pos + n <= bytes.length;
  if (out.mod === 3) {
    out.length = 1;
    return pos;
  }
  if (addr32) {
    let dispSize = out.mod === 1 ? 1 : out.mod === 2 ? 4 : 0;
    if (out.rm === 4) {
      if (!need(1)) return -1;
      const sib = bytes[pos++]!;
      out.scale = sib >>> 6;
      const idx = (sib >>> 3) & 7;
      out.index = idx === ESP ? -1 : idx;
      const b = sib & 7;
      if (b === EBP && out.mod === 0) {
        dispSize = 4;
      } else {
        out.base = b;
      }
    } else if (out.rm === EBP && out.mod === 0) {
      dispSize = 4;
    } else {
      out.base = out.rm;
    }
    if (!need(dispSize)) return -1;
    if (dispSize === 1) out.disp = (bytes[pos]! << 24) >> 24;
    else if (dispSize === 4)
      out.disp = bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16) | (bytes[pos + 3]! << 24);
    pos += dispSize;
    if (out.base === ESP || out.base === EBP) out.defaultSeg = SS;
  } else {
    let dispSize = out.mod === 1 ? 1 : out.mod === 2 ? 2 : 0;
    if (out.mod === 0 && out.rm === 6) {
      dispSize = 2;
    } else {
      out.base = MODRM16_BASE[out.rm]!;
      out.index = MODRM16_INDEX[out.rm]!;
      if (out.base === EBP) out.defaultSeg = SS;
    }
    if (!need(dispSize)) return -1;
    if (dispSize === 1) out.disp = (bytes[pos]! << 24) >> 24;
    else if (dispSize === 2) out.disp = ((bytes[pos]! | (bytes[pos + 1]! << 8)) << 16) >> 16;
    pos += dispSize;
  }
  out.length = pos - start;
  return pos;
}
