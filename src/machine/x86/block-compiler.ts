/**
 * The block compiler: turns a run of straight-line i386 instructions (32-bit code segment, any
 * base and limit, one page) into the source of one JavaScript function, so each instruction is decoded
 * once (by decodeInstruction, from the opcode table) and the common ones run as specialised
 * code with constant register numbers, displacements and immediates.
 *
 * Contract of the generated function `(c, r) => retired`: `c` is the X86Cpu, `r` its `regs`.
 * Before each instruction it sets `c.startEip`/`c.startEsp` (the fault rollback point), then
 * either runs specialised code calling the CPU's own helpers (rd32, alu, push, cond, …) or loads
 * the decoded fields the interpreter's `execute` expects and calls it. On a pending fault it
 * returns the number of instructions retired before the faulting one; otherwise it sets EIP
 * past the block and returns the block length. Blocks end at every control transfer, segment
 * or flag-register load that changes interrupt state, port I/O, REP string, system
 * instruction, and at the page end. Semantics live only in the interpreter's helpers; the
 * templates here only choose which helper to call with which constants.
 */
import { type DecodedInstruction, decodeInstruction } from "./disasm.js";
import { CF, OF, OSZAP, OSZAPC } from "./flags.js";

/** Longest block, in instructions; the CPU interprets when fewer remain in its budget. */
export const MAX_BLOCK = 48;

/** Opcodes after which a block ends (the instruction itself is included). */
const TERMINATORS = new Set<number>([
  0x07, 0x17, 0x1f, 0x1a1, 0x1a9, 0x62, 0x6c, 0x6d, 0x6e, 0x6f, 0x8e, 0x9a, 0x9d, 0xc2, 0xc3, 0xc4, 0xc5,
  0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb,
  0xec, 0xed, 0xee, 0xef, 0xf1, 0xf4, 0xfa, 0xfb, 0x100, 0x101, 0x106, 0x120, 0x121, 0x122, 0x123, 0x1b2,
  0x1b4, 0x1b5, 0x130, 0x132,
]);
for (let c = 0x70; c <= 0x7f; c++) TERMINATORS.add(c);
for (let c = 0x180; c <= 0x18f; c++) TERMINATORS.add(c);

export interface BlockSource {
  /** Body of `function (c, r)`. */
  body: string;
  /** Instructions in the block. */
  count: number;
  /** Bytes of code covered (all within the start page). */
  bytes: number;
  /**
   * Instructions before the last that charge the multiply or divide cost on top of the
   * instruction cost (IMUL r,r/m[,imm]; group-3 MUL/IMUL and DIV/IDIV): the CPU bounds the
   * cycles a block can spend before its last instruction with them (CodeBlock.guard).
   */
  multiplies: number;
  divides: number;
}

function eaExpr(d: DecodedInstruction): string {
  const m = d.modrm!;
  if (d.addressSize === 4) {
    const parts: string[] = [];
    if (m.base >= 0) parts.push(`r[${m.base}]`);
    if (m.index >= 0) parts.push(m.scale > 0 ? `(r[${m.index}] << ${m.scale})` : `r[${m.index}]`);
    if (m.disp !== 0 || parts.length === 0) parts.push(String(m.disp));
    return parts.length === 1 && parts[0]!.startsWith("r[") ? parts[0]! : `((${parts.join(" + ")}) | 0)`;
  }
  const parts: string[] = [];
  if (m.base >= 0) parts.push(`r[${m.base}]`);
  if (m.index >= 0) parts.push(`r[${m.index}]`);
  parts.push(String(m.disp));
  return `((${parts.join(" + ")}) & 0xffff)`;
}

function segOf(d: DecodedInstruction): number {
  return d.segmentOverride >= 0 ? d.segmentOverride : d.modrm!.defaultSeg;
}

