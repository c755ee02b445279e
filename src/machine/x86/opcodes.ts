/**
 * The i386 opcode table: the single source of truth for decoding (instruction lengths,
 * ModRM presence, immediates), the disassembler, the full-virtualization scanner and the
 * tests' assembler. The interpreter dispatches on the same opcode numbers and reads the
 * decode attributes derived here.
 *
 * Sources: Intel SDM Vol. 2, Appendix A (opcode map, operand notation "Eb,Gb" etc.) and the
 * per-instruction pages for flags; virtualization classes from J. S. Robin, C. E. Irvine,
 * "Analysis of the Intel Pentium's Ability to Support a Secure Virtual Machine Monitor",
 * USENIX Security 2000, §4 (the 17 sensitive unprivileged instructions).
 *
 * Opcode numbering: 0x000-0x0FF one-byte opcodes, 0x100-0x1FF the 0x0F-prefixed map.
 * FPU (D8-DF), MMX/SSE and every other opcode missing here are #UD (the CPU has no FPU:
 * with CR0.EM or CR0.TS set, ESC opcodes raise #NM as the SDM specifies, else #UD).
 */
import { AF, CF, DF, IF, IOPL_MASK, NT, OF, OSZAPC, PF, SF, TF, ZF } from "./flags.js";

/**
 * How an instruction behaves under a deprivileging monitor.
 * - `privileged`: faults with #GP(0) (or #UD) when CPL > 0 — trap-and-emulate works.
 * - `iopl`: faults when CPL > IOPL (CLI/STI) or when the TSS I/O bitmap denies the port.
 * - `sensitive`: reads or changes privileged state but does not trap at CPL > 0 (Robin & Irvine).
 * - `none`: harmless.
 */
export type VirtClass = "none" | "privileged" | "iopl" | "sensitive";

/**
 * Operand notation of SDM Vol. 2 Appendix A.2, plus fixed registers and constants:
 * E = ModRM r/m (register or memory), G = ModRM reg, M = ModRM memory only, R = ModRM r/m
 * register only, S = segment register in ModRM reg, C/D = control/debug register in ModRM reg,
 * I = immediate, J = relative branch, A = far pointer, O = moffs, X = DS:eSI, Y = ES:eDI,
 * Z = register in the opcode's low 3 bits. Sizes: b byte, w word, d dword, v word/dword by
 * operand size, z immediate word/dword by operand size, p far pointer, s 6-byte table
 * register, q qword, a BOUND pair; "Ibs" is a byte immediate sign-extended to the operand size.
 */
export type Operand =
  | "Eb"
  | "Ew"
  | "Ed"
  | "Ev"
  | "Gb"
  | "Gw"
  | "Gv"
  | "M"
  | "Mp"
  | "Ms"
  | "Mq"
  | "Ma"
  | "Rd"
  | "Sw"
  | "Cd"
  | "Dd"
  | "Ib"
  | "Ibs"
  | "Iw"
  | "Iz"
  | "Jb"
  | "Jz"
  | "Ap"
  | "Ob"
  | "Ov"
  | "Xb"
  | "Xv"
  | "Yb"
  | "Yv"
  | "Zb"
  | "Zv"
  | "AL"
  | "eAX"
  | "CL"
  | "DX"
  | "1"
  | "ES"
  | "CS"
  | "SS"
  | "DS"
  | "FS"
  | "GS";

export interface OpcodeEntry {
  /** Intel mnemonic; "a|b" gives the 16-bit and 32-bit operand-size spellings (cbw|cwde). */
  readonly mnemonic: string;
  readonly operands: readonly Operand[];
  /** EFLAGS bits the instruction reads and writes (written includes "undefined after"). */
  readonly flagsRead: number;
  readonly flagsWritten: number;
  readonly vclass: VirtClass;
  /** ModRM.mod must not be 3 (memory operand only); #UD otherwise. */
  readonly memOnly: boolean;
}

/** What a byte of the map is. */
export type MapKind = "op" | "group" | "prefix" | "escape" | "invalid";

export interface MapSlot {
  readonly kind: MapKind;
  /** For "op". */
  readonly entry?: OpcodeEntry;
  /** For "group": eight entries selected by ModRM.reg (undefined = #UD). */
  readonly group?: readonly (OpcodeEntry | undefined)[];
  /** For "group": a name for documentation ("grp1"). */
  readonly groupName?: string;
}

