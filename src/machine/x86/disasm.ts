/**
 * Decoding to a structured instruction (for the full-virt scanner and the tests) and Intel
 * syntax disassembly in the style of `objdump -d -M intel` (mnemonic padded to 6 columns,
 * `DWORD PTR [ebp-0x8]`, hexadecimal immediates, absolute branch targets). Both read the
 * opcode table in opcodes.ts; nothing here knows an instruction by its bytes.
 */
import {
  decodeModrm,
  emptyModrm,
  type ModrmDecoded,
  REG8_NAMES,
  REG16_NAMES,
  REG32_NAMES,
  SEG_NAMES,
} from "./modrm.js";
import {
  CONDITIONS,
  HAS_MODRM,
  lookup,
  OPCODE_MAP,
  type OpcodeEntry,
  type Operand,
  type VirtClass,
} from "./opcodes.js";

/** One decoded instruction. */
export interface DecodedInstruction {
  /** Bytes consumed (prefixes to last immediate); 0 when the bytes end too early. */
  length: number;
  /** 0x000-0x1FF as in opcodes.ts, or -1 for an undecodable byte. */
  opcode: number;
  entry: OpcodeEntry | undefined;
  modrm: ModrmDecoded | null;
  /** Operand and address size in bytes (2 or 4). */
  operandSize: number;
  addressSize: number;
  segmentOverride: number;
  /** 0, 0xF2 or 0xF3. */
  repPrefix: number;
  lock: boolean;
  /** Immediates in operand order (sign-extended where the encoding says so). */
  immediates: number[];
  vclass: VirtClass;
}

/**
 * Decodes one instruction from `bytes` (at most 15 used) in a 32-bit (`code32`) or 16-bit
 * code segment. Unknown opcodes decode with `entry` undefined and the length of what was read.
 */