/**
 * A 32-bit load from `seg`:`ea` into a new constant `out` (faults pend in the CPU). An aligned
 * address reads RAM directly when it is below `c.flatLimit` (ES/SS/DS flat and paging off: see
 * X86Cpu.flatLimit), or else when its TLB entry holds every bit of the segment's fast-path mask
 * (`c.segRdTlb`: a base-0 expand-up readable segment, the CPL's read rights, the frame in RAM;
 * see there) and the dword ends within the segment limit (`c.segHi`);
 * anything else calls rd32, which checks, walks and faults as the interpreter does.
 */
function load32(out: string, seg: number, ea: string): string {
  const e = `e${out}`;
  // The flat test comes first and alone (as before the TLB path existed): paging-off code pays nothing.
  const flat =
    seg === 0 || seg === 2 || seg === 3
      ? `if ((${e} & 3) === 0 && ${e} >>> 0 < c.flatLimit) ${out} = c.i32[${e} >>> 2]; else `
      : "";
  return (
    `const ${e} = ${ea}; let ${out}; ${flat}{ const t = c.tlb[${e} >>> 12], m = c.segRdTlb[${seg}]; ` +
    `${out} = (${e} & 3) === 0 && (t & m) === m && (${e} >>> 0) + 3 <= c.segHi[${seg}] ? c.i32[((t & ~0xfff) | (${e} & 0xfff)) >>> 2] : c.rd32(${seg}, ${e}); }`
  );
}

/**
 * An 8- or 16-bit zero-extended load from `seg`:`ea` into a new `out`, with the fast paths of
 * load32 (a 16-bit access must not cross the page; flatLimit keeps a dword of slack below RAM's
 * end, so a 16-bit flat access stays in RAM).
 */
function loadSmall(out: string, size: 1 | 2, seg: number, ea: string): string {
  const e = `e${out}`;
  const at = (p: string) => (size === 1 ? `c.u8[${p}]` : `(c.u8[${p}] | (c.u8[${p} + 1] << 8))`);
  const flat =
    seg === 0 || seg === 2 || seg === 3 ? `if (${e} >>> 0 < c.flatLimit) ${out} = ${at(e)}; else ` : "";
  const slow = `c.rd${size * 8}(${seg}, ${e})`;
  const cross = size === 2 ? `(${e} & 0xfff) === 0xfff ? ${slow} : ` : "";
  return (
    `const ${e} = ${ea}; let ${out}; ${flat}{ const t = c.tlb[${e} >>> 12], m = c.segRdTlb[${seg}]; ` +
    `if ((t & m) === m && (${e} >>> 0) + ${size - 1} <= c.segHi[${seg}]) { const p = (t & ~0xfff) | (${e} & 0xfff); ${out} = ${cross}${at("p")}; } else ${out} = ${slow}; }`
  );
}

/** A 32-bit store of expression `v` (evaluated once, before the store) to `seg`:`ea`; as load32. */
function store32(seg: number, ea: string, v: string): string {
  const flat =
    seg === 0 || seg === 2 || seg === 3
      ? "if ((e & 3) === 0 && e >>> 0 < c.flatLimit) { c.i32[e >>> 2] = x; if (c.watched[e >>> 12] !== 0) c.mem.notifyWatchedWrite(e, 4); } else "
      : "";
  return (
    `{ const e = ${ea}, x = ${v}; ${flat}{ const t = c.tlb[e >>> 12], m = c.segWrTlb[${seg}]; ` +
    `if ((e & 3) === 0 && (t & m) === m && (e >>> 0) + 3 <= c.segHi[${seg}]) { const p = (t & ~0xfff) | (e & 0xfff); c.i32[p >>> 2] = x; ` +
    "if (c.watched[p >>> 12] !== 0) c.mem.notifyWatchedWrite(p >>> 0, 4); } " +
    `else c.wr32(${seg}, e, x); } }`
  );
}