interface Spec {
  r?: number;
  w?: number;
  v?: VirtClass;
  mem?: boolean;
}

function e(mnemonic: string, operands: string, spec: Spec = {}): OpcodeEntry {
  return {
    mnemonic,
    operands: operands === "" ? [] : (operands.split(",") as Operand[]),
    flagsRead: spec.r ?? 0,
    flagsWritten: spec.w ?? 0,
    vclass: spec.v ?? "none",
    memOnly: spec.mem ?? false,
  };
}

const map: MapSlot[] = new Array<MapSlot>(512).fill({ kind: "invalid" });

function op(code: number, entry: OpcodeEntry): void {
  map[code] = { kind: "op", entry };
}
function group(code: number, name: string, entries: (OpcodeEntry | undefined)[]): void {
  map[code] = { kind: "group", group: entries, groupName: name };
}

// Condition codes in encoding order (SDM Vol. 1 Appendix B, Table B-1) and the flags each reads.
export const CONDITIONS = [
  "o",
  "no",
  "b",
  "ae",
  "e",
  "ne",
  "be",
  "a",
  "s",
  "ns",
  "p",
  "np",
  "l",
  "ge",
  "le",
  "g",
];
const COND_FLAGS = [
  OF,
  OF,
  CF,
  CF,
  ZF,
  ZF,
  CF | ZF,
  CF | ZF,
  SF,
  SF,
  PF,
  PF,
  SF | OF,
  SF | OF,
  ZF | SF | OF,
  ZF | SF | OF,
];

// --- One-byte map (SDM Vol. 2 Table A-2) ---
const ALU = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];
const ALU_READ = [0, 0, CF, CF, 0, 0, 0, 0];
for (let i = 0; i < 8; i++) {
  const base = i << 3;
  const s: Spec = { r: ALU_READ[i]!, w: OSZAPC };
  op(base + 0, e(ALU[i]!, "Eb,Gb", s));
  op(base + 1, e(ALU[i]!, "Ev,Gv", s));
  op(base + 2, e(ALU[i]!, "Gb,Eb", s));
  op(base + 3, e(ALU[i]!, "Gv,Ev", s));
  op(base + 4, e(ALU[i]!, "AL,Ib", s));
  op(base + 5, e(ALU[i]!, "eAX,Iz", s));
}
op(0x06, e("push", "ES"));
op(0x07, e("pop", "ES"));
op(0x0e, e("push", "CS", { v: "sensitive" }));
op(0x16, e("push", "SS", { v: "sensitive" }));
op(0x17, e("pop", "SS"));
op(0x1e, e("push", "DS"));
op(0x1f, e("pop", "DS"));
map[0x0f] = { kind: "escape" };
for (const p of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3])
  map[p] = { kind: "prefix" };
