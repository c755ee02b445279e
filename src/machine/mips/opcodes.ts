/**
 * The MIPS32 Release 1 decode table: the single source of truth for the interpreter, the block
 * compiler, the disassembler, the test assembler and the monitors (virtualization class).
 *
 * Each entry gives the encoding (`match` under `mask`), the operand syntax (which also names the
 * variable fields: every bit not covered by an operand is fixed by `match`), the virtualization
 * class and the semantics as a JavaScript code template. Templates are expanded twice by
 * `codegen.ts`: once with fields read from the instruction word at run time (the interpreter's
 * switch) and once with fields as constants (compiled basic blocks), so both run the same code.
 *
 * Encodings: MIPS32 Architecture for Programmers Vol. II (MD00086), Table A.2–A.8 opcode maps;
 * little-endian LWL/LWR/SWL/SWR per the instruction pages.
 */
import { ExcCode } from "./exc.js";

/** Operand tokens; each names a field of the instruction word and how it is printed. */
export type Operand =
  | "rd"
  | "rs"
  | "rt"
  | "sa"
  | "simm" // signed 16-bit immediate, decimal
  | "uimm" // zero-extended 16-bit immediate, hex
  | "mem" // offset(base): simm + rs
  | "boff" // branch offset, printed as the absolute target
  | "jtarget" // 26-bit jump index, printed as the absolute target
  | "code20" // SYSCALL/BREAK code, bits 25..6
  | "code10" // trap code, bits 15..6
  | "code19" // WAIT code, bits 24..6
  | "c0reg" // CP0 register number (rd field), printed $n
  | "sel" // CP0 select, bits 2..0
  | "cacheop" // CACHE op / PREF hint (rt field)
  | "stype" // SYNC type (sa field)
  | "hcode"; // hypcall code, bits 20..11

/** Bits each operand occupies. */
export const OPERAND_BITS: Readonly<Record<Operand, number>> = {
  rd: 0x1f << 11,
  rs: 0x1f << 21,
  rt: 0x1f << 16,
  sa: 0x1f << 6,
  simm: 0xffff,
  uimm: 0xffff,
  mem: (0x1f << 21) | 0xffff,
  boff: 0xffff,
  jtarget: 0x3ffffff,
  code20: 0xfffff << 6,
  code10: 0x3ff << 6,
  code19: 0x7ffff << 6,
  c0reg: 0x1f << 11,
  sel: 0x7,
  cacheop: 0x1f << 16,
  stype: 0x1f << 6,
  hcode: 0x3ff << 11,
};

/**
 * Virtualization class (STYLE.md §10): `privileged` instructions need CP0 (kernel mode or
 * Status.CU0) and trap with Coprocessor Unusable in supervisor/user mode — what Disco relies on.
 * MIPS has no sensitive-but-unprivileged instructions, so there is no `sensitive` class here.
 */
export type VirtClass = "normal" | "privileged";

/** What kind of instruction an entry is, for block formation and analysis. */
export type OpKind =
  | "alu"
  | "muldiv"
  | "load"
  | "store"
  | "branch"
  | "jump"
  | "trap"
  | "system"
  | "cp0"
  | "nop"
  | "reserved";

/**
 * What a template sees. Field members are JS expressions (literals in compiled blocks, locals in
 * the interpreter). The statement builders take care of $zero, exits and exceptions.
 */