/** The interpreter path: load the decoded fields and call `execute`. */
function generic(d: DecodedInstruction, next: number): string {
  const m = d.modrm;
  const s: string[] = [
    `c.os = ${d.operandSize}; c.as32 = ${d.addressSize === 4}; c.segOvr = ${d.segmentOverride}; c.rep = ${d.repPrefix};`,
  ];
  if (m) {
    s.push(`c.mod = ${m.mod}; c.reg = ${m.reg}; c.rm = ${m.rm};`);
    if (m.mod !== 3) {
      s.push(
        `c.ea = ${eaExpr(d)}; c.eaSeg = ${segOf(d)}; c.eaBaseEsp = ${d.addressSize === 4 && m.base === 4};`,
      );
    }
  }
  const imm = d.immediates;
  if (imm.length > 0) s.push(`c.imm = ${imm[0]! | 0};`);
  if (imm.length > 1) s.push(`c.imm2 = ${imm[1]! | 0};`);
  s.push(`c.eip = ${next}; c.execute(${d.opcode});`);
  return s.join(" ");
}

/**
 * A 32-bit ALU operation (group-1 order: add or adc sbb and sub xor cmp) on expressions `a` and
 * `b`, storing into `dst` unless it is a compare. ADD/SUB/logic call the lazy-flag recorders
 * directly; ADC/SBB go through the interpreter's `alu` (they read CF).
 */
function aluCode(aop: number, dst: string | null, a: string, b: string): string {
  const store = dst !== null && aop !== 7 ? `${dst} = v; ` : "";
  switch (aop) {
    case 0:
      return `{ const a = ${a}, b = ${b}; const v = (a + b) | 0; c.setAdd(31, a, b, v, ${OSZAPC}); ${store}}`;
    case 5:
    case 7:
      return `{ const a = ${a}, b = ${b}; const v = (a - b) | 0; c.setSub(31, a, b, v); ${store}}`;
    case 1:
      return `{ const v = ${a} | ${b}; c.setLogic(31, v); ${store}}`;
    case 4:
      return `{ const v = ${a} & ${b}; c.setLogic(31, v); ${store}}`;
    case 6:
      return `{ const v = ${a} ^ ${b}; c.setLogic(31, v); ${store}}`;
    default:
      return `{ const v = c.alu(${aop}, 4, ${a}, ${b}); ${store}}`;
  }
}

/**
 * 32-bit ROL/ROR/SHL/SHR/SAR of register `rm` by a constant count (already masked to 5 bits),
 * with the same flag rules as the interpreter's `shift` (CF = last bit out, OF by the 1-bit
 * formula, SF/ZF/PF lazy, AF = 0); RCL/RCR stay in the interpreter. A zero count is a no-op.
 */
function shiftByConstant(kind: number, rm: number, n: number): string | null {
  if (n === 0) return "";
  const x = `const x = r[${rm}];`;
  switch (kind) {
    case 0:
      return `{ ${x} const v = (x << ${n}) | (x >>> ${32 - n}); const cf = v & 1; c.setCfOf(cf, ((v >>> 31) ^ cf) & 1); r[${rm}] = v; }`;
    case 1:
      return `{ ${x} const v = (x >>> ${n}) | (x << ${32 - n}); const cf = (v >>> 31) & 1; c.setCfOf(cf, (cf ^ (v >>> 30)) & 1); r[${rm}] = v; }`;
    case 4:
    case 6:
      return `{ ${x} const v = x << ${n}; const cf = (x >>> ${32 - n}) & 1; c.setExplicit(31, v, cf | ((((v >>> 31) ^ cf) & 1) << 11)); r[${rm}] = v; }`;
    case 5:
      return `{ ${x} const v = x >>> ${n}; c.setExplicit(31, v, ((x >>> ${n - 1}) & 1) | ((x >>> 31) << 11)); r[${rm}] = v; }`;
    case 7:
      return `{ ${x} const v = x >> ${n}; c.setExplicit(31, v, (x >> ${n - 1}) & 1); r[${rm}] = v; }`;
    default:
      return null;
  }
}

/**
 * Specialised code for the hot 32-bit forms, or null to use the generic path. `csLimit` (uint32)
 * is the CS limit the block is compiled under: a jump whose target lies beyond it takes the
 * generic path, whose `execute` raises the #GP(0) (SDM Vol. 2 JMP/Jcc/CALL/RET: "If the target
 * offset is beyond the code segment limit").
 */