op(0x27, e("daa", "", { r: AF | CF, w: OSZAPC }));
op(0x2f, e("das", "", { r: AF | CF, w: OSZAPC }));
op(0x37, e("aaa", "", { r: AF, w: OSZAPC }));
op(0x3f, e("aas", "", { r: AF, w: OSZAPC }));
for (let r = 0; r < 8; r++) {
  op(0x40 + r, e("inc", "Zv", { w: OF | SF | ZF | AF | PF }));
  op(0x48 + r, e("dec", "Zv", { w: OF | SF | ZF | AF | PF }));
  op(0x50 + r, e("push", "Zv"));
  op(0x58 + r, e("pop", "Zv"));
}
op(0x60, e("pushaw|pusha", ""));
op(0x61, e("popaw|popa", ""));
op(0x62, e("bound", "Gv,Ma", { mem: true }));
op(0x63, e("arpl", "Ew,Gw", { w: ZF }));
op(0x68, e("push", "Iz"));
op(0x69, e("imul", "Gv,Ev,Iz", { w: OSZAPC }));
op(0x6a, e("push", "Ibs"));
op(0x6b, e("imul", "Gv,Ev,Ibs", { w: OSZAPC }));
op(0x6c, e("ins", "Yb,DX", { r: DF, v: "iopl" }));
op(0x6d, e("ins", "Yv,DX", { r: DF, v: "iopl" }));
op(0x6e, e("outs", "DX,Xb", { r: DF, v: "iopl" }));
op(0x6f, e("outs", "DX,Xv", { r: DF, v: "iopl" }));
for (let c = 0; c < 16; c++) op(0x70 + c, e(`j${CONDITIONS[c]}`, "Jb", { r: COND_FLAGS[c]! }));
group(
  0x80,
  "grp1",
  ALU.map((m, i) => e(m, "Eb,Ib", { r: ALU_READ[i]!, w: OSZAPC })),
);
group(
  0x81,
  "grp1",
  ALU.map((m, i) => e(m, "Ev,Iz", { r: ALU_READ[i]!, w: OSZAPC })),
);
group(
  0x82,
  "grp1",
  ALU.map((m, i) => e(m, "Eb,Ib", { r: ALU_READ[i]!, w: OSZAPC })),
);
group(
  0x83,
  "grp1",
  ALU.map((m, i) => e(m, "Ev,Ibs", { r: ALU_READ[i]!, w: OSZAPC })),
);
op(0x84, e("test", "Eb,Gb", { w: OSZAPC }));
op(0x85, e("test", "Ev,Gv", { w: OSZAPC }));
op(0x86, e("xchg", "Eb,Gb"));
op(0x87, e("xchg", "Ev,Gv"));
op(0x88, e("mov", "Eb,Gb"));
op(0x89, e("mov", "Ev,Gv"));
op(0x8a, e("mov", "Gb,Eb"));
op(0x8b, e("mov", "Gv,Ev"));
op(0x8c, e("mov", "Ew,Sw", { v: "sensitive" }));
op(0x8d, e("lea", "Gv,M", { mem: true }));
op(0x8e, e("mov", "Sw,Ew"));
group(0x8f, "grp1a", [e("pop", "Ev")]);
op(0x90, e("nop", ""));
for (let r = 1; r < 8; r++) op(0x90 + r, e("xchg", "Zv,eAX"));
op(0x98, e("cbw|cwde", ""));
op(0x99, e("cwd|cdq", ""));
op(0x9a, e("call", "Ap", { v: "sensitive" }));
op(0x9b, e("fwait", ""));
op(0x9c, e("pushfw|pushf", "", { r: OSZAPC | TF | IF | DF | IOPL_MASK | NT, v: "sensitive" }));
op(0x9d, e("popfw|popf", "", { w: OSZAPC | TF | IF | DF | IOPL_MASK | NT, v: "sensitive" }));
op(0x9e, e("sahf", "", { w: SF | ZF | AF | PF | CF }));
op(0x9f, e("lahf", "", { r: SF | ZF | AF | PF | CF }));
op(0xa0, e("mov", "AL,Ob"));
op(0xa1, e("mov", "eAX,Ov"));
op(0xa2, e("mov", "Ob,AL"));
op(0xa3, e("mov", "Ov,eAX"));
op(0xa4, e("movs", "Yb,Xb", { r: DF }));
op(0xa5, e("movs", "Yv,Xv", { r: DF }));
op(0xa6, e("cmps", "Xb,Yb", { r: DF, w: OSZAPC }));
op(0xa7, e("cmps", "Xv,Yv", { r: DF, w: OSZAPC }));
op(0xa8, e("test", "AL,Ib", { w: OSZAPC }));
op(0xa9, e("test", "eAX,Iz", { w: OSZAPC }));
op(0xaa, e("stos", "Yb,AL", { r: DF }));
op(0xab, e("stos", "Yv,eAX", { r: DF }));
op(0xac, e("lods", "AL,Xb", { r: DF }));
op(0xad, e("lods", "eAX,Xv", { r: DF }));
op(0xae, e("scas", "AL,Yb", { r: DF, w: OSZAPC }));
op(0xaf, e("scas", "eAX,Yv", { r: DF, w: OSZAPC }));
for (let r = 0; r < 8; r++) {
  op(0xb0 + r, e("mov", "Zb,Ib"));
  op(0xb8 + r, e("mov", "Zv,Iz"));
}
const SHIFTS = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"];
const SHIFT_READ = [0, 0, CF, CF, 0, 0, 0, 0];
function shiftGroup(code: number, operands: string): void {
  group(
    code,
    "grp2",
    SHIFTS.map((m, i) => e(m, operands, { r: SHIFT_READ[i]!, w: i < 4 ? OF | CF : OSZAPC })),
  );
}
shiftGroup(0xc0, "Eb,Ib");
shiftGroup(0xc1, "Ev,Ib");
op(0xc2, e("ret", "Iw"));
op(0xc3, e("ret", ""));
op(0xc4, e("les", "Gv,Mp", { mem: true }));
op(0xc5, e("lds", "Gv,Mp", { mem: true }));
group(0xc6, "grp11", [e("mov", "Eb,Ib")]);
group(0xc7, "grp11", [e("mov", "Ev,Iz")]);
op(0xc8, e("enter", "Iw,Ib"));
op(0xc9, e("leave", ""));
op(0xca, e("retf", "Iw", { v: "sensitive" }));
op(0xcb, e("retf", "", { v: "sensitive" }));
op(0xcc, e("int3", "", { w: TF | IF | NT, v: "sensitive" }));
op(0xcd, e("int", "Ib", { w: TF | IF | NT, v: "sensitive" }));
op(0xce, e("into", "", { r: OF, w: TF | IF | NT, v: "sensitive" }));
op(0xcf, e("iretw|iret", "", { w: OSZAPC | TF | IF | DF | IOPL_MASK | NT, v: "sensitive" }));
shiftGroup(0xd0, "Eb,1");
shiftGroup(0xd1, "Ev,1");
shiftGroup(0xd2, "Eb,CL");
shiftGroup(0xd3, "Ev,CL");
op(0xd4, e("aam", "Ib", { w: OSZAPC }));
op(0xd5, e("aad", "Ib", { w: OSZAPC }));
op(0xd6, e("salc", "", { r: CF }));
op(0xd7, e("xlat", ""));
for (let c = 0xd8; c <= 0xdf; c++) map[c] = { kind: "escape" };
op(0xe0, e("loopne", "Jb", { r: ZF }));
op(0xe1, e("loope", "Jb", { r: ZF }));
op(0xe2, e("loop", "Jb"));
op(0xe3, e("jcxz|jecxz", "Jb"));
op(0xe4, e("in", "AL,Ib", { v: "iopl" }));
op(0xe5, e("in", "eAX,Ib", { v: "iopl" }));
op(0xe6, e("out", "Ib,AL", { v: "iopl" }));
op(0xe7, e("out", "Ib,eAX", { v: "iopl" }));
op(0xe8, e("call", "Jz"));
op(0xe9, e("jmp", "Jz"));
op(0xea, e("jmp", "Ap", { v: "sensitive" }));
op(0xeb, e("jmp", "Jb"));
op(0xec, e("in", "AL,DX", { v: "iopl" }));
op(0xed, e("in", "eAX,DX", { v: "iopl" }));
op(0xee, e("out", "DX,AL", { v: "iopl" }));
op(0xef, e("out", "DX,eAX", { v: "iopl" }));
op(0xf1, e("icebp", "", { w: TF | IF | NT }));
op(0xf4, e("hlt", "", { v: "privileged" }));
op(0xf5, e("cmc", "", { r: CF, w: CF }));
const grp3 = (s: "b" | "v", imm: string): (OpcodeEntry | undefined)[] => [
  e("test", `E${s},${imm}`, { w: OSZAPC }),
  e("test", `E${s},${imm}`, { w: OSZAPC }),
  e("not", `E${s}`),
  e("neg", `E${s}`, { w: OSZAPC }),
  e("mul", `E${s}`, { w: OSZAPC }),
  e("imul", `E${s}`, { w: OSZAPC }),
  e("div", `E${s}`, { w: OSZAPC }),
  e("idiv", `E${s}`, { w: OSZAPC }),
];
group(0xf6, "grp3", grp3("b", "Ib"));
group(0xf7, "grp3", grp3("v", "Iz"));
op(0xf8, e("clc", "", { w: CF }));
op(0xf9, e("stc", "", { w: CF }));
op(0xfa, e("cli", "", { w: IF, v: "iopl" }));
op(0xfb, e("sti", "", { w: IF, v: "iopl" }));
op(0xfc, e("cld", "", { w: DF }));
op(0xfd, e("std", "", { w: DF }));
group(0xfe, "grp4", [e("inc", "Eb", { w: OSZAPC & ~CF }), e("dec", "Eb", { w: OSZAPC & ~CF })]);
group(0xff, "grp5", [
  e("inc", "Ev", { w: OSZAPC & ~CF }),
  e("dec", "Ev", { w: OSZAPC & ~CF }),
  e("call", "Ev"),
  e("call", "Mp", { mem: true, v: "sensitive" }),
  e("jmp", "Ev"),
  e("jmp", "Mp", { mem: true, v: "sensitive" }),
  e("push", "Ev"),
  undefined,
]);