export interface Emit {
  readonly rs: string;
  readonly rt: string;
  readonly rd: string;
  readonly sa: string;
  readonly simm: string;
  readonly uimm: string;
  /** The instruction word (for helpers that decode it again, e.g. CP0 operations). */
  readonly word: string;
  /** Address of this instruction. */
  readonly pc: string;
  /** 1 if this instruction sits in a branch delay slot, else 0. */
  readonly bd: string;
  /** Read a register: an int32 expression. */
  get(r: string): string;
  /** Statement writing an int32 expression to a register (discarded for $zero). */
  set(r: string, value: string): string;
  /** Statement raising an exception for this instruction and leaving it. */
  exc(code: ExcCode, bad?: string, ce?: number): string;
  /** Statement loading `size` bytes at virtual address `addr` into the local `dst` (declared). */
  load(size: 1 | 2 | 4, signed: boolean, addr: string, dst: string): string;
  /** Statement storing the low `size` bytes of `value` at virtual address `addr`. */
  store(size: 1 | 2 | 4, addr: string, value: string): string;
  /**
   * Statement calling `c.<call>`, a helper returning 0 to go on, 1 if it raised an exception, 2 if
   * it set the PC itself (ERET). Interpreter-only helpers may return 2.
   */
  helper(call: string): string;
  /** Statement leaving the instruction after a helper raised an exception (`c.fault` set). */
  raised(): string;
  /** Statement ending a compiled block after this instruction if a device was touched (`c.brk`). */
  endIfBrk(): string;
  /** Statement raising CpU (CE = 0) unless CP0 is usable in the current mode. */
  needCp0(): string;
}

/** Branch semantics: condition, target and link register, all as templates. */
export interface BranchSem {
  /** Boolean JS expression; "true" for jumps. */
  cond(e: Emit): string;
  /** Target address expression (int32 or uint32). */
  target(e: Emit): string;
  /** Register written with pc + 8 (before the delay slot runs), if any. */
  link?(e: Emit): string;
  /** Branch-likely: the delay slot is annulled when the branch is not taken. */
  likely?: boolean;
}

export interface OpDef {
  readonly name: string;
  readonly match: number;
  readonly mask: number;
  readonly operands: readonly Operand[];
  readonly kind: OpKind;
  readonly vclass: VirtClass;
  /** Semantics of a non-branch instruction. */
  readonly exec?: (e: Emit) => string;
  readonly branch?: BranchSem;
  /** Extra cost beyond CostTable.instruction (multiply/divide latency). */
  readonly cost?: "multiply" | "divide";
  /** Runs only in the interpreter (touches CP0/TLB/mode; never inside a compiled block). */
  readonly interpOnly?: boolean;
  /** Raises RI in a delay slot (branches, jumps, ERET: UNPREDICTABLE in MIPS32 R1, RI here as in R6). */
  readonly noDelaySlot?: boolean;
  /** CLZ/CLO: the encoding requires rt == rd (MD00086, CLZ "Restrictions"). */
  readonly rtIsRd?: boolean;
  /** Coprocessor number for the CpU exception of coprocessor-unusable placeholders. */
  readonly coprocessor?: number;
}

const OP = (op: number): number => (op << 26) >>> 0;
const SPECIAL = (funct: number): number => funct;
const SPECIAL2 = (funct: number): number => (OP(0x1c) | funct) >>> 0;
const REGIMM = (rt: number): number => (OP(0x01) | (rt << 16)) >>> 0;
const COP0 = (rs: number): number => (OP(0x10) | (rs << 21)) >>> 0;
const CO = (funct: number): number => (OP(0x10) | (1 << 25) | funct) >>> 0;

function maskOf(operands: readonly Operand[]): number {
  let free = 0;
  for (const o of operands) free |= OPERAND_BITS[o];
  return ~free >>> 0;
}

type Spec = Omit<OpDef, "mask" | "vclass"> & { vclass?: VirtClass; mask?: number };

function def(s: Spec): OpDef {
  return { ...s, mask: s.mask ?? maskOf(s.operands), vclass: s.vclass ?? "normal" };
}

// ---- template helpers -------------------------------------------------------------------------

const alu3 = (name: string, funct: number, expr: (a: string, b: string) => string): OpDef =>
  def({
    name,
    match: SPECIAL(funct),
    operands: ["rd", "rs", "rt"],
    kind: "alu",
    exec: (e) => e.set(e.rd, expr(e.get(e.rs), e.get(e.rt))),
  });

const shiftImm = (name: string, funct: number, op: string): OpDef =>
  def({
    name,
    match: SPECIAL(funct),
    operands: ["rd", "rt", "sa"],
    kind: "alu",
    exec: (e) => e.set(e.rd, `(${e.get(e.rt)} ${op} ${e.sa}) | 0`),
  });