function special(d: DecodedInstruction, i: number, next: number, csLimit: number): string | null {
  if (d.operandSize !== 4 || d.addressSize !== 4 || d.repPrefix !== 0) return null;
  const op = d.opcode;
  const m = d.modrm;
  const imm = d.immediates[0] ?? 0;
  const fail = `if (c.pend >= 0) return ${i};`;
  const mem = m !== null && m.mod !== 3;
  const target = (next + imm) | 0;
  const inLimit = target >>> 0 <= csLimit;
  const ea = mem ? eaExpr(d) : "";
  const seg = mem ? segOf(d) : 0;
  // ALU Ev,Gv / Gv,Ev (00-3F, 32-bit forms)
  if (op < 0x40 && (op & 7) <= 3 && (op & 1) === 1) {
    const aop = op >>> 3;
    if ((op & 2) === 0) {
      if (mem) return null;
      return aluCode(aop, `r[${m!.rm}]`, `r[${m!.rm}]`, `r[${m!.reg}]`);
    }
    if (!mem) return aluCode(aop, `r[${m!.reg}]`, `r[${m!.reg}]`, `r[${m!.rm}]`);
    return `{ ${load32("w", seg, ea)} ${fail} ${aluCode(aop, `r[${m!.reg}]`, `r[${m!.reg}]`, "w")} }`;
  }
  if (op < 0x40 && (op & 7) === 5) return aluCode(op >>> 3, "r[0]", "r[0]", String(imm | 0));
  if (op >= 0x40 && op <= 0x4f) {
    // INC/DEC keep CF: the recorder's lazy mask leaves CF out (same as the interpreter's incdec).
    const x = op & 7;
    return op < 0x48
      ? `{ const a = r[${x}]; const v = (a + 1) | 0; c.setAdd(31, a, 1, v, ${OSZAP}); r[${x}] = v; }`
      : `{ const a = r[${x}]; const v = (a - 1) | 0; c.setAdd(31, v, 1, a, ${OSZAP}); c.lf.res = v; r[${x}] = v; }`;
  }
  if (op >= 0x50 && op <= 0x57) return `c.push(4, r[${op & 7}]); ${fail}`;
  if (op >= 0x58 && op <= 0x5f) return `{ const v = c.pop(4); ${fail} r[${op & 7}] = v; }`;
  if (op >= 0xb8 && op <= 0xbf) return `r[${op & 7}] = ${imm | 0};`;
  switch (op) {
    case 0x68:
    case 0x6a:
      return `c.push(4, ${imm | 0}); ${fail}`;
    case 0x81:
    case 0x83: {
      if (mem) return null;
      return aluCode(m!.reg, `r[${m!.rm}]`, `r[${m!.rm}]`, String(imm | 0));
    }
    case 0x85:
      if (mem) return null;
      return aluCode(4, null, `r[${m!.rm}]`, `r[${m!.reg}]`);
    case 0x89:
      if (!mem) return `r[${m!.rm}] = r[${m!.reg}];`;
      return `${store32(seg, ea, `r[${m!.reg}]`)} ${fail}`;
    case 0x8b:
      if (!mem) return `r[${m!.reg}] = r[${m!.rm}];`;
      return `{ ${load32("v", seg, ea)} ${fail} r[${m!.reg}] = v; }`;
    case 0x8d:
      return mem ? `r[${m!.reg}] = ${ea};` : null;
    case 0x90:
      return "";
    case 0xc1:
    case 0xd1:
    case 0xd3: {
      if (mem) return null;
      if (op !== 0xd3) {
        const inline = shiftByConstant(m!.reg, m!.rm, op === 0xd1 ? 1 : imm & 31);
        if (inline !== null) return inline;
      }
      const count = op === 0xc1 ? String(imm & 31) : op === 0xd1 ? "1" : "(r[1] & 31)";
      return `r[${m!.rm}] = c.shift(${m!.reg}, 4, r[${m!.rm}], ${count});`;
    }
    case 0x1b6:
    case 0x1b7:
    case 0x1be:
    case 0x1bf: {
      const size = op === 0x1b6 || op === 0x1be ? 1 : 2;
      const sx = op >= 0x1be ? (size === 1 ? "<< 24) >> 24" : "<< 16) >> 16") : "";
      const wrap = (x: string) => (sx ? `((${x}) ${sx}` : x);
      if (!mem) {
        const rm = m!.rm;
        const src =
          size === 2 ? `(r[${rm}] & 0xffff)` : rm < 4 ? `(r[${rm}] & 0xff)` : `((r[${rm - 4}] >> 8) & 0xff)`;
        return `r[${m!.reg}] = ${wrap(src)};`;
      }
      return `{ ${loadSmall("v", size, seg, ea)} ${fail} r[${m!.reg}] = ${wrap("v")}; }`;
    }
    case 0x1af:
      if (!mem) return `r[${m!.reg}] = c.imul2(4, r[${m!.rm}], r[${m!.reg}]);`;
      return `{ ${load32("v", seg, ea)} ${fail} r[${m!.reg}] = c.imul2(4, v, r[${m!.reg}]); }`;
    case 0xe9:
    case 0xeb:
      return inLimit ? `c.eip = ${target}; return ${i + 1};` : null;
    case 0xe8:
      return inLimit
        ? `c.eip = ${next}; c.push(4, ${next}); ${fail} c.eip = ${target}; return ${i + 1};`
        : null;
    case 0xc3:
      // The popped target is only known at run time: check it unless the limit is 4 GiB.
      return csLimit === 0xffffffff ? `{ const t = c.pop(4); ${fail} c.eip = t; return ${i + 1}; }` : null;
    default:
      break;
  }
  if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) {
    return inLimit ? `c.eip = c.cond(${op & 15}) ? ${target} : ${next}; return ${i + 1};` : null;
  }
  if (op >= 0x190 && op <= 0x19f && !mem) return `c.setReg(1, ${m!.rm}, c.cond(${op & 15}) ? 1 : 0);`;
  return null;
}

