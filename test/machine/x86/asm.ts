/**
 * A tiny Intel-syntax assembler for the tests, driven by the same opcode table the CPU and the
 * disassembler read: it searches OPCODE_MAP for an entry whose mnemonic and operand forms match
 * and encodes prefixes, opcode, ModRM/SIB, displacement and immediates. Enough for test
 * snippets: 32-bit code, labels ("name:"), memory operands "[base+index*scale+disp]" with an
 * optional "byte/word/dword/fword/qword" size and "es:"-style override, "far sel:off".
 * Branches to labels use the rel32 form (rel8 for loop/jcxz). Not a general assembler.
 */
import { CONDITIONS, OPCODE_MAP, type OpcodeEntry, type Operand } from "../../../src/machine/x86/opcodes.js";

const R32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const R16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
const R8 = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];
const SREG = ["es", "cs", "ss", "ds", "fs", "gs"];
const SEG_PREFIX = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];

type Arg =
  | { k: "reg"; size: 1 | 2 | 4; n: number }
  | { k: "sreg"; n: number }
  | { k: "cr"; n: number }
  | { k: "dr"; n: number }
  | { k: "imm"; v: number; label?: string }
  | { k: "mem"; size: number; base: number; index: number; scale: number; disp: number; seg: number }
  | { k: "far"; sel: number; off: number };

function parseNumber(s: string): number | null {
  const t = s.trim();
  if (/^-?0x[0-9a-f]+$/i.test(t) || /^-?\d+$/.test(t))
    return Number(t.startsWith("-") ? -Number(t.slice(1)) : t) | 0;
  return null;
}

function parseArg(raw: string): Arg {
  let s = raw.trim().toLowerCase();
  let size = 0;
  const sm = /^(byte|word|dword|fword|qword)\s+(ptr\s+)?(.*)$/.exec(s);
  if (sm) {
    size = { byte: 1, word: 2, dword: 4, fword: 6, qword: 8 }[sm[1] as "byte"];
    s = sm[3]!;
  }
  let seg = -1;
  const segm = /^(es|cs|ss|ds|fs|gs):(.*)$/.exec(s);
  if (segm && segm[2]!.trim().startsWith("[")) {
    seg = SREG.indexOf(segm[1]!);
    s = segm[2]!.trim();
  }
  if (s.startsWith("[")) {
    const inner = s.slice(1, s.indexOf("]"));
    let base = -1;
    let index = -1;
    let scale = 0;
    let disp = 0;
    for (const term of inner
      .replace(/-/g, "+-")
      .split("+")
      .filter((x) => x.trim() !== "")) {
      const t = term.trim();
      const mul = /^(\w+)\*(\d)$/.exec(t);
      if (mul) {
        index = R32.indexOf(mul[1]!);
        scale = Math.log2(Number(mul[2]));
      } else if (R32.includes(t)) {
        if (base < 0) base = R32.indexOf(t);
        else index = R32.indexOf(t);
      } else {
        const v = parseNumber(t);
        if (v === null) throw new Error(`bad memory term ${t}`);
        disp = (disp + v) | 0;
      }
    }
    return { k: "mem", size, base, index, scale, disp, seg };
  }
  const far = /^far\s+(\S+):(\S+)$/.exec(s);
  if (far) return { k: "far", sel: parseNumber(far[1]!)!, off: parseNumber(far[2]!)! };
  if (R32.includes(s)) return { k: "reg", size: 4, n: R32.indexOf(s) };
  if (R16.includes(s)) return { k: "reg", size: 2, n: R16.indexOf(s) };
  if (R8.includes(s)) return { k: "reg", size: 1, n: R8.indexOf(s) };
  if (SREG.includes(s)) return { k: "sreg", n: SREG.indexOf(s) };
  if (/^cr\d$/.test(s)) return { k: "cr", n: Number(s[2]) };
  if (/^dr\d$/.test(s)) return { k: "dr", n: Number(s[2]) };
  const v = parseNumber(s);
  if (v !== null) return { k: "imm", v };
  if (/^[a-z_.][\w.]*$/.test(s)) return { k: "imm", v: 0, label: s };
  throw new Error(`cannot parse operand "${raw}"`);
}