const shiftVar = (name: string, funct: number, op: string): OpDef =>
  def({
    name,
    match: SPECIAL(funct),
    operands: ["rd", "rt", "rs"],
    kind: "alu",
    exec: (e) => e.set(e.rd, `(${e.get(e.rt)} ${op} (${e.get(e.rs)} & 31)) | 0`),
  });

const immOp = (
  name: string,
  op: number,
  imm: "simm" | "uimm",
  expr: (a: string, i: string) => string,
): OpDef =>
  def({
    name,
    match: OP(op),
    operands: ["rt", "rs", imm],
    kind: "alu",
    exec: (e) => e.set(e.rt, expr(e.get(e.rs), imm === "simm" ? e.simm : e.uimm)),
  });

const trapR = (name: string, funct: number, cond: (a: string, b: string) => string): OpDef =>
  def({
    name,
    match: SPECIAL(funct),
    operands: ["rs", "rt", "code10"],
    kind: "trap",
    exec: (e) => `if (${cond(e.get(e.rs), e.get(e.rt))}) ${e.exc(ExcCode.Tr)}`,
  });

const trapI = (name: string, rt: number, cond: (a: string, b: string) => string): OpDef =>
  def({
    name,
    match: REGIMM(rt),
    operands: ["rs", "simm"],
    kind: "trap",
    exec: (e) => `if (${cond(e.get(e.rs), e.simm)}) ${e.exc(ExcCode.Tr)}`,
  });

const load = (name: string, op: number, size: 1 | 2 | 4, signed: boolean): OpDef =>
  def({
    name,
    match: OP(op),
    operands: ["rt", "mem"],
    kind: "load",
    exec: (e) =>
      `{ const a = (${e.get(e.rs)} + ${e.simm}) | 0; ${e.load(size, signed, "a", "v")} ${e.set(e.rt, "v")} ${e.endIfBrk()} }`,
  });

const store = (name: string, op: number, size: 1 | 2 | 4): OpDef =>
  def({
    name,
    match: OP(op),
    operands: ["rt", "mem"],
    kind: "store",
    exec: (e) =>
      `{ const a = (${e.get(e.rs)} + ${e.simm}) | 0; ${e.store(size, "a", e.get(e.rt))} ${e.endIfBrk()} }`,
  });

/** Branch target of a 16-bit offset: pc + 4 + (simm << 2). */
const bTarget = (e: Emit): string => `((${e.pc} + 4 + (${e.simm} << 2)) | 0)`;

const branch2 = (name: string, op: number, cond: (a: string, b: string) => string, likely = false): OpDef =>
  def({
    name,
    match: OP(op),
    operands: ["rs", "rt", "boff"],
    kind: "branch",
    noDelaySlot: true,
    branch: { cond: (e) => cond(e.get(e.rs), e.get(e.rt)), target: bTarget, likely },
  });

const branch1 = (name: string, match: number, cond: (a: string) => string, likely = false, link = false) =>
  def({
    name,
    match,
    operands: ["rs", "boff"],
    kind: "branch",
    noDelaySlot: true,
    branch: {
      cond: (e) => cond(e.get(e.rs)),
      target: bTarget,
      likely,
      ...(link ? { link: () => "31" } : {}),
    },
  });

const cp0op = (name: string, funct: number, call: string, extra: Partial<Spec> = {}): OpDef =>
  def({
    name,
    match: CO(funct),
    operands: [],
    kind: "cp0",
    vclass: "privileged",
    interpOnly: true,
    exec: (e) => `${e.needCp0()} ${e.helper(call)}`,
    ...extra,
  });

/** A coprocessor-1/2 opcode: no FPU or CP2 exists, so CU1/CU2 are 0 and it raises CpU (CE = n). */
const copUnusable = (name: string, op: number, n: number): OpDef =>
  def({
    name,
    match: OP(op),
    mask: 0xfc000000,
    operands: [],
    kind: "reserved",
    coprocessor: n,
    exec: (e) => e.exc(ExcCode.CpU, undefined, n),
  });

