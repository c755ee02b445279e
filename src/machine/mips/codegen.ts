/**
 * Turns the decode table's semantic templates into JavaScript, twice:
 *  - `buildInterpreter`: one function with a `switch` over decode-table indices, fields read from
 *    the instruction word at run time (used for single steps, privileged instructions, budgets);
 *  - `compileRegion`: one function per code region (the basic blocks of a 1 KiB chunk), fields as
 *    constants, cycles charged by prefix sums known at compile time.
 * Both expand the same templates, so their semantics cannot drift apart. (Blocks are compiled in
 * regions, `compileRegion`.)
 *
 * Generated code sees: `c` (the CPU), `R` (Int32Array registers), `M32/M16/M8` (RAM views),
 * `TR/BR` and `TW/BW` (read/write translation caches: tag = virtual page, base = physical byte
 * address of the page), `clk` (the SimClock), `mulhs/mulhu` (64-bit product high words).
 *
 * Contract of a compiled region: called with an entry pc and a budget, it returns the number of
 * instructions retired and leaves `c.pc` at the next instruction (or the exception vector when it
 * raised, with `c.fault` set). `clk.cycles` is exact at every exit and before every slow-path call.
 */
import type { CostName } from "../cost.js";
import { ExcCode } from "./exc.js";
import { ALL_OPS, type Emit, type OpDef } from "./opcodes.js";

/** Translation-cache geometry: direct-mapped by virtual page number. */
export const XLATE_BITS = 10;
export const XLATE_MASK = (1 << XLATE_BITS) - 1;

const CLOSURE_PARAMS = ["c", "R", "M32", "M16", "M8", "TR", "BR", "TW", "BW", "clk", "mulhs", "mulhu"];

/** Values the generated code closes over. */
export interface CodegenEnv {
  c: unknown;
  R: Int32Array;
  M32: Uint32Array;
  M16: Uint16Array;
  M8: Uint8Array;
  TR: Int32Array;
  BR: Int32Array;
  TW: Int32Array;
  BW: Int32Array;
  clk: unknown;
}

function envArgs(env: CodegenEnv): unknown[] {
  return [env.c, env.R, env.M32, env.M16, env.M8, env.TR, env.BR, env.TW, env.BW, env.clk, mulhs, mulhu];
}

/** High 32 bits of the unsigned 64-bit product of two 32-bit values. */
export function mulhu(a: number, b: number): number {
  a >>>= 0;
  b >>>= 0;
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const lo = a0 * b0;
  const m1 = a1 * b0;
  const m2 = a0 * b1;
  const carry = ((lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff)) >>> 16;
  return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + carry) | 0;
}

/** High 32 bits of the signed 64-bit product of two 32-bit values. */
export function mulhs(a: number, b: number): number {
  let h = mulhu(a, b);
  if (a < 0) h -= b;
  if (b < 0) h -= a;
  return h | 0;
}

/** Cost of one instruction of entry `d`, in cycles. */
export function opCost(d: OpDef, costs: Readonly<Record<CostName, number>>): number {
  return costs.instruction + (d.cost ? costs[d.cost] : 0);
}

interface EmitCtx {
  /** Statement run before a slow-path call (sync clk.cycles) and after it (re-base). */
  before: string;
  after: string;
  /** Statement leaving the instruction after an exception was raised. */
  raised: string;
  /** Statement leaving the instruction after it completed, if a device was touched. */
  endIfBrk: string;
  /** Statement run before c.raise (sync cycles). */
  beforeRaise: string;
  pc: string;
  bd: string;
  /** Interpreter: fields are locals; compiled: literals. */
  fields: { rs: string; rt: string; rd: string; sa: string; simm: string; uimm: string; word: string };
  literal: boolean;
  /** Compiled blocks keep guest registers in JS locals `rN`; these sets collect the ones used. */
  regsRead?: Set<number>;
  regsWritten?: Set<number>;
}

