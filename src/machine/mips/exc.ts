/**
 * MIPS32 exception codes (Cause.ExcCode, bits 6..2) and the CP0 bit positions the CPU, the TLB
 * and the monitors share. Source: MIPS32 Architecture for Programmers Vol. III (MD00090),
 * Table 9.31 (Cause ExcCode values), §9.2 Status / Cause; also REFERENCE.md "MIPS32 CP0".
 */
export const ExcCode = {
  Int: 0,
  Mod: 1,
  TLBL: 2,
  TLBS: 3,
  AdEL: 4,
  AdES: 5,
  IBE: 6,
  DBE: 7,
  Sys: 8,
  Bp: 9,
  RI: 10,
  CpU: 11,
  Ov: 12,
  Tr: 13,
} as const;
export type ExcCode = (typeof ExcCode)[keyof typeof ExcCode];

/** Names by code, for statistics and diagnostics (codes 14..31 are reserved or R2+). */
export const EXC_NAMES: readonly string[] = [
  "Int",
  "Mod",
  "TLBL",
  "TLBS",
  "AdEL",
  "AdES",
  "IBE",
  "DBE",
  "Sys",
  "Bp",
  "RI",
  "CpU",
  "Ov",
  "Tr",
];

/** Status register bits (MD00090 §9.2.13). */
export const Status = {
  IE: 1 << 0,
  EXL: 1 << 1,
  ERL: 1 << 2,
  /** KSU: 0 kernel, 1 supervisor, 2 user (bits 4..3). */
  KSU_SHIFT: 3,
  KSU_MASK: 3 << 3,
  IM_SHIFT: 8,
  IM_MASK: 0xff << 8,
  BEV: 1 << 22,
  CU0: 1 << 28,
} as const;

/** Cause register bits (MD00090 §9.2.14). */
export const Cause = {
  EXC_SHIFT: 2,
  EXC_MASK: 0x1f << 2,
  IP_SHIFT: 8,
  IP_MASK: 0xff << 8,
  /** Interrupt vector select: 1 = interrupts use the special vector at offset 0x200. */
  IV: 1 << 23,
  CE_SHIFT: 28,
  CE_MASK: 3 << 28,
  BD: 1 << 31,
} as const;

/** Privilege mode derived from Status (KSU, EXL, ERL). */
export const Mode = { Kernel: 0, Supervisor: 1, User: 2 } as const;
export type Mode = (typeof Mode)[keyof typeof Mode];