// ---- the table ----------------------------------------------------------------------------------

export const OPCODES: readonly OpDef[] = [
  // SPECIAL shifts. SLL $0,$0,0 is NOP (printed as such by the disassembler).
  shiftImm("sll", 0x00, "<<"),
  shiftImm("srl", 0x02, ">>>"),
  shiftImm("sra", 0x03, ">>"),
  shiftVar("sllv", 0x04, "<<"),
  shiftVar("srlv", 0x06, ">>>"),
  shiftVar("srav", 0x07, ">>"),
  def({
    name: "jr",
    match: SPECIAL(0x08),
    operands: ["rs"],
    kind: "jump",
    noDelaySlot: true,
    branch: { cond: () => "true", target: (e) => e.get(e.rs) },
  }),
  def({
    name: "jalr",
    match: SPECIAL(0x09),
    operands: ["rd", "rs"],
    kind: "jump",
    noDelaySlot: true,
    branch: { cond: () => "true", target: (e) => e.get(e.rs), link: (e) => e.rd },
  }),
  def({
    name: "movz",
    match: SPECIAL(0x0a),
    operands: ["rd", "rs", "rt"],
    kind: "alu",
    exec: (e) => `if (${e.get(e.rt)} === 0) ${e.set(e.rd, e.get(e.rs))}`,
  }),
  def({
    name: "movn",
    match: SPECIAL(0x0b),
    operands: ["rd", "rs", "rt"],
    kind: "alu",
    exec: (e) => `if (${e.get(e.rt)} !== 0) ${e.set(e.rd, e.get(e.rs))}`,
  }),
  def({
    name: "syscall",
    match: SPECIAL(0x0c),
    operands: ["code20"],
    kind: "system",
    exec: (e) => e.exc(ExcCode.Sys),
  }),
  def({
    name: "break",
    match: SPECIAL(0x0d),
    operands: ["code20"],
    kind: "system",
    exec: (e) => e.exc(ExcCode.Bp),
  }),
  def({ name: "sync", match: SPECIAL(0x0f), operands: ["stype"], kind: "nop", exec: () => "" }),
  def({
    name: "mfhi",
    match: SPECIAL(0x10),
    operands: ["rd"],
    kind: "muldiv",
    exec: (e) => e.set(e.rd, "c.hi"),
  }),
  def({
    name: "mthi",
    match: SPECIAL(0x11),
    operands: ["rs"],
    kind: "muldiv",
    exec: (e) => `c.hi = ${e.get(e.rs)};`,
  }),
  def({
    name: "mflo",
    match: SPECIAL(0x12),
    operands: ["rd"],
    kind: "muldiv",
    exec: (e) => e.set(e.rd, "c.lo"),
  }),
  def({
    name: "mtlo",
    match: SPECIAL(0x13),
    operands: ["rs"],
    kind: "muldiv",
    exec: (e) => `c.lo = ${e.get(e.rs)};`,
  }),
  def({
    name: "mult",
    match: SPECIAL(0x18),
    operands: ["rs", "rt"],
    kind: "muldiv",
    cost: "multiply",
    exec: (e) =>
      `{ const a = ${e.get(e.rs)}, b = ${e.get(e.rt)}; c.lo = Math.imul(a, b); c.hi = mulhs(a, b); }`,
  }),
  def({
    name: "multu",
    match: SPECIAL(0x19),
    operands: ["rs", "rt"],
    kind: "muldiv",
    cost: "multiply",
    exec: (e) =>
      `{ const a = ${e.get(e.rs)}, b = ${e.get(e.rt)}; c.lo = Math.imul(a, b); c.hi = mulhu(a, b); }`,
  }),
  // Division by zero is UNPREDICTABLE in MIPS32 R1 (MD00086 DIV): HI and LO are left unchanged.
  def({
    name: "div",
    match: SPECIAL(0x1a),
    operands: ["rs", "rt"],
    kind: "muldiv",
    cost: "divide",
    exec: (e) =>
      `{ const a = ${e.get(e.rs)}, b = ${e.get(e.rt)}; if (b !== 0) { c.lo = (a / b) | 0; c.hi = (a % b) | 0; } }`,
  }),
  def({
    name: "divu",
    match: SPECIAL(0x1b),
    operands: ["rs", "rt"],
    kind: "muldiv",
    cost: "divide",
    exec: (e) =>
      `{ const a = ${e.get(e.rs)} >>> 0, b = ${e.get(e.rt)} >>> 0; if (b !== 0) { c.lo = (a / b) | 0; c.hi = (a % b) | 0; } }`,
  }),
  def({
    name: "add",
    match: SPECIAL(0x20),
    operands: ["rd", "rs", "rt"],
    kind: "alu",
    exec: (e) =>
      `{ const s = ${e.get(e.rs)} + ${e.get(e.rt)}; if (s > 2147483647 || s < -2147483648) ${e.exc(ExcCode.Ov)} ${e.set(e.rd, "s")} }`,
  }),
  alu3("addu", 0x21, (a, b) => `(${a} + ${b}) | 0`),
  def({
    name: "sub",
    match: SPECIAL(0x22),
    operands: ["rd", "rs", "rt"],
    kind: "alu",
    exec: (e) =>
      `{ const s = ${e.get(e.rs)} - ${e.get(e.rt)}; if (s > 2147483647 || s < -2147483648) ${e.exc(ExcCode.Ov)} ${e.set(e.rd, "s")} }`,
  }),
  alu3("subu", 0x23, (a, b) => `(${a} - ${b}) | 0`),
  alu3("and", 0x24, (a, b) => `${a} & ${b}`),
  alu3("or", 0x25, (a, b) => `${a} | ${b}`),
  alu3("xor", 0x26, (a, b) => `${a} ^ ${b}`),
  alu3("nor", 0x27, (a, b) => `~(${a} | ${b})`),
  alu3("slt", 0x2a, (a, b) => `(${a} < ${b} ? 1 : 0)`),
  alu3("sltu", 0x2b, (a, b) => `((${a} >>> 0) < (${b} >>> 0) ? 1 : 0)`),
  trapR("tge", 0x30, (a, b) => `${a} >= ${b}`),
  trapR("tgeu", 0x31, (a, b) => `(${a} >>> 0) >= (${b} >>> 0)`),
  trapR("tlt", 0x32, (a, b) => `${a} < ${b}`),
  trapR("tltu", 0x33, (a, b) => `(${a} >>> 0) < (${b} >>> 0)`),
  trapR("teq", 0x34, (a, b) => `${a} === ${b}`),
  trapR("tne", 0x36, (a, b) => `${a} !== ${b}`),

  // REGIMM
  branch1("bltz", REGIMM(0x00), (a) => `${a} < 0`),
  branch1("bgez", REGIMM(0x01), (a) => `${a} >= 0`),
  branch1("bltzl", REGIMM(0x02), (a) => `${a} < 0`, true),
  branch1("bgezl", REGIMM(0x03), (a) => `${a} >= 0`, true),
  trapI("tgei", 0x08, (a, i) => `${a} >= ${i}`),
  trapI("tgeiu", 0x09, (a, i) => `(${a} >>> 0) >= (${i} >>> 0)`),
  trapI("tlti", 0x0a, (a, i) => `${a} < ${i}`),
  trapI("tltiu", 0x0b, (a, i) => `(${a} >>> 0) < (${i} >>> 0)`),
  trapI("teqi", 0x0c, (a, i) => `${a} === ${i}`),
  trapI("tnei", 0x0e, (a, i) => `${a} !== ${i}`),
  branch1("bltzal", REGIMM(0x10), (a) => `${a} < 0`, false, true),
  branch1("bgezal", REGIMM(0x11), (a) => `${a} >= 0`, false, true),
  branch1("bltzall", REGIMM(0x12), (a) => `${a} < 0`, true, true),
  branch1("bgezall", REGIMM(0x13), (a) => `${a} >= 0`, true, true),

  // Jumps and I-type
  def({
    name: "j",
    match: OP(0x02),
    operands: ["jtarget"],
    kind: "jump",
    noDelaySlot: true,
    branch: {
      cond: () => "true",
      target: (e) => `((((${e.pc} + 4) & 0xf0000000) | ((${e.word} & 0x3ffffff) << 2)) | 0)`,
    },
  }),
  def({
    name: "jal",
    match: OP(0x03),
    operands: ["jtarget"],
    kind: "jump",
    noDelaySlot: true,
    branch: {
      cond: () => "true",
      target: (e) => `((((${e.pc} + 4) & 0xf0000000) | ((${e.word} & 0x3ffffff) << 2)) | 0)`,
      link: () => "31",
    },
  }),
  branch2("beq", 0x04, (a, b) => `${a} === ${b}`),
  branch2("bne", 0x05, (a, b) => `${a} !== ${b}`),
  branch1("blez", OP(0x06), (a) => `${a} <= 0`),
  branch1("bgtz", OP(0x07), (a) => `${a} > 0`),
  def({
    name: "addi",
    match: OP(0x08),
    operands: ["rt", "rs", "simm"],
    kind: "alu",
    exec: (e) =>
      `{ const s = ${e.get(e.rs)} + ${e.simm}; if (s > 2147483647 || s < -2147483648) ${e.exc(ExcCode.Ov)} ${e.set(e.rt, "s")} }`,
  }),
  immOp("addiu", 0x09, "simm", (a, i) => `(${a} + ${i}) | 0`),
  immOp("slti", 0x0a, "simm", (a, i) => `(${a} < ${i} ? 1 : 0)`),
  immOp("sltiu", 0x0b, "simm", (a, i) => `((${a} >>> 0) < (${i} >>> 0) ? 1 : 0)`),
  immOp("andi", 0x0c, "uimm", (a, i) => `${a} & ${i}`),
  immOp("ori", 0x0d, "uimm", (a, i) => `${a} | ${i}`),
  immOp("xori", 0x0e, "uimm", (a, i) => `${a} ^ ${i}`),
  def({
    name: "lui",
    match: OP(0x0f),
    operands: ["rt", "uimm"],
    kind: "alu",
    exec: (e) => e.set(e.rt, `${e.uimm} << 16`),
  }),

  // COP0 (privileged: CpU with CE = 0 in supervisor/user mode unless Status.CU0)
  def({
    name: "mfc0",
    match: COP0(0x00),
    operands: ["rt", "c0reg", "sel"],
    kind: "cp0",
    vclass: "privileged",
    interpOnly: true,
    exec: (e) => `${e.needCp0()} ${e.set(e.rt, `c.cp0.read((${e.word} >>> 11) & 31, ${e.word} & 7)`)}`,
  }),
  def({
    name: "mtc0",
    match: COP0(0x04),
    operands: ["rt", "c0reg", "sel"],
    kind: "cp0",
    vclass: "privileged",
    interpOnly: true,
    exec: (e) => `${e.needCp0()} c.cp0.write((${e.word} >>> 11) & 31, ${e.word} & 7, ${e.get(e.rt)});`,
  }),
  cp0op("tlbr", 0x01, "tlbr()"),
  cp0op("tlbwi", 0x02, "tlbwi()"),
  cp0op("tlbwr", 0x06, "tlbwr()"),
  cp0op("tlbp", 0x08, "tlbp()"),
  cp0op("eret", 0x18, "eret()", { noDelaySlot: true }),
  def({
    name: "wait",
    match: CO(0x20),
    operands: ["code19"],
    kind: "cp0",
    vclass: "privileged",
    interpOnly: true,
    exec: (e) => `${e.needCp0()} ${e.helper("waitInsn()")}`,
  }),
  // MIPS VZ HYPCALL (R5): not an R1 instruction. Listed so the monitors and the disassembler name it;
  // on this CPU it is a reserved COP0 encoding: CpU without CP0 access, RI in kernel mode.
  def({
    name: "hypcall",
    match: CO(0x28),
    operands: ["hcode"],
    kind: "reserved",
    vclass: "privileged",
    interpOnly: true,
    exec: (e) => `${e.needCp0()} ${e.exc(ExcCode.RI)}`,
  }),

  // SPECIAL2
  def({
    name: "madd",
    match: SPECIAL2(0x00),
    operands: ["rs", "rt"],
    kind: "muldiv",
    cost: "multiply",
    exec: (e) => `c.macc(${e.get(e.rs)}, ${e.get(e.rt)}, true, false);`,
  }),
  def({
    name: "maddu",
    match: SPECIAL2(0x01),
    operands: ["rs", "rt"],
    kind: "muldiv",
    cost: "multiply",
    exec: (e) => `c.macc(${e.get(e.rs)}, ${e.get(e.rt)}, false, false);`,
  }),
  // MUL: HI/LO are UNPREDICTABLE after it in R1; they are left unchanged (as QEMU does).
  def({
    name: "mul",
    match: SPECIAL2(0x02),
    operands: ["rd", "rs", "rt"],
    kind: "muldiv",
    cost: "multiply",
    exec: (e) => e.set(e.rd, `Math.imul(${e.get(e.rs)}, ${e.get(e.rt)})`),
  }),
  def({
    name: "msub",
    match: SPECIAL2(0x04),
    operands: ["rs", "rt"],
    kind: "muldiv",
    cost: "multiply",
    exec: (e) => `c.macc(${e.get(e.rs)}, ${e.get(e.rt)}, true, true);`,
  }),
  def({
    name: "msubu",
    match: SPECIAL2(0x05),
    operands: ["rs", "rt"],
    kind: "muldiv",
    cost: "multiply",
    exec: (e) => `c.macc(${e.get(e.rs)}, ${e.get(e.rt)}, false, true);`,
  }),
  def({
    name: "clz",
    match: SPECIAL2(0x20),
    mask: maskOf(["rd", "rs", "rt"]),
    operands: ["rd", "rs"],
    rtIsRd: true,
    kind: "alu",
    exec: (e) => e.set(e.rd, `Math.clz32(${e.get(e.rs)})`),
  }),
  def({
    name: "clo",
    match: SPECIAL2(0x21),
    mask: maskOf(["rd", "rs", "rt"]),
    operands: ["rd", "rs"],
    rtIsRd: true,
    kind: "alu",
    exec: (e) => e.set(e.rd, `Math.clz32(~${e.get(e.rs)})`),
  }),
  def({
    name: "sdbbp",
    match: SPECIAL2(0x3f),
    operands: ["code20"],
    kind: "reserved",
    // EJTAG is not implemented (Config1.EP = 0): SDBBP is Reserved Instruction (MD00086 SDBBP).
    exec: (e) => e.exc(ExcCode.RI),
  }),

  // Branch-likely I-type
  branch2("beql", 0x14, (a, b) => `${a} === ${b}`, true),
  branch2("bnel", 0x15, (a, b) => `${a} !== ${b}`, true),
  branch1("blezl", OP(0x16), (a) => `${a} <= 0`, true),
  branch1("bgtzl", OP(0x17), (a) => `${a} > 0`, true),

  // Loads and stores
  load("lb", 0x20, 1, true),
  load("lh", 0x21, 2, true),
  def({
    name: "lwl",
    match: OP(0x22),
    operands: ["rt", "mem"],
    kind: "load",
    exec: (e) =>
      `{ const v = c.lwlr((${e.get(e.rs)} + ${e.simm}) | 0, ${e.get(e.rt)}, true, ${e.pc}, ${e.bd}); if (c.fault) ${e.raised()} ${e.set(e.rt, "v")} ${e.endIfBrk()} }`,
  }),
  load("lw", 0x23, 4, true),
  load("lbu", 0x24, 1, false),
  load("lhu", 0x25, 2, false),
  def({
    name: "lwr",
    match: OP(0x26),
    operands: ["rt", "mem"],
    kind: "load",
    exec: (e) =>
      `{ const v = c.lwlr((${e.get(e.rs)} + ${e.simm}) | 0, ${e.get(e.rt)}, false, ${e.pc}, ${e.bd}); if (c.fault) ${e.raised()} ${e.set(e.rt, "v")} ${e.endIfBrk()} }`,
  }),
  store("sb", 0x28, 1),
  store("sh", 0x29, 2),
  def({
    name: "swl",
    match: OP(0x2a),
    operands: ["rt", "mem"],
    kind: "store",
    exec: (e) =>
      `${e.helper(`swlr((${e.get(e.rs)} + ${e.simm}) | 0, ${e.get(e.rt)}, true, ${e.pc}, ${e.bd})`)} ${e.endIfBrk()}`,
  }),
  store("sw", 0x2b, 4),
  def({
    name: "swr",
    match: OP(0x2e),
    operands: ["rt", "mem"],
    kind: "store",
    exec: (e) =>
      `${e.helper(`swlr((${e.get(e.rs)} + ${e.simm}) | 0, ${e.get(e.rt)}, false, ${e.pc}, ${e.bd})`)} ${e.endIfBrk()}`,
  }),
  def({
    name: "cache",
    match: OP(0x2f),
    operands: ["cacheop", "mem"],
    kind: "cp0",
    vclass: "privileged",
    interpOnly: true,
    // No caches are modelled: CACHE only checks CP0 usability (MD00086 CACHE), then does nothing.
    exec: (e) => e.needCp0(),
  }),
  def({
    name: "ll",
    match: OP(0x30),
    operands: ["rt", "mem"],
    kind: "load",
    exec: (e) =>
      `{ const v = c.ll((${e.get(e.rs)} + ${e.simm}) | 0, ${e.pc}, ${e.bd}); if (c.fault) ${e.raised()} ${e.set(e.rt, "v")} ${e.endIfBrk()} }`,
  }),
  def({ name: "pref", match: OP(0x33), operands: ["cacheop", "mem"], kind: "nop", exec: () => "" }),
  def({
    name: "sc",
    match: OP(0x38),
    operands: ["rt", "mem"],
    kind: "store",
    exec: (e) =>
      `{ const v = c.sc((${e.get(e.rs)} + ${e.simm}) | 0, ${e.get(e.rt)}, ${e.pc}, ${e.bd}); if (c.fault) ${e.raised()} ${e.set(e.rt, "v")} ${e.endIfBrk()} }`,
  }),

  // No FPU, no CP2: their opcodes raise Coprocessor Unusable with CE = 1 or 2.
  copUnusable("cop1", 0x11, 1),
  copUnusable("lwc1", 0x31, 1),
  copUnusable("ldc1", 0x35, 1),
  copUnusable("swc1", 0x39, 1),
  copUnusable("sdc1", 0x3d, 1),
  copUnusable("cop2", 0x12, 2),
  copUnusable("lwc2", 0x32, 2),
  copUnusable("ldc2", 0x36, 2),
  copUnusable("swc2", 0x3a, 2),
  copUnusable("sdc2", 0x3e, 2),
];

/** Index of the Reserved Instruction pseudo-entry returned by `decode` for unknown encodings. */
export const OP_RESERVED = OPCODES.length;
/** Index of the reserved-COP0 pseudo-entry: CpU without CP0 access, RI with it. */
export const OP_RESERVED_COP0 = OPCODES.length + 1;

/** The full table including the two pseudo-entries for unknown encodings. */
export const ALL_OPS: readonly OpDef[] = [
  ...OPCODES,
  def({
    name: ".reserved",
    match: 0,
    mask: 0,
    operands: [],
    kind: "reserved",
    exec: (e) => e.exc(ExcCode.RI),
  }),
  def({
    name: ".reserved-cop0",
    match: OP(0x10),
    mask: 0xfc000000,
    operands: [],
    kind: "reserved",
    vclass: "privileged",
    interpOnly: true,
    exec: (e) => `${e.needCp0()} ${e.exc(ExcCode.RI)}`,
  }),
];

/** Looks an entry up by mnemonic (tests, assembler). */
export function opByName(name: string): OpDef {
  const d = OPCODES.find((o) => o.name === name);
  if (!d) throw new Error(`no MIPS opcode named ${name}`);
  return d;
}