function makeEmit(x: EmitCtx): Emit {
  const f = x.fields;
  const set = (r: string, v: string): string => {
    if (x.literal) {
      if (r === "0") return ";";
      x.regsWritten?.add(Number(r));
      return `r${r} = ${v};`;
    }
    return /^\d+$/.test(r) ? `R[${r}] = ${v};` : `if (${r} !== 0) R[${r}] = ${v};`;
  };
  const exc = (code: ExcCode, bad?: string, ce?: number): string =>
    `{ ${x.beforeRaise} c.raise(${code}, ${x.pc}, ${x.bd}, ${bad ?? 0}, ${ce ?? 0}); ${x.raised} }`;
  return {
    ...f,
    pc: x.pc,
    bd: x.bd,
    get: (r) => {
      if (r === "0") return "0";
      if (!x.literal) return `R[${r}]`;
      x.regsRead?.add(Number(r));
      return `r${r}`;
    },
    set,
    exc,
    raised: () => x.raised,
    endIfBrk: () => x.endIfBrk,
    needCp0: () => `if (!c.cp0ok) ${exc(ExcCode.CpU, undefined, 0)}`,
    helper: (call) =>
      x.literal
        ? `{ ${x.before} if (c.${call}) ${x.raised} ${x.after} }`
        : `{ const r_ = c.${call}; if (r_ !== 0) return r_; }`,
    load(size, signed, a, dst) {
      const align = size > 1 ? `if (${a} & ${size - 1}) ${exc(ExcCode.AdEL, a)}` : "";
      const at = `BR[i] + (${a} & 4095)`;
      let fast: string;
      if (size === 4) fast = `M32[(${at}) >> 2] | 0`;
      else if (size === 2) fast = signed ? `(M16[(${at}) >> 1] << 16) >> 16` : `M16[(${at}) >> 1]`;
      else fast = signed ? `(M8[${at}] << 24) >> 24` : `M8[${at}]`;
      return `${align} let ${dst}; { const p = ${a} >>> 12, i = p & ${XLATE_MASK}; if (TR[i] === p) ${dst} = ${fast}; else { ${x.before} ${dst} = c.loadSlow(${a}, ${size}, ${signed}, ${x.pc}, ${x.bd}); if (c.fault) ${x.raised} ${x.after} } }`;
    },
    store(size, a, v) {
      const align = size > 1 ? `if (${a} & ${size - 1}) ${exc(ExcCode.AdES, a)}` : "";
      const at = `BW[i] + (${a} & 4095)`;
      const fast = size === 4 ? `M32[(${at}) >> 2]` : size === 2 ? `M16[(${at}) >> 1]` : `M8[${at}]`;
      return `${align} { const p = ${a} >>> 12, i = p & ${XLATE_MASK}; if (TW[i] === p) ${fast} = ${v}; else { ${x.before} c.storeSlow(${a}, ${size}, ${v}, ${x.pc}, ${x.bd}); if (c.fault) ${x.raised} ${x.after} } }`;
    },
  };
}

/** Source of the branch part (condition, link, target) for the interpreter. */
function interpBranch(d: OpDef, e: Emit): string {
  const b = d.branch!;
  const link = b.link ? e.set(b.link(e), "(pc + 8) | 0") : "";
  return `{ const t = ${b.cond(e)}; const tg = ${b.target(e)}; ${link} if (t) { c.nt = tg | 0; return 3; } c.nt = (pc + 8) | 0; return ${b.likely ? 4 : 3}; }`;
}

/**
 * The interpreter: `exec1(w, op, pc, bd)` runs one instruction (not its delay slot). Returns
 * 0 = done (pc += 4), 1 = raised (pc set to the vector), 2 = the helper set pc (ERET),
 * 3 = branch: run the delay slot then continue at `c.nt`, 4 = branch-likely not taken: skip the slot.
 */
export type Exec1 = (w: number, op: number, pc: number, bd: number) => number;