interface Candidate {
  /** For "a|b" mnemonics: the operand size the spelling implies (a: 16-bit, b: 32-bit), else 0. */
  size: number;
  code: number;
  reg: number; // group index or -1
  entry: OpcodeEntry;
}

function candidates(mnemonic: string): Candidate[] {
  const out: Candidate[] = [];
  for (let code = 0; code < 512; code++) {
    const slot = OPCODE_MAP[code]!;
    const consider = (entry: OpcodeEntry | undefined, reg: number) => {
      if (!entry) return;
      const spellings = entry.mnemonic.split("|");
      const i = spellings.indexOf(mnemonic);
      if (i >= 0) out.push({ code, reg, entry, size: spellings.length > 1 ? (i === 0 ? 2 : 4) : 0 });
    };
    if (slot.kind === "op") consider(slot.entry, -1);
    else if (slot.kind === "group") for (const [i, e] of slot.group!.entries()) consider(e, i);
  }
  return out;
}

/** Does `a` fit operand form `o` with operand size `os`? */
function fits(o: Operand, a: Arg, os: number, code: number): boolean {
  const regOrMem = (size: number) =>
    (a.k === "reg" && a.size === size) || (a.k === "mem" && (a.size === size || a.size === 0));
  switch (o) {
    case "Eb":
      return regOrMem(1);
    case "Ew":
      return (
        regOrMem(2) || (a.k === "reg" && a.size === 4 && (code === 0x8c || (code >= 0x100 && code <= 0x103)))
      );
    case "Ed":
      return regOrMem(4);
    case "Ev":
      return regOrMem(os);
    case "Gb":
      return a.k === "reg" && a.size === 1;
    case "Gw":
      return a.k === "reg" && a.size === 2;
    case "Gv":
      return a.k === "reg" && a.size === os;
    case "M":
    case "Ms":
    case "Ma":
      return a.k === "mem";
    case "Mp":
      return a.k === "mem" && (a.size === 0 || a.size === 6);
    case "Mq":
      return a.k === "mem" && (a.size === 0 || a.size === 8);
    case "Rd":
      return a.k === "reg" && a.size === 4;
    case "Sw":
      return a.k === "sreg";
    case "Cd":
      return a.k === "cr";
    case "Dd":
      return a.k === "dr";
    case "Ib":
      return a.k === "imm" && !a.label;
    case "Ibs":
      return a.k === "imm" && !a.label && a.v >= -128 && a.v <= 127;
    case "Iw":
      return a.k === "imm" && !a.label;
    case "Iz":
      return a.k === "imm";
    case "Jb":
      return (
        a.k === "imm" && (code === 0xe0 || code === 0xe1 || code === 0xe2 || code === 0xe3 || code === 0xeb)
      );
    case "Jz":
      return a.k === "imm";
    case "Ap":
      return a.k === "far";
    case "Zb":
      return a.k === "reg" && a.size === 1;
    case "Zv":
      return a.k === "reg" && a.size === os;
    case "AL":
      return a.k === "reg" && a.size === 1 && a.n === 0;
    case "eAX":
      return a.k === "reg" && a.size === os && a.n === 0;
    case "CL":
      return a.k === "reg" && a.size === 1 && a.n === 1;
    case "DX":
      return a.k === "reg" && a.size === 2 && a.n === 2;
    case "1":
      return a.k === "imm" && a.v === 1;
    case "ES":
    case "CS":
    case "SS":
    case "DS":
    case "FS":
    case "GS":
      return a.k === "sreg" && SREG[a.n] === o.toLowerCase();
    default:
      return false; // string operands (X/Y/O) are written without operands: "movsd" etc.
  }
}