// --- Two-byte map, 0F xx (SDM Vol. 2 Table A-3), numbered 0x100 + xx ---
group(0x100, "grp6", [
  e("sldt", "Ew", { v: "sensitive" }),
  e("str", "Ew", { v: "sensitive" }),
  e("lldt", "Ew", { v: "privileged" }),
  e("ltr", "Ew", { v: "privileged" }),
  e("verr", "Ew", { w: ZF, v: "sensitive" }),
  e("verw", "Ew", { w: ZF, v: "sensitive" }),
]);
group(0x101, "grp7", [
  e("sgdt", "Ms", { mem: true, v: "sensitive" }),
  e("sidt", "Ms", { mem: true, v: "sensitive" }),
  e("lgdt", "Ms", { mem: true, v: "privileged" }),
  e("lidt", "Ms", { mem: true, v: "privileged" }),
  e("smsw", "Ew", { v: "sensitive" }),
  undefined,
  e("lmsw", "Ew", { v: "privileged" }),
  e("invlpg", "M", { mem: true, v: "privileged" }),
]);
op(0x102, e("lar", "Gv,Ew", { w: ZF, v: "sensitive" }));
op(0x103, e("lsl", "Gv,Ew", { w: ZF, v: "sensitive" }));
op(0x106, e("clts", "", { v: "privileged" }));
op(0x108, e("invd", "", { v: "privileged" }));
op(0x109, e("wbinvd", "", { v: "privileged" }));
op(0x10b, e("ud2", ""));
// 0F 18-1F: prefetch hints and the multi-byte NOP (0F 1F /0), all no-ops with a ModRM.
for (let c = 0x118; c <= 0x11f; c++) op(c, e("nop", "Ev"));
op(0x120, e("mov", "Rd,Cd", { v: "privileged" }));
op(0x121, e("mov", "Rd,Dd", { v: "privileged" }));
op(0x122, e("mov", "Cd,Rd", { v: "privileged" }));
op(0x123, e("mov", "Dd,Rd", { v: "privileged" }));
op(0x130, e("wrmsr", "", { v: "privileged" }));
op(0x131, e("rdtsc", ""));
op(0x132, e("rdmsr", "", { v: "privileged" }));
for (let c = 0; c < 16; c++) {
  op(0x180 + c, e(`j${CONDITIONS[c]}`, "Jz", { r: COND_FLAGS[c]! }));
  op(0x190 + c, e(`set${CONDITIONS[c]}`, "Eb", { r: COND_FLAGS[c]! }));
}
op(0x1a0, e("push", "FS"));
op(0x1a1, e("pop", "FS"));
op(0x1a2, e("cpuid", ""));
op(0x1a3, e("bt", "Ev,Gv", { w: OSZAPC }));
op(0x1a4, e("shld", "Ev,Gv,Ib", { w: OSZAPC }));
op(0x1a5, e("shld", "Ev,Gv,CL", { w: OSZAPC }));
op(0x1a8, e("push", "GS"));
op(0x1a9, e("pop", "GS"));
op(0x1ab, e("bts", "Ev,Gv", { w: OSZAPC }));
op(0x1ac, e("shrd", "Ev,Gv,Ib", { w: OSZAPC }));
op(0x1ad, e("shrd", "Ev,Gv,CL", { w: OSZAPC }));
op(0x1af, e("imul", "Gv,Ev", { w: OSZAPC }));
op(0x1b0, e("cmpxchg", "Eb,Gb", { w: OSZAPC }));
op(0x1b1, e("cmpxchg", "Ev,Gv", { w: OSZAPC }));
op(0x1b2, e("lss", "Gv,Mp", { mem: true }));
op(0x1b3, e("btr", "Ev,Gv", { w: OSZAPC }));
op(0x1b4, e("lfs", "Gv,Mp", { mem: true }));
op(0x1b5, e("lgs", "Gv,Mp", { mem: true }));
op(0x1b6, e("movzx", "Gv,Eb"));
op(0x1b7, e("movzx", "Gv,Ew"));
group(0x1ba, "grp8", [
  undefined,
  undefined,
  undefined,
  undefined,
  e("bt", "Ev,Ib", { w: OSZAPC }),
  e("bts", "Ev,Ib", { w: OSZAPC }),
  e("btr", "Ev,Ib", { w: OSZAPC }),
  e("btc", "Ev,Ib", { w: OSZAPC }),
]);
op(0x1bb, e("btc", "Ev,Gv", { w: OSZAPC }));
op(0x1bc, e("bsf", "Gv,Ev", { w: OSZAPC }));
op(0x1bd, e("bsr", "Gv,Ev", { w: OSZAPC }));
op(0x1be, e("movsx", "Gv,Eb"));
op(0x1bf, e("movsx", "Gv,Ew"));
op(0x1c0, e("xadd", "Eb,Gb", { w: OSZAPC }));
op(0x1c1, e("xadd", "Ev,Gv", { w: OSZAPC }));
group(0x1c7, "grp9", [undefined, e("cmpxchg8b", "Mq", { mem: true, w: ZF })]);
for (let r = 0; r < 8; r++) op(0x1c8 + r, e("bswap", "Zv"));