/** A specialised instruction's code and where it sits in the block's lines. */
interface Special {
  line: number;
  code: string;
  /** The block may return right after it (self-modifying-code check). */
  exitAfter: boolean;
}

/** The lazy-flag recorders specialised code calls, with the flags each one defines. */
const SETTER = /c\.(setAdd|setSub|setLogic|setExplicit|setCfOf)\(([^;]*)\);( c\.lf\.res = v;)?/;
/** Anything else specialised code touches on the CPU that neither reads nor writes flags. */
const NEUTRAL =
  /c\.(pend|startEip|startEsp|flatLimit|tlb|segRdTlb|segWrTlb|segHi|i32|u8|watched|mem\.notifyWatchedWrite|rd8|rd16|rd32|wr32|codeDirty)\b/g;

/**
 * Dead-flag elimination: drops a recorder call whose flags are all overwritten by a later
 * instruction of the block before anything can read them. Flags are treated as live (all six)
 * at the block end, before every instruction that can fault (a fault must see the flags of the
 * instructions before it), after an early exit, and wherever code calls anything but the
 * recorders (cond, alu, shift, imul2, the interpreter's execute: they may read flags).
 */
function dropDeadFlags(specials: (Special | null)[], lines: string[]): void {
  let live = OSZAPC;
  for (let i = specials.length - 1; i >= 0; i--) {
    const s = specials[i];
    if (s === null) {
      live = OSZAPC;
      continue;
    }
    if (s.exitAfter) live = OSZAPC;
    const m = SETTER.exec(s.code);
    const rest = s.code.replace(SETTER, "").replace(NEUTRAL, "");
    if (s.code.includes("c.pend") || rest.includes("c.")) {
      live = OSZAPC;
      continue;
    }
    if (m === null) continue;
    const kind = m[1]!;
    // setAdd's last argument is its lazy mask: INC/DEC (OSZAP) keep CF, reading the lazy one.
    const incdec = kind === "setAdd" && !m[2]!.trim().endsWith(String(OSZAPC));
    const writes = kind === "setCfOf" ? CF | OF : incdec ? OSZAPC & ~CF : OSZAPC;
    if ((writes & live) === 0) {
      lines[s.line] = s.code.replace(SETTER, "");
      continue;
    }
    live = (live & ~writes) | (incdec ? CF : 0);
  }
}