function encodeModrm(out: number[], reg: number, a: Arg): void {
  if (a.k === "reg") {
    out.push(0xc0 | (reg << 3) | a.n);
    return;
  }
  if (a.k !== "mem") throw new Error("ModRM operand must be a register or memory");
  const { base, index, scale, disp } = a;
  const d8 = disp >= -128 && disp <= 127;
  if (base < 0 && index < 0) {
    out.push((reg << 3) | 5, disp & 0xff, (disp >> 8) & 0xff, (disp >> 16) & 0xff, (disp >>> 24) & 0xff);
    return;
  }
  const needSib = index >= 0 || base === 4;
  const mod = base < 0 ? 0 : disp === 0 && base !== 5 ? 0 : d8 ? 1 : 2;
  if (needSib) {
    out.push((mod << 6) | (reg << 3) | 4);
    out.push((scale << 6) | ((index >= 0 ? index : 4) << 3) | (base < 0 ? 5 : base));
  } else {
    out.push((mod << 6) | (reg << 3) | base);
  }
  if (base < 0) out.push(disp & 0xff, (disp >> 8) & 0xff, (disp >> 16) & 0xff, (disp >>> 24) & 0xff);
  else if (mod === 1) out.push(disp & 0xff);
  else if (mod === 2) out.push(disp & 0xff, (disp >> 8) & 0xff, (disp >> 16) & 0xff, (disp >>> 24) & 0xff);
}

const E_FORMS = new Set<string>(["Eb", "Ew", "Ed", "Ev", "M", "Mp", "Ms", "Mq", "Ma", "Rd"]);
const G_FORMS = new Set<string>(["Gb", "Gw", "Gv", "Sw", "Cd", "Dd"]);

const le = (v: number, n: number): number[] => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff);

/** Mnemonic aliases the table spells differently. */
const ALIASES: Record<string, string> = {
  movsb: "movs",
  movsd: "movs",
  movsw: "movs",
  stosb: "stos",
  stosd: "stos",
  stosw: "stos",
  lodsb: "lods",
  lodsd: "lods",
  cmpsb: "cmps",
  cmpsd: "cmps",
  scasb: "scas",
  scasd: "scas",
  insb: "ins",
  insd: "ins",
  outsb: "outs",
  outsd: "outs",
  jz: "je",
  jnz: "jne",
  jc: "jb",
  jnc: "jae",
  setz: "sete",
  setnz: "setne",
  setc: "setb",
  iretd: "iret",
  pushfd: "pushf",
  popfd: "popf",
  pushad: "pusha",
  popad: "popa",
  retn: "ret",
};
const STRING_SIZE: Record<string, number> = { b: 1, w: 2, d: 4 };