/** The 512-slot opcode map (0x000-0x0FF one-byte, 0x100-0x1FF after 0x0F). */
export const OPCODE_MAP: readonly MapSlot[] = map;

/** The entry for opcode `code` with ModRM.reg `reg` (for groups), or undefined (#UD). */
export function lookup(code: number, reg: number): OpcodeEntry | undefined {
  const slot = map[code]!;
  if (slot.kind === "op") return slot.entry;
  if (slot.kind === "group") return slot.group![reg];
  return undefined;
}

// --- Decode attributes derived from the table, as dense arrays for the interpreter ---

/** Immediate kinds in the order they follow the ModRM bytes. */
export const Imm = {
  None: 0,
  /** One byte, zero-extended. */
  B: 1,
  /** One byte, sign-extended (Ibs, Jb). */
  BS: 2,
  /** Two bytes. */
  W: 3,
  /** Two or four bytes by operand size (Iz, Jz). */
  Z: 4,
  /** Far pointer: offset (2 or 4 by operand size) then a 2-byte selector (Ap). */
  P: 5,
  /** moffs: 2 or 4 bytes by address size (Ob, Ov). */
  O: 6,
  /** ENTER: Iw then Ib. */
  WB: 7,
} as const;

/** 1 when the opcode has a ModRM byte. */
export const HAS_MODRM = new Uint8Array(512);
/** Immediate kind (Imm.*), for groups the kind of ModRM.reg 0 unless IMM_BY_REG says otherwise. */
export const IMM_KIND = new Uint8Array(512);
/** For grp3 (F6/F7) the immediate exists only for reg 0/1: these opcodes look at reg. */
export const IMM_ONLY_REG01 = new Uint8Array(512);