/**
 * Compiles the block starting at physical `phys` whose first instruction is at offset `eip` of
 * a 32-bit code segment with limit `csLimit` (uint32). Only the `maxBytes` bytes from `phys`
 * may hold code (what the CS limit leaves), and never beyond the page: every instruction of the
 * block lies within the limit, so the block needs no limit check at run time. Returns null when
 * the first instruction cannot be compiled (it crosses the page end or the limit, or is not in
 * the table): the interpreter runs it instead and raises whatever fault it must.
 */
export function compileBlock(
  ram: Uint8Array,
  phys: number,
  eip: number,
  maxBytes = 0x1000,
  csLimit = 0xffffffff,
): BlockSource | null {
  const pageEnd = Math.min(ram.length, (phys & ~0xfff) + 0x1000, phys + maxBytes);
  const lines: string[] = [];
  let pos = phys;
  let cur = eip;
  let count = 0;
  let espDirty = true;
  let multiplies = 0;
  let divides = 0;
  let lastKind = 0;
  const specials: (Special | null)[] = [];
  while (count < MAX_BLOCK && pos < pageEnd) {
    const d = decodeInstruction(ram.subarray(pos, Math.min(pageEnd, pos + 15)), true);
    if (d.length === 0 || !d.entry) break;
    const next = (cur + d.length) | 0;
    const term =
      TERMINATORS.has(d.opcode) ||
      d.repPrefix !== 0 ||
      (d.opcode === 0xff && d.modrm!.reg >= 2 && d.modrm!.reg <= 5);
    const sp = special(d, count, next, csLimit);
    // The rollback point (startEip/startEsp) is only needed by instructions that can fault, and
    // startEsp only when ESP may have changed since it was last recorded.
    const code = sp ?? "generic";
    if (code.includes("c.pend") || code === "generic") {
      lines.push(espDirty ? `c.startEip = ${cur}; c.startEsp = r[4];` : `c.startEip = ${cur};`);
      espDirty = false;
    }
    if (code === "generic" || code.includes("r[4] =") || code.includes("c.push") || code.includes("c.pop")) {
      espDirty = true;
    }
    if (sp !== null) {
      specials.push({ line: lines.length, code: sp, exitAfter: false });
      lines.push(sp);
      if (term && !sp.includes("return")) lines.push(`c.eip = ${next}; return ${count + 1};`);
    } else {
      specials.push(null);
      lines.push(generic(d, next));
      lines.push(`if (c.pend >= 0) return ${count};`);
      if (term) lines.push(`return ${count + 1};`);
    }
    // A store may have hit this block's own page: stop so the rest is recompiled.
    const mayWrite = sp === null ? d.modrm?.mod !== 3 || d.opcode === 0xab : /c\.(wr|push)/.test(sp);
    if (!term && mayWrite) {
      lines.push(`if (c.codeDirty) { c.eip = ${next}; return ${count + 1}; }`);
      const last = specials[specials.length - 1];
      if (last) last.exitAfter = true;
    }
    const op = d.opcode;
    const g3 = (op === 0xf6 || op === 0xf7) && d.modrm !== null ? d.modrm.reg : 0;
    lastKind = op === 0x1af || op === 0x69 || op === 0x6b || g3 === 4 || g3 === 5 ? 1 : g3 >= 6 ? 2 : 0;
    if (lastKind === 1) multiplies++;
    else if (lastKind === 2) divides++;
    count++;
    pos += d.length;
    cur = next;
    if (term) break;
  }
  if (count === 0) return null;
  // The last instruction's extra cost does not count (see `multiplies`).
  if (lastKind === 1) multiplies--;
  else if (lastKind === 2) divides--;
  dropDeadFlags(specials, lines);
  lines.push(`c.eip = ${cur}; return ${count};`);
  return { body: `"use strict";\n${lines.join("\n")}`, count, bytes: pos - phys, multiplies, divides };
}