function encodeOne(line: string, addr: number, labels: Map<string, number>): number[] {
  const m = /^(\S+)\s*(.*)$/.exec(line.trim())!;
  let mnem = m[1]!.toLowerCase();
  let rest = m[2]!;
  const prefix: number[] = [];
  while (["rep", "repe", "repz", "repne", "repnz", "lock"].includes(mnem)) {
    prefix.push(mnem === "lock" ? 0xf0 : mnem.startsWith("repn") ? 0xf2 : 0xf3);
    const mm = /^(\S+)\s*(.*)$/.exec(rest.trim())!;
    mnem = mm[1]!.toLowerCase();
    rest = mm[2]!;
  }
  // String instructions without operands: size from the suffix.
  let strSize = 0;
  if (/^(movs|stos|lods|cmps|scas|ins|outs)[bwd]$/.test(mnem)) strSize = STRING_SIZE[mnem.at(-1)!]!;
  mnem = ALIASES[mnem] ?? mnem;
  const args = rest.trim() === "" ? [] : splitArgs(rest).map(parseArg);
  for (const a of args) {
    if (a.k === "imm" && a.label) a.v = labels.get(a.label) ?? addr;
  }
  const memSeg = args.find((a) => a.k === "mem" && a.seg >= 0) as { seg: number } | undefined;
  if (memSeg) prefix.push(SEG_PREFIX[memSeg.seg]!);
  for (const os of [4, 2]) {
    for (const c of candidates(mnem)) {
      const ops = c.entry.operands;
      if (c.size !== 0 && c.size !== os) continue;
      let ok: boolean;
      if (strSize !== 0) {
        ok = ops.some((o) => o === "Xb" || o === "Yb")
          ? strSize === 1
          : ops.some((o) => o[0] === "X" || o[0] === "Y") && strSize === os;
        ok = ok && args.length === 0;
      } else {
        ok = ops.length === args.length && ops.every((o, i) => fits(o, args[i]!, os, c.code));
      }
      if (!ok) continue;
      // Prefer the sign-extended byte immediate (83 /n) when it is available; "fits" rejects it otherwise.
      const out = [...prefix];
      if (
        os === 2 &&
        (strSize === 2 ||
          c.size === 2 ||
          ops.some((o) => o.endsWith("v") || o === "Iz" || o === "eAX" || o === "Zv"))
      )
        out.push(0x66);
      if (c.code >= 0x100) out.push(0x0f);
      const zCode =
        ops.includes("Zv") || ops.includes("Zb")
          ? (args[ops.findIndex((o) => o === "Zv" || o === "Zb")] as { n: number }).n
          : 0;
      out.push(
        zCode !== 0 || ops.includes("Zv") || ops.includes("Zb") ? (c.code & 0xf8) + zCode : c.code & 0xff,
      );
      const eIdx = ops.findIndex((o) => E_FORMS.has(o));
      const gIdx = ops.findIndex((o) => G_FORMS.has(o));
      if (eIdx >= 0 || gIdx >= 0 || c.reg >= 0) {
        const regField = c.reg >= 0 ? c.reg : gIdx >= 0 ? (args[gIdx] as { n: number }).n : 0;
        if (eIdx >= 0) encodeModrm(out, regField, args[eIdx]!);
        else out.push(0xc0 | (regField << 3));
      }
      for (let i = 0; i < ops.length; i++) {
        const o = ops[i]!;
        const a = args[i]!;
        if (o === "Ib" || o === "Ibs") out.push((a as { v: number }).v & 0xff);
        else if (o === "Iw") out.push(...le((a as { v: number }).v, 2));
        else if (o === "Iz") out.push(...le((a as { v: number }).v, os));
        else if (o === "Jb") out.push(((a as { v: number }).v - (addr + out.length + 1)) & 0xff);
        else if (o === "Jz") out.push(...le((a as { v: number }).v - (addr + out.length + os), os));
        else if (o === "Ap")
          out.push(...le((a as { off: number }).off, os), ...le((a as { sel: number }).sel, 2));
      }
      return out;
    }
  }
  throw new Error(`cannot encode "${line}"`);
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur.trim() !== "") out.push(cur);
  return out;
}

/** Assembles `source` (lines separated by newlines or ";") for address `origin`. */
export function asm(source: string, origin = 0x1000): Uint8Array {
  const lines = source
    .split(/\n|;/)
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter((l) => l !== "");
  const labels = new Map<string, number>();
  let bytes: number[] = [];
  // Two passes: label addresses are stable because label branches always use fixed-size forms.
  for (let pass = 0; pass < 2; pass++) {
    bytes = [];
    for (const l of lines) {
      const lab = /^([a-z_.][\w.]*):\s*(.*)$/i.exec(l);
      let text = l;
      if (lab) {
        labels.set(lab[1]!.toLowerCase(), origin + bytes.length);
        text = lab[2]!;
        if (text === "") continue;
      }
      if (/^db\s/i.test(text)) {
        bytes.push(
          ...text
            .slice(3)
            .split(",")
            .map((x) => parseNumber(x)! & 0xff),
        );
        continue;
      }
      bytes.push(...encodeOne(text, origin + bytes.length, labels));
    }
  }
  return new Uint8Array(bytes);
}

export { CONDITIONS };
