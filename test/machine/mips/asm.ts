/**
 * A tiny MIPS assembler for the tests, driven by the decode table (`OPCODES`): encodings come from
 * each entry's `match` and operand list, never from hand-written hex.
 *
 *   const a = new Asm(0x80001000);
 *   a.addiu("t0", "zero", 5).label("loop").addiu("t0", "t0", -1).bnez("t0", "loop").nop();
 *   const words = a.words();
 *
 * Operands follow the entry's operand list; `mem` takes two arguments (offset, base); branch and
 * jump targets take a label or an absolute address. `assemble(text, pc)` parses the disassembler's
 * syntax (for round trips).
 */
import { CP0_NAMES, OPCODES, type OpDef, type Operand, REG_NAMES } from "../../../src/machine/mips/index.js";

export type Arg = number | string;

export function reg(r: Arg): number {
  if (typeof r === "number") return r;
  const s = r.replace(/^\$/, "");
  const i = REG_NAMES.indexOf(s === "fp" ? "s8" : s);
  if (i >= 0) return i;
  const n = Number(s);
  if (Number.isInteger(n) && n >= 0 && n < 32) return n;
  throw new Error(`bad register ${r}`);
}

const byName = new Map<string, OpDef>(OPCODES.map((d) => [d.name, d]));

const OPTIONAL: ReadonlySet<Operand> = new Set<Operand>([
  "code20",
  "code10",
  "code19",
  "sel",
  "stype",
  "hcode",
]);

/** Encodes `name` with operands `args` at address `pc`; labels resolved through `resolve`. */
export function encode(
  name: string,
  args: readonly Arg[],
  pc: number,
  resolve: (l: string) => number = noLabels,
): number {
  const d = byName.get(name);
  if (!d) throw new Error(`unknown mnemonic ${name}`);
  let w = d.match >>> 0;
  let k = 0;
  const next = (): Arg => {
    if (k >= args.length) throw new Error(`${name}: too few operands`);
    return args[k++]!;
  };
  const num = (a: Arg): number => (typeof a === "number" ? a : Number(a));
  const target = (a: Arg): number =>
    typeof a === "string" && !/^-?(0x)?[0-9a-f]+$/i.test(a) ? resolve(a) : num(a);
  for (const o of d.operands) {
    if (OPTIONAL.has(o) && k >= args.length) continue;
    switch (o) {
      case "rd":
        w |= reg(next()) << 11;
        break;
      case "c0reg": {
        const a = next();
        const cfg = typeof a === "string" ? /^c0_config([1-3])$/.exec(a) : null;
        const named = typeof a === "string" ? CP0_NAMES.indexOf(a) : -1;
        if (cfg) w |= (16 << 11) | Number(cfg[1]);
        else w |= (named >= 0 ? named : reg(a)) << 11;
        break;
      }
      case "rs":
        w |= reg(next()) << 21;
        break;
      case "rt":
        w |= reg(next()) << 16;
        break;
      case "sa":
      case "stype":
        w |= (num(next()) & 31) << 6;
        break;
      case "simm":
      case "uimm":
        w |= num(next()) & 0xffff;
        break;
      case "mem": {
        const off = num(next());
        w |= (off & 0xffff) | (reg(next()) << 21);
        break;
      }
      case "boff": {
        const t = target(next());
        w |= (((t - (pc + 4)) >> 2) & 0xffff) >>> 0;
        break;
      }
      case "jtarget":
        w |= (target(next()) >>> 2) & 0x3ffffff;
        break;
      case "code20":
        w |= (num(next()) & 0xfffff) << 6;
        break;
      case "code10":
        w |= (num(next()) & 0x3ff) << 6;
        break;
      case "code19":
        w |= (num(next()) & 0x7ffff) << 6;
        break;
      case "sel":
        w |= num(next()) & 7;
        break;
      case "cacheop":
        w |= (num(next()) & 31) << 16;
        break;
      case "hcode":
        w |= (num(next()) & 0x3ff) << 11;
        break;
    }
  }
  if (k !== args.length) throw new Error(`${name}: too many operands`);
  if (d.rtIsRd) w |= ((w >>> 11) & 31) << 16;
  return w >>> 0;
}

function noLabels(l: string): number {
  throw new Error(`label ${l} not allowed here`);
}