export function buildInterpreter(env: CodegenEnv): Exec1 {
  const x: EmitCtx = {
    before: "",
    after: "",
    raised: "return 1;",
    endIfBrk: "",
    beforeRaise: "",
    pc: "pc",
    bd: "bd",
    fields: { rs: "rs", rt: "rt", rd: "rd", sa: "sa", simm: "simm", uimm: "uimm", word: "w" },
    literal: false,
  };
  const e = makeEmit(x);
  const cases: string[] = [];
  ALL_OPS.forEach((d, i) => {
    const body = d.branch ? interpBranch(d, e) : `${d.exec!(e)} return 0;`;
    cases.push(`case ${i}: { ${body} }`);
  });
  const src = `return function exec1(w, op, pc, bd) {
    const rs = (w >>> 21) & 31, rt = (w >>> 16) & 31, rd = (w >>> 11) & 31, sa = (w >>> 6) & 31;
    const simm = (w << 16) >> 16, uimm = w & 0xffff;
    switch (op) { ${cases.join("\n")} }
    return 0;
  };`;
  return new Function(...CLOSURE_PARAMS, src)(...envArgs(env)) as Exec1;
}

/** One decoded instruction handed to the region compiler. */
export interface BlockInsn {
  word: number;
  op: number;
}

/** A basic block of a region: straight-line code starting at virtual address `pc`. */
export interface RegionBlock {
  pc: number;
  insns: BlockInsn[];
  /** The block ends without a branch and the next block of the region starts right after it. */
  fallsThrough: boolean;
}

/**
 * A compiled region: entered at a block start `pc`, runs blocks while the budget and the next
 * timer deadline allow, returns the number of instructions retired (0 if it could not start).
 */
export type RegionFn = (pc: number, budget: number) => number;

function literalFields(w: number): EmitCtx["fields"] {
  return {
    rs: String((w >>> 21) & 31),
    rt: String((w >>> 16) & 31),
    rd: String((w >>> 11) & 31),
    sa: String((w >>> 6) & 31),
    simm: String((w << 16) >> 16),
    uimm: String(w & 0xffff),
    word: String(w | 0),
  };
}

/**
 * Compiles a region — basic blocks of one code chunk — into one function:
 *
 *     for (;;) switch (pc) { case <block start>: …; pc = next; break; … default: return }
 *
 * so loops over several blocks stay inside one optimized function. Guest registers live in JS
 * locals (`rN`), written back to `R` at every exit (templates never write a destination before
 * they can fault). Before each block the region leaves if the budget or the next clock deadline
 * could be crossed inside it, so timers stay exact at instruction granularity; a device access
 * or a write to code (`c.brk`) ends it after the instruction. (The dispatcher records block entries
 * in the diagnostic trace ring.)
 */
