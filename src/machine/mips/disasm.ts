/**
 * MIPS32 disassembler in the style of GNU objdump (`mipsel-linux-gnu-objdump -d`): ABI register
 * names without `$`, branch targets as absolute hex addresses, the common aliases (nop, move, b,
 * beqz, bnez, bal). Driven entirely by the decode table's operand lists.
 */
import { decode, Fields } from "./decode.js";
import { ALL_OPS, OP_RESERVED, OP_RESERVED_COP0, type Operand } from "./opcodes.js";

/** ABI register names, index = register number. */
export const REG_NAMES: readonly string[] = [
  "zero",
  "at",
  "v0",
  "v1",
  "a0",
  "a1",
  "a2",
  "a3",
  "t0",
  "t1",
  "t2",
  "t3",
  "t4",
  "t5",
  "t6",
  "t7",
  "s0",
  "s1",
  "s2",
  "s3",
  "s4",
  "s5",
  "s6",
  "s7",
  "t8",
  "t9",
  "k0",
  "k1",
  "gp",
  "sp",
  "s8",
  "ra",
];

/**
 * CP0 register names as objdump prints them for MIPS32 (opcodes/mips-dis.c, mips_cp0_names_mips3264
 * and mips_cp0sel_names_mips3264); unnamed registers print as `$n`.
 */
export const CP0_NAMES: readonly (string | null)[] = [
  "c0_index",
  "c0_random",
  "c0_entrylo0",
  "c0_entrylo1",
  "c0_context",
  "c0_pagemask",
  "c0_wired",
  null,
  "c0_badvaddr",
  "c0_count",
  "c0_entryhi",
  "c0_compare",
  "c0_status",
  "c0_cause",
  "c0_epc",
  "c0_prid",
  "c0_config",
  "c0_lladdr",
  "c0_watchlo",
  "c0_watchhi",
  "c0_xcontext",
  null,
  null,
  "c0_debug",
  "c0_depc",
  "c0_perfcnt",
  "c0_errctl",
  "c0_cacheerr",
  "c0_taglo",
  "c0_taghi",
  "c0_errorepc",
  "c0_desave",
];

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** Absolute target of a branch at `pc` with the offset in `w`. */
export function branchTarget(w: number, pc: number): number {
  return (pc + 4 + (Fields.simm(w) << 2)) >>> 0;
}

/** Absolute target of a J/JAL at `pc`. */
export function jumpTarget(w: number, pc: number): number {
  return (((pc + 4) & 0xf0000000) | (Fields.jindex(w) << 2)) >>> 0;
}

function operand(o: Operand, w: number, pc: number): string | null {
  switch (o) {
    case "rd":
      return REG_NAMES[Fields.rd(w)]!;
    case "rs":
      return REG_NAMES[Fields.rs(w)]!;
    case "rt":
      return REG_NAMES[Fields.rt(w)]!;
    case "sa":
      return hex(Fields.sa(w));
    case "simm":
      return String(Fields.simm(w));
    case "uimm":
      return hex(Fields.uimm(w));
    case "mem":
      return `${Fields.simm(w)}(${REG_NAMES[Fields.rs(w)]})`;
    case "boff":
      return hex(branchTarget(w, pc));
    case "jtarget":
      return hex(jumpTarget(w, pc));
    case "code20": {
      const c = (w >>> 6) & 0xfffff;
      return c === 0 ? null : hex(c);
    }
    case "code10": {
      const c = (w >>> 6) & 0x3ff;
      return c === 0 ? null : hex(c);
    }
    case "code19": {
      const c = (w >>> 6) & 0x7ffff;
      return c === 0 ? null : hex(c);
    }
    case "c0reg": {
      const r = Fields.rd(w);
      const sel = w & 7;
      if (sel === 0) return CP0_NAMES[r] ?? `$${r}`;
      if (r === 16 && sel <= 3) return `c0_config${sel}`;
      return `$${r},${sel}`;
    }
    case "sel":
      // Printed together with the register (objdump style).
      return null;
    case "cacheop":
      return hex(Fields.rt(w));
    case "stype": {
      const s = Fields.sa(w);
      return s === 0 ? null : hex(s);
    }
    case "hcode": {
      const c = (w >>> 11) & 0x3ff;
      return c === 0 ? null : hex(c);
    }
  }
}

/**
 * Disassembles one instruction word at virtual address `pc`. Unknown encodings print as `.word`.
 * `aliases: false` prints canonical forms only, like `objdump -M no-aliases`.
 */
export function disassemble(word: number, pc: number, opts: { aliases?: boolean } = {}): string {
  const w = word >>> 0;
  const op = decode(w);
  if (op === OP_RESERVED || op === OP_RESERVED_COP0) return `.word ${hex(w)}`;
  const d = ALL_OPS[op]!;
  const rs = Fields.rs(w);
  const rt = Fields.rt(w);
  if (opts.aliases === false) return canonical(d.operands, d.name, w, pc);
  // objdump's aliases.
  if (w === 0) return "nop";
  if (d.name === "addu" && rt === 0) return `move ${REG_NAMES[Fields.rd(w)]},${REG_NAMES[rs]}`;
  if (d.name === "beq" && rs === 0 && rt === 0) return `b ${hex(branchTarget(w, pc))}`;
  if (d.name === "beq" && rt === 0) return `beqz ${REG_NAMES[rs]},${hex(branchTarget(w, pc))}`;
  if (d.name === "bne" && rt === 0) return `bnez ${REG_NAMES[rs]},${hex(branchTarget(w, pc))}`;
  if (d.name === "bgezal" && rs === 0) return `bal ${hex(branchTarget(w, pc))}`;
  if (d.name === "jalr" && Fields.rd(w) === 31) return `jalr ${REG_NAMES[rs]}`;
  return canonical(d.operands, d.name, w, pc);
}

function canonical(operands: readonly Operand[], name: string, w: number, pc: number): string {
  const ops: string[] = [];
  for (const o of operands) {
    const s = operand(o, w, pc);
    if (s !== null) ops.push(s);
  }
  return ops.length > 0 ? `${name} ${ops.join(",")}` : name;
}