/** Parses one line of disassembler syntax (with objdump aliases) and encodes it at `pc`. */
export function assemble(text: string, pc: number): number {
  const t = text.trim();
  const sp = t.indexOf(" ");
  const mn = sp < 0 ? t : t.slice(0, sp);
  const rest = sp < 0 ? "" : t.slice(sp + 1);
  const raw: string[] = rest === "" ? [] : rest.split(",").map((s) => s.trim());
  const args: Arg[] = [];
  for (const r of raw) {
    const m = /^(-?\d+)\((\w+)\)$/.exec(r);
    if (m) args.push(Number(m[1]), m[2]!);
    else args.push(r);
  }
  switch (mn) {
    case ".word":
      return Number(args[0]) >>> 0;
    case "nop":
      return 0;
    case "move":
      return encode("addu", [args[0]!, args[1]!, "zero"], pc);
    case "b":
      return encode("beq", ["zero", "zero", args[0]!], pc);
    case "beqz":
      return encode("beq", [args[0]!, "zero", args[1]!], pc);
    case "bnez":
      return encode("bne", [args[0]!, "zero", args[1]!], pc);
    case "bal":
      return encode("bgezal", ["zero", args[0]!], pc);
    case "jalr":
      return args.length === 1 ? encode("jalr", ["ra", args[0]!], pc) : encode("jalr", args, pc);
    default: {
      const d = byName.get(mn);
      if (!d) throw new Error(`unknown mnemonic in "${text}"`);
      // Registers printed by name; c0 registers as $n.
      return encode(mn, args, pc);
    }
  }
}

type AsmMethods = { [name: string]: (...args: Arg[]) => Asm };

class AsmCore {
  readonly items: { name: string; args: Arg[]; pc: number; word?: number }[] = [];
  readonly labels = new Map<string, number>();
  /** The proxy handed out, so chained calls keep the generated mnemonic methods. */
  self!: Asm;
  constructor(readonly base: number) {}
  get pc(): number {
    return (this.base + 4 * this.items.length) | 0;
  }
  label(name: string): Asm {
    this.labels.set(name, this.pc >>> 0);
    return this.self;
  }
  /** A raw word (data or an encoding the table does not have). */
  word(w: number): Asm {
    this.items.push({ name: ".word", args: [], pc: this.pc, word: w >>> 0 });
    return this.self;
  }
  nop(): Asm {
    return this.word(0);
  }
  move(rd: Arg, rs: Arg): Asm {
    return this.op("addu", [rd, rs, "zero"]);
  }
  b(target: Arg): Asm {
    return this.op("beq", ["zero", "zero", target]);
  }
  beqz(rs: Arg, target: Arg): Asm {
    return this.op("beq", [rs, "zero", target]);
  }
  bnez(rs: Arg, target: Arg): Asm {
    return this.op("bne", [rs, "zero", target]);
  }
  /** Loads a 32-bit constant with LUI + ORI (always two instructions). */
  li(rt: Arg, value: number): Asm {
    this.op("lui", [rt, (value >>> 16) & 0xffff]);
    return this.op("ori", [rt, rt, value & 0xffff]);
  }
  op(name: string, args: Arg[]): Asm {
    if (!byName.has(name)) throw new Error(`unknown mnemonic ${name}`);
    this.items.push({ name, args, pc: this.pc });
    return this.self;
  }
  /** Address of a label (after it is defined). */
  addr(label: string): number {
    const a = this.labels.get(label);
    if (a === undefined) throw new Error(`undefined label ${label}`);
    return a;
  }
  words(): Uint32Array {
    const out = new Uint32Array(this.items.length);
    this.items.forEach((it, i) => {
      out[i] = it.word ?? encode(it.name, it.args, it.pc, (l) => this.addr(l));
    });
    return out;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.words().buffer);
  }
}

export type Asm = AsmCore & AsmMethods;

/** Creates an assembler whose first instruction sits at virtual address `base`. */
export function newAsm(base: number): Asm {
  const core = new AsmCore(base);
  core.self = new Proxy(core, {
    get(target, prop, receiver) {
      if (typeof prop === "string" && !(prop in target) && byName.has(prop)) {
        return (...args: Arg[]) => target.op(prop, args);
      }
      return Reflect.get(target, prop, receiver);
    },
  }) as Asm;
  return core.self;
}