export function decodeInstruction(bytes: Uint8Array, code32 = true): DecodedInstruction {
  const d: DecodedInstruction = {
    length: 0,
    opcode: -1,
    entry: undefined,
    modrm: null,
    operandSize: code32 ? 4 : 2,
    addressSize: code32 ? 4 : 2,
    segmentOverride: -1,
    repPrefix: 0,
    lock: false,
    immediates: [],
    vclass: "none",
  };
  let pos = 0;
  const SEG_PREFIX: Record<number, number> = { 38: 0, 46: 1, 54: 2, 62: 3, 100: 4, 101: 5 };
  while (pos < bytes.length && pos < 15) {
    const b = bytes[pos]!;
    if (OPCODE_MAP[b]!.kind !== "prefix") break;
    if (b in SEG_PREFIX) d.segmentOverride = SEG_PREFIX[b]!;
    else if (b === 0x66) d.operandSize = code32 ? 2 : 4;
    else if (b === 0x67) d.addressSize = code32 ? 2 : 4;
    else if (b === 0xf0) d.lock = true;
    else d.repPrefix = b;
    pos++;
  }
  if (pos >= bytes.length) return d;
  let op = bytes[pos++]!;
  if (op === 0x0f) {
    if (pos >= bytes.length) return d;
    op = 0x100 | bytes[pos++]!;
  }
  d.opcode = op;
  let reg = 0;
  if (HAS_MODRM[op] !== 0) {
    const m = emptyModrm();
    const next = decodeModrm(bytes, pos, d.addressSize === 4, m);
    if (next < 0) return d;
    pos = next;
    d.modrm = m;
    reg = m.reg;
  }
  const entry = lookup(op, reg);
  d.entry = entry;
  if (!entry) {
    d.length = pos;
    return d;
  }
  if (entry.memOnly && d.modrm && d.modrm.mod === 3) d.entry = undefined;
  d.vclass = entry.vclass;
  const read = (n: number, signed: boolean): number | null => {
    if (pos + n > bytes.length) return null;
    let v = 0;
    for (let i = 0; i < n; i++) v |= bytes[pos + i]! << (8 * i);
    pos += n;
    if (n === 4) return v | 0;
    return signed ? (v << (32 - 8 * n)) >> (32 - 8 * n) : v;
  };
  for (const o of entry.operands) {
    let v: number | null = null;
    switch (o) {
      case "Ib":
        v = read(1, false);
        break;
      case "Ibs":
      case "Jb":
        v = read(1, true);
        break;
      case "Iw":
        v = read(2, false);
        break;
      case "Iz":
        v = read(d.operandSize, false);
        break;
      case "Jz":
        v = read(d.operandSize, true);
        break;
      case "Ob":
      case "Ov":
        v = read(d.addressSize, false);
        break;
      case "Ap": {
        const off = read(d.operandSize, false);
        const sel = read(2, false);
        if (off === null || sel === null) return d;
        d.immediates.push(off >>> 0, sel);
        continue;
      }
      default:
        continue;
    }
    if (v === null) return d;
    d.immediates.push(v);
  }
  d.length = pos;
  return d;
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

function sizeName(bytes: number): string {
  return bytes === 1
    ? "BYTE"
    : bytes === 2
      ? "WORD"
      : bytes === 4
        ? "DWORD"
        : bytes === 6
          ? "FWORD"
          : "QWORD";
}

function memText(d: DecodedInstruction, sizeBytes: number | 0): string {
  const m = d.modrm!;
  const names = d.addressSize === 4 ? REG32_NAMES : REG16_NAMES;
  const parts: string[] = [];
  if (m.base >= 0) parts.push(names[m.base]!);
  if (m.index >= 0)
    parts.push(
      m.scale > 0 || d.addressSize === 2
        ? `${names[m.index]}${d.addressSize === 4 ? `*${1 << m.scale}` : ""}`
        : `${names[m.index]}*1`,
    );
  let inner = parts.join("+");
  const seg = d.segmentOverride >= 0 ? `${SEG_NAMES[d.segmentOverride]}:` : "";
  if (m.base < 0 && m.index < 0) {
    // Displacement only: objdump prints "ds:0x1234".
    const prefix = sizeBytes ? `${sizeName(sizeBytes)} PTR ` : "";
    return `${prefix}${seg || "ds:"}${hex(d.addressSize === 4 ? m.disp : m.disp & 0xffff)}`;
  }
  if (m.disp !== 0) inner += m.disp < 0 ? `-${hex(-m.disp)}` : `+${hex(m.disp)}`;
  const prefix = sizeBytes ? `${sizeName(sizeBytes)} PTR ` : "";
  return `${prefix}${seg}[${inner}]`;
}

/** Result of disassembling one instruction. */
export interface DisassembledInstruction {
  text: string;
  length: number;
  decoded: DecodedInstruction;
}

/** Disassembles the instruction at the start of `bytes`, located at `address`. */
export function disassembleAt(bytes: Uint8Array, address: number, code32 = true): DisassembledInstruction {
  const d = decodeInstruction(bytes, code32);
  if (d.length === 0 || !d.entry) {
    const n = Math.max(1, d.length);
    return {
      text:
        bytes.length > 0
          ? `(bad) ${Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, "0")).join(" ")}`
          : "(bad)",
      length: n,
      decoded: d,
    };
  }
  const e = d.entry;
  const os = d.operandSize;
  const variants = e.mnemonic.split("|");
  let mnem = variants.length > 1 ? variants[os === 4 ? 1 : 0]! : variants[0]!;
  if (d.opcode === 0xe3) mnem = d.addressSize === 4 ? "jecxz" : "jcxz";
  // Descriptor-table loads and stores carry objdump's size suffix (the base is 24 or 32 bits).
  if (d.opcode === 0x101 && d.modrm!.reg <= 3) mnem += os === 4 ? "d" : "w";
  const immQueue = [...d.immediates];
  const next = (address + d.length) >>> 0;
  const ops: string[] = [];
  const strOp = [0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0x6c, 0x6d, 0x6e, 0x6f].includes(
    d.opcode,
  );
  const regName = (size: number, r: number): string =>
    size === 1 ? REG8_NAMES[r]! : size === 2 ? REG16_NAMES[r]! : REG32_NAMES[r]!;
  const sizeOf = (o: Operand): number => {
    const s = o[1];
    if (o === "Ibs" || o === "Ib") return 1;
    return s === "b" ? 1 : s === "w" ? 2 : s === "d" ? 4 : os;
  };
  // Memory operand size: the register operand's size for E forms, else the table's.
  for (const o of e.operands) {
    const m = d.modrm;
    switch (o) {
      case "Eb":
      case "Ew":
      case "Ed":
      case "Ev": {
        // objdump names a register source/destination of these Ew forms at the operand size.
        const wide =
          o === "Ew" &&
          (d.opcode === 0x8c ||
            d.opcode === 0x8e ||
            d.opcode === 0x102 ||
            d.opcode === 0x103 ||
            (d.opcode === 0x100 && m!.reg <= 1) ||
            (d.opcode === 0x101 && m!.reg === 4));
        const size = wide ? os : sizeOf(o);
        if (m!.mod === 3) ops.push(regName(size, m!.rm));
        else ops.push(memText(d, size));
        break;
      }
      case "Gb":
      case "Gw":
      case "Gv":
        ops.push(regName(sizeOf(o), m!.reg));
        break;
      case "M":
        ops.push(memText(d, d.opcode === 0x8d ? 0 : 1));
        break;
      case "Mp":
        ops.push(memText(d, os + 2));
        break;
      case "Ms":
        ops.push(memText(d, 0));
        break;
      case "Mq":
        ops.push(memText(d, 8));
        break;
      case "Ma":
        ops.push(memText(d, os * 2));
        break;
      case "Rd":
        ops.push(REG32_NAMES[m!.rm]!);
        break;
      case "Sw":
        ops.push(SEG_NAMES[m!.reg] ?? `sr${m!.reg}`);
        break;
      case "Cd":
        ops.push(`cr${m!.reg}`);
        break;
      case "Dd":
        ops.push(`db${m!.reg}`);
        break;
      case "Ib":
      case "Iw":
      case "Iz":
        ops.push(hex(immQueue.shift()! & (o === "Ib" ? 0xff : o === "Iw" || os === 2 ? 0xffff : -1)));
        break;
      case "Ibs": {
        const v = immQueue.shift()!;
        ops.push(hex(os === 2 ? v & 0xffff : v));
        break;
      }
      case "Jb":
      case "Jz": {
        const t = (next + immQueue.shift()!) >>> 0;
        ops.push(hex(os === 2 ? t & 0xffff : t));
        break;
      }
      case "Ap": {
        const off = immQueue.shift()!;
        const sel = immQueue.shift()!;
        ops.push(`${hex(sel)}:${hex(off)}`);
        break;
      }
      case "Ob":
      case "Ov": {
        const seg = d.segmentOverride >= 0 ? SEG_NAMES[d.segmentOverride] : "ds";
        ops.push(`${seg}:${hex(immQueue.shift()!)}`);
        break;
      }
      case "Xb":
      case "Xv": {
        const seg = d.segmentOverride >= 0 ? SEG_NAMES[d.segmentOverride] : "ds";
        ops.push(`${sizeName(o === "Xb" ? 1 : os)} PTR ${seg}:[${d.addressSize === 4 ? "esi" : "si"}]`);
        break;
      }
      case "Yb":
      case "Yv":
        ops.push(`${sizeName(o === "Yb" ? 1 : os)} PTR es:[${d.addressSize === 4 ? "edi" : "di"}]`);
        break;
      case "Zb":
        ops.push(REG8_NAMES[d.opcode & 7]!);
        break;
      case "Zv":
        ops.push(regName(os, d.opcode & 7));
        break;
      case "AL":
        ops.push("al");
        break;
      case "eAX":
        ops.push(os === 4 ? "eax" : "ax");
        break;
      case "CL":
        ops.push("cl");
        break;
      case "DX":
        ops.push("dx");
        break;
      case "1":
        ops.push("1");
        break;
      default:
        ops.push(o.toLowerCase());
        break;
    }
  }
  let prefix = "";
  if (d.repPrefix !== 0) {
    if (strOp) {
      const cmp = d.opcode === 0xa6 || d.opcode === 0xa7 || d.opcode === 0xae || d.opcode === 0xaf;
      prefix = d.repPrefix === 0xf3 ? (cmp ? "repz " : "rep ") : "repnz ";
    } else prefix = d.repPrefix === 0xf3 ? "repz " : "repnz ";
  }
  if (d.lock) prefix = `lock ${prefix}`;
  const name = prefix + mnem;
  const text = ops.length > 0 ? `${name.padEnd(6)} ${ops.join(",")}` : name;
  return { text, length: d.length, decoded: d };
}

/** Disassembles a whole buffer into "address: bytes  text" lines (`pvkit disasm --arch x86`). */
export function disassembleBuffer(bytes: Uint8Array, address: number, code32 = true): string[] {
  const lines: string[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const r = disassembleAt(
      bytes.subarray(pos, Math.min(bytes.length, pos + 15)),
      (address + pos) >>> 0,
      code32,
    );
    const raw = Array.from(bytes.subarray(pos, pos + r.length), (b) => b.toString(16).padStart(2, "0")).join(
      " ",
    );
    lines.push(`${((address + pos) >>> 0).toString(16).padStart(8, " ")}:\t${raw.padEnd(21)}\t${r.text}`);
    pos += r.length;
  }
  return lines;
}

/** The condition-code suffixes in encoding order (for tests and tools). */
export { CONDITIONS };

/**
 * Disassembles an executable range loaded at `vaddr` into one record per instruction, the shape
 * `pvkit disasm` lists (`raw` is the bytes in hex, as objdump prints them).
 */
export function disassembleRange(
  bytes: Uint8Array,
  vaddr: number,
): Array<{ addr: number; raw: string; text: string }> {
  const out: Array<{ addr: number; raw: string; text: string }> = [];
  let pos = 0;
  while (pos < bytes.length) {
    const addr = (vaddr + pos) >>> 0;
    const r = disassembleAt(bytes.subarray(pos, Math.min(bytes.length, pos + 15)), addr, true);
    const raw = Array.from(bytes.subarray(pos, pos + r.length), (b) => b.toString(16).padStart(2, "0")).join(
      " ",
    );
    out.push({ addr, raw, text: r.text });
    pos += r.length;
  }
  return out;
}