function operandsImm(ops: readonly Operand[]): number {
  if (ops.includes("Ap")) return Imm.P;
  if (ops.includes("Ob") || ops.includes("Ov")) return Imm.O;
  if (ops.includes("Iw") && ops.includes("Ib")) return Imm.WB;
  if (ops.includes("Iz") || ops.includes("Jz")) return Imm.Z;
  if (ops.includes("Iw")) return Imm.W;
  if (ops.includes("Ibs") || ops.includes("Jb")) return Imm.BS;
  if (ops.includes("Ib")) return Imm.B;
  return Imm.None;
}
const MODRM_OPERANDS = new Set<string>([
  "Eb",
  "Ew",
  "Ed",
  "Ev",
  "Gb",
  "Gw",
  "Gv",
  "M",
  "Mp",
  "Ms",
  "Mq",
  "Ma",
  "Rd",
  "Sw",
  "Cd",
  "Dd",
]);

for (let c = 0; c < 512; c++) {
  const slot = map[c]!;
  if (slot.kind === "group") {
    HAS_MODRM[c] = 1;
    const first = slot.group!.find((x) => x !== undefined);
    IMM_KIND[c] = first ? operandsImm(first.operands) : Imm.None;
    if (c === 0xf6 || c === 0xf7) IMM_ONLY_REG01[c] = 1;
  } else if (slot.kind === "op") {
    const ops = slot.entry!.operands;
    HAS_MODRM[c] = ops.some((o) => MODRM_OPERANDS.has(o)) ? 1 : 0;
    IMM_KIND[c] = operandsImm(ops);
  } else if (slot.kind === "escape" && c >= 0xd8 && c <= 0xdf) {
    HAS_MODRM[c] = 1; // FPU escapes: decoded for length, then #NM/#UD.
  }
}

/** Virtualization class by opcode and ModRM.reg; the full-virt scanner's view of the table. */
export function virtClass(code: number, reg: number): VirtClass {
  return lookup(code, reg)?.vclass ?? "none";
}