export function compileRegion(
  env: CodegenEnv,
  blocks: readonly RegionBlock[],
  costs: Readonly<Record<CostName, number>>,
): { fn: RegionFn; source: string } {
  const regsRead = new Set<number>();
  const regsWritten = new Set<number>();
  const WB = "\u0000WB\u0000"; // placeholder for the register write-back, filled in at the end
  const out: string[] = [];
  for (const blk of blocks) {
    const { pc, insns } = blk;
    const n = insns.length;
    let total = 0;
    for (const { op } of insns) total += opCost(ALL_OPS[op]!, costs);
    out.push(
      `case ${pc | 0}: if (ret + ${n} > budget || cyc0 + ${total} > clk.nextDeadline) { clk.cycles = cyc0; c.pc = ${pc | 0}; ${WB} return ret; }`,
    );
    let prefix = 0;
    let ended = false;
    /** A conditional branch in the middle of the block: its side exit follows its delay slot. */
    let side: { likely: boolean; target: string; dcost: number } | null = null;
    for (let k = 0; k < n; k++) {
      const { word, op } = insns[k]!;
      const d = ALL_OPS[op]!;
      const ipc = (pc + 4 * k) | 0;
      prefix += opCost(d, costs);
      const P = prefix;
      const inDelay = k > 0 && ALL_OPS[insns[k - 1]!.op]!.branch !== undefined;
      const exitTo = (next: string, count: number) =>
        `{ clk.cycles = cyc0 + ${P}; c.pc = ${next}; ${WB} return ret + ${count}; }`;
      const sideNow = inDelay ? side : null;
      const x: EmitCtx = {
        before: `clk.cycles = cyc0 + ${P};`,
        after: `cyc0 = clk.cycles - ${P};`,
        raised: `{ ${WB} return ret + ${k}; }`,
        endIfBrk: !inDelay
          ? `if (c.brk) ${exitTo(String((ipc + 4) | 0), k + 1)}`
          : sideNow
            ? `if (c.brk) ${exitTo(sideNow.likely ? sideNow.target : `bt ? ${sideNow.target} : ${(ipc + 4) | 0}`, k + 1)}`
            : "",
        beforeRaise: `clk.cycles = cyc0 + ${P};`,
        pc: String(ipc),
        bd: inDelay ? "1" : "0",
        fields: literalFields(word),
        literal: true,
        regsRead,
        regsWritten,
      };
      const e = makeEmit(x);
      if (d.branch) {
        const b = d.branch;
        const link = b.link ? e.set(b.link(e), String((ipc + 8) | 0)) : "";
        if (k < n - 2) {
          // Superblock: evaluate the condition now, run the delay slot, then leave if taken.
          side = {
            likely: b.likely === true,
            target: `(${b.target(e)} | 0)`,
            dcost: opCost(ALL_OPS[insns[k + 1]!.op]!, costs),
          };
          out.push(`{ bt = ${b.cond(e)}; ${link} }`);
          if (side.likely) out.push("if (bt) {");
          continue;
        }
        const notTaken = b.likely
          ? `if (!t) { cyc0 += ${P}; ret += ${k + 1}; pc = ${(ipc + 8) | 0}; break; } nt = tg | 0;`
          : `nt = t ? tg | 0 : ${(ipc + 8) | 0};`;
        out.push(`{ const t = ${b.cond(e)}; const tg = ${b.target(e)}; ${link} ${notTaken} }`);
        continue;
      }
      out.push(`{ ${d.exec!(e)} }`);
      if (sideNow) {
        const leave = `cyc0 += ${P}; ret += ${k + 1}; pc = ${sideNow.target}; break;`;
        if (sideNow.likely) {
          // Taken: the slot ran, leave. Not taken: the slot was annulled — uncount it.
          out.push(`${leave} }`, `cyc0 -= ${sideNow.dcost}; ret -= 1;`);
        } else out.push(`if (bt) { ${leave} }`);
        side = null;
        continue;
      }
      if (inDelay) {
        out.push(`cyc0 += ${P}; ret += ${k + 1}; pc = nt; break;`);
        ended = true;
        break;
      }
    }
    if (!ended) {
      out.push(`cyc0 += ${prefix}; ret += ${n};`);
      out.push(blk.fallsThrough ? "// falls through" : `pc = ${(pc + 4 * n) | 0}; break;`);
    }
  }
  const used = [...new Set([...regsRead, ...regsWritten])].sort((a, b) => a - b);
  const load = used.length > 0 ? `let ${used.map((r) => `r${r} = R[${r}]`).join(", ")};` : "";
  const wb = [...regsWritten]
    .sort((a, b) => a - b)
    .map((r) => `R[${r}] = r${r};`)
    .join(" ");
  const body = out.join("\n").split(WB).join(wb);
  const name = `region_${((blocks[0]?.pc ?? 0) >>> 0).toString(16)}`;
  const source = `return function ${name}(pc, budget) { let cyc0 = clk.cycles; let nt = 0; let ret = 0; let bt = false; ${load}
for (;;) { switch (pc) {
${body}
default: clk.cycles = cyc0; c.pc = pc; ${wb} return ret;
} if (c.brk) { clk.cycles = cyc0; c.pc = pc; ${wb} return ret; } } };`;
  const fn = new Function(...CLOSURE_PARAMS, source)(...envArgs(env)) as RegionFn;
  return { fn, source };
}
