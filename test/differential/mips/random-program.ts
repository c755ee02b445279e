/**
 * Random MIPS32 Release 1 instruction sequences for the differential harness
 * (samples/guests/mips/harness), restricted to behaviour the architecture defines
 * (MIPS32 Architecture for Programmers Vol. II, MD00086, "Restrictions" of each instruction):
 *  - no branch or jump in a delay slot (UNPREDICTABLE); a delay-slot instruction may fault
 *    (the harness handler sees Cause.BD and resumes at the case's epilogue);
 *  - forward branches only, to unit boundaries inside the case (never into the middle of an
 *    LL..SC pair or a guarded divide);
 *  - JALR with rd != rs; BLTZAL/BGEZAL(L) with rs != $31; CLZ/CLO with rt == rd;
 *  - DIV/DIVU divisors forced nonzero (ORI rt, rt, 1 just before) — a zero divisor leaves HI/LO
 *    UNPREDICTABLE;
 *  - MUL leaves HI/LO UNPREDICTABLE: after one, nothing reads HI/LO and the final HI/LO are not
 *    compared; MTHI/MTLO only in the prologue;
 *  - LL and SC only as a pair on the same word with register-only work between;
 *  - memory ops only into the case's 256-byte scratch block through $28; misaligned halfword and
 *    word accesses only to test the address-error exception (recorded by the harness handler);
 *  - no Release 2 instructions (SEB, ROTR, EXT, …): pvkit's CPU is R1, QEMU's 24Kf is R2;
 *  - no statically never-taken BNE rs,rs / BGTZ $0 / BLTZ $0: QEMU translates them as NOPs
 *    (target/mips/tcg/translate.c, gen_compute_branch, "Treat as NOP"), so a fault in their
 *    delay slot is reported there without Cause.BD and resumes after it, where the
 *    architecture (and pvkit) set BD and EPC = the branch (see test/machine/mips).
 * Encodings are written here from the opcode maps (Vol. II, Table A.2–A.8), independently of
 * pvkit's decode table, so the test does not trust the table it checks.
 */
import fc from "fast-check";

/** Registers random code may write: everything but $26/$27 (k0/k1, the exception handler's) and $28. */
const DEST = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 29, 30, 31,
];
const BASE_REG = 28;
const SCRATCH_BYTES = 256;
/** Byte offsets inside a case block (harness.c). */
export const BLOCK_SIZE = 512;
const RECORD_OFF = 256;
const REGS_OFF = 272;
export const BLOCK_WORDS = 256 / 4 + 4 + 34;
/** Words before a case's sequence: block/record/epilogue (6), HI/LO (6), 29 registers (58). */
const PROLOGUE_WORDS = 70;

// ---- encoders ----
const r = (rs: number, rt: number, rd: number, sa: number, funct: number) =>
  ((rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct) >>> 0;
const sp2 = (rs: number, rt: number, rd: number, funct: number) =>
  ((28 << 26) | (rs << 21) | (rt << 16) | (rd << 11) | funct) >>> 0;
const i = (op: number, rs: number, rt: number, imm: number) =>
  ((op << 26) | (rs << 21) | (rt << 16) | (imm & 0xffff)) >>> 0;
const regimm = (rs: number, code: number, imm: number) => i(1, rs, code, imm);
const lui = (rt: number, v: number) => i(15, 0, rt, v >>> 16);
const ori = (rt: number, rs: number, v: number) => i(13, rs, rt, v & 0xffff);
const sw = (rt: number, off: number, base: number) => i(43, base, rt, off);
const j = (op: 2 | 3, target: number) => ((op << 26) | ((target >>> 2) & 0x3ffffff)) >>> 0;

const R_ALU: Record<string, number> = {
  addu: 33,
  subu: 35,
  and: 36,
  or: 37,
  xor: 38,
  nor: 39,
  slt: 42,
  sltu: 43,
  sllv: 4,
  srlv: 6,
  srav: 7,
  movz: 10,
  movn: 11,
};
const R_OVF: Record<string, number> = { add: 32, sub: 34 };
const SHIFT: Record<string, number> = { sll: 0, srl: 2, sra: 3 };
const I_ALU: Record<string, number> = { addiu: 9, slti: 10, sltiu: 11, andi: 12, ori: 13, xori: 14 };
const MULDIV: Record<string, number> = { mult: 24, multu: 25 };
const MADD: Record<string, number> = { madd: 0, maddu: 1, msub: 4, msubu: 5 };
const LOADS: Record<string, [number, number]> = {
  lb: [32, 1],
  lbu: [36, 1],
  lh: [33, 2],
  lhu: [37, 2],
  lw: [35, 4],
  lwl: [34, 1],
  lwr: [38, 1],
};
const STORES: Record<string, [number, number]> = {
  sb: [40, 1],
  sh: [41, 2],
  sw: [43, 4],
  swl: [42, 1],
  swr: [46, 1],
};
const TRAP_R: Record<string, number> = { tge: 48, tgeu: 49, tlt: 50, tltu: 51, teq: 52, tne: 54 };
const TRAP_I: Record<string, number> = { tgei: 8, tgeiu: 9, tlti: 10, tltiu: 11, teqi: 12, tnei: 14 };
const BR2: Record<string, number> = { beq: 4, bne: 5, beql: 20, bnel: 21 };
const BR1: Record<string, number> = { blez: 6, bgtz: 7, blezl: 22, bgtzl: 23 };
const BRZ: Record<string, number> = {
  bltz: 0,
  bgez: 1,
  bltzl: 2,
  bgezl: 3,
  bltzal: 16,
  bgezal: 17,
  bltzall: 18,
  bgezall: 19,
};

/** One word of a unit: a finished encoding, or a control transfer to resolve at layout. */
type Item =
  | { w: number }
  | { branch: number; target: number } // PC-relative 16-bit offset field, target = unit index
  | { jump: 2 | 3; target: number } // J/JAL, absolute target unit
  | { hi: number; target: number } // LUI reg, %hi(target unit address)
  | { lo: number; target: number }; // ORI reg, reg, %lo(target unit address)

export interface Unit {
  items: Item[];
  /** Text for failure reports. */
  text: string;
}

export interface RandomCase {
  regs: number[]; // initial $0..$31 (indices 26..28 are overwritten by the prologue)
  hi: number;
  lo: number;
  scratch: number[]; // 256 bytes
  units: Unit[];
  /** HI/LO may be UNPREDICTABLE at the end (a MUL ran): do not compare them. */
  hiloUndefined: boolean;
}

const reg = fc.constantFrom(...DEST);
const anyReg = fc.integer({ min: 0, max: 31 });
const simm = fc.oneof(fc.integer({ min: -32768, max: 32767 }), fc.integer({ min: -8, max: 8 }));
const word = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x8000, 0xffff, 0x7fff, 31, 32),
);

/** A delay-slot-safe unit: one instruction that cannot fault or transfer control. */
function safeUnit(): fc.Arbitrary<Unit> {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...Object.keys(R_ALU)), reg, anyReg, anyReg).map(([m, rd, rs, rt]) => ({
      items: [{ w: r(rs, rt, rd, 0, R_ALU[m]!) }],
      text: `${m} $${rd},$${rs},$${rt}`,
    })),
    fc
      .tuple(fc.constantFrom(...Object.keys(SHIFT)), reg, anyReg, fc.integer({ min: 0, max: 31 }))
      .map(([m, rd, rt, sa]) => ({
        items: [{ w: r(0, rt, rd, sa, SHIFT[m]!) }],
        text: `${m} $${rd},$${rt},${sa}`,
      })),
    fc.tuple(fc.constantFrom(...Object.keys(I_ALU)), reg, anyReg, simm).map(([m, rt, rs, imm]) => ({
      items: [{ w: i(I_ALU[m]!, rs, rt, imm) }],
      text: `${m} $${rt},$${rs},${imm}`,
    })),
    fc.tuple(reg, fc.integer({ min: 0, max: 0xffff })).map(([rt, imm]) => ({
      items: [{ w: i(15, 0, rt, imm) }],
      text: `lui $${rt},0x${imm.toString(16)}`,
    })),
    fc.tuple(fc.constantFrom("clz", "clo"), reg, anyReg).map(([m, rd, rs]) => ({
      items: [{ w: sp2(rs, rd, rd, m === "clz" ? 32 : 33) }],
      text: `${m} $${rd},$${rs}`,
    })),
    fc
      .tuple(fc.constantFrom(...Object.keys(LOADS)), reg, fc.nat({ max: SCRATCH_BYTES - 4 }))
      .map(([m, rt, off]) => {
        const [op, align] = LOADS[m]!;
        const o = off & ~(align - 1);
        return { items: [{ w: i(op, BASE_REG, rt, o) }], text: `${m} $${rt},${o}($28)` };
      }),
    fc
      .tuple(fc.constantFrom(...Object.keys(STORES)), anyReg, fc.nat({ max: SCRATCH_BYTES - 4 }))
      .map(([m, rt, off]) => {
        const [op, align] = STORES[m]!;
        const o = off & ~(align - 1);
        return { items: [{ w: i(op, BASE_REG, rt, o) }], text: `${m} $${rt},${o}($28)` };
      }),
    // SYNC and PREF: no architectural effect on a uniprocessor.
    fc.constant<Unit>({ items: [{ w: 0x0000000f }], text: "sync" }),
    fc.tuple(fc.integer({ min: 0, max: 31 }), fc.nat({ max: SCRATCH_BYTES - 4 })).map(([hint, off]) => ({
      items: [{ w: i(51, BASE_REG, hint, off) }],
      text: `pref ${hint},${off}($28)`,
    })),
  );
}

/** MULT/MULTU/MADD*: define or read HI/LO. `hiloOk`: HI/LO still defined. */
function hiloUnit(hiloOk: boolean): fc.Arbitrary<Unit & { mul?: boolean }> {
  const defining = fc.tuple(fc.constantFrom(...Object.keys(MULDIV)), anyReg, anyReg).map(([m, rs, rt]) => ({
    items: [{ w: r(rs, rt, 0, 0, MULDIV[m]!) }],
    text: `${m} $${rs},$${rt}`,
  }));
  const div = fc.tuple(fc.constantFrom("div", "divu"), anyReg, reg).map(([m, rs, rt]) => ({
    items: [{ w: ori(rt, rt, 1) }, { w: r(rs, rt, 0, 0, m === "div" ? 26 : 27) }],
    text: `ori $${rt},$${rt},1; ${m} $${rs},$${rt}`,
  }));
  const mul = fc.tuple(reg, anyReg, anyReg).map(([rd, rs, rt]) => ({
    items: [{ w: sp2(rs, rt, rd, 2) }],
    text: `mul $${rd},$${rs},$${rt}`,
    mul: true,
  }));
  if (!hiloOk) return fc.oneof(mul);
  const reading = fc.oneof(
    fc.tuple(fc.constantFrom("mfhi", "mflo"), reg).map(([m, rd]) => ({
      items: [{ w: r(0, 0, rd, 0, m === "mfhi" ? 16 : 18) }],
      text: `${m} $${rd}`,
    })),
    fc.tuple(fc.constantFrom(...Object.keys(MADD)), anyReg, anyReg).map(([m, rs, rt]) => ({
      items: [{ w: sp2(rs, rt, 0, MADD[m]!) }],
      text: `${m} $${rs},$${rt}`,
    })),
  );
  return fc.oneof(defining, div, mul, reading, reading);
}

/** Units that may raise an exception (recorded by the harness handler). */
function faultingUnit(): fc.Arbitrary<Unit> {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...Object.keys(R_OVF)), reg, anyReg, anyReg).map(([m, rd, rs, rt]) => ({
      items: [{ w: r(rs, rt, rd, 0, R_OVF[m]!) }],
      text: `${m} $${rd},$${rs},$${rt}`,
    })),
    fc
      .tuple(reg, anyReg, simm)
      .map(([rt, rs, imm]) => ({ items: [{ w: i(8, rs, rt, imm) }], text: `addi $${rt},$${rs},${imm}` })),
    fc.tuple(fc.constantFrom(...Object.keys(TRAP_R)), anyReg, anyReg).map(([m, rs, rt]) => ({
      items: [{ w: r(rs, rt, 0, 0, TRAP_R[m]!) }],
      text: `${m} $${rs},$${rt}`,
    })),
    fc.tuple(fc.constantFrom(...Object.keys(TRAP_I)), anyReg, simm).map(([m, rs, imm]) => ({
      items: [{ w: regimm(rs, TRAP_I[m]!, imm) }],
      text: `${m} $${rs},${imm}`,
    })),
    fc.constantFrom<Unit>(
      { items: [{ w: 0x0000000c }], text: "syscall" },
      { items: [{ w: 0x0000000d }], text: "break" },
    ),
    // Misaligned halfword/word accesses: AdEL/AdES with BadVAddr.
    fc
      .tuple(fc.constantFrom("lh", "lhu", "lw", "sh", "sw"), reg, fc.nat({ max: SCRATCH_BYTES - 8 }))
      .map(([m, rt, off]) => {
        const [op, align] = (LOADS[m] ?? STORES[m])!;
        const o = (off & ~(align - 1)) + (align === 2 ? 1 : 1 + (off % 3));
        return { items: [{ w: i(op, BASE_REG, rt, o) }], text: `${m} $${rt},${o}($28) (misaligned)` };
      }),
  );
}

/** LL, up to two register ops, SC to the same word. */
function llscUnit(): fc.Arbitrary<Unit> {
  return fc
    .tuple(reg, reg, fc.nat({ max: SCRATCH_BYTES / 4 - 1 }), fc.array(safeAluOnly(), { maxLength: 2 }))
    .map(([rt, rt2, w, mid]) => ({
      items: [
        { w: i(48, BASE_REG, rt, w * 4) },
        ...mid.flatMap((u) => u.items),
        { w: i(56, BASE_REG, rt2, w * 4) },
      ],
      text: `ll $${rt},${w * 4}($28); ${mid.map((u) => u.text).join("; ")}; sc $${rt2},${w * 4}($28)`,
    }));
}

function safeAluOnly(): fc.Arbitrary<Unit> {
  return fc.tuple(fc.constantFrom(...Object.keys(R_ALU)), reg, anyReg, anyReg).map(([m, rd, rs, rt]) => ({
    items: [{ w: r(rs, rt, rd, 0, R_ALU[m]!) }],
    text: `${m} $${rd},$${rs},$${rt}`,
  }));
}

/** A control transfer to a later unit; `target` is filled in once the case's length is known. */
type BranchSpec = { make: (target: number) => Item[]; text: string };

function branchSpec(): fc.Arbitrary<BranchSpec> {
  return fc.oneof(
    fc
      .tuple(fc.constantFrom(...Object.keys(BR2)), anyReg, anyReg)
      .filter(([m, rs, rt]) => !(m === "bne" && rs === rt))
      .map(([m, rs, rt]) => ({
        make: (t: number) => [{ branch: i(BR2[m]!, rs, rt, 0), target: t }],
        text: `${m} $${rs},$${rt}`,
      })),
    fc
      .tuple(fc.constantFrom(...Object.keys(BR1)), anyReg)
      .filter(([m, rs]) => !(m === "bgtz" && rs === 0))
      .map(([m, rs]) => ({
        make: (t: number) => [{ branch: i(BR1[m]!, rs, 0, 0), target: t }],
        text: `${m} $${rs}`,
      })),
    fc
      .tuple(fc.constantFrom(...Object.keys(BRZ)), fc.integer({ min: 0, max: 30 }))
      .filter(([m, rs]) => !(m === "bltz" && rs === 0))
      .map(([m, rs]) => ({
        make: (t: number) => [{ branch: regimm(rs, BRZ[m]!, 0), target: t }],
        text: `${m} $${rs}`,
      })),
    fc.constantFrom(2 as const, 3 as const).map((op) => ({
      make: (t: number) => [{ jump: op, target: t }],
      text: op === 2 ? "j" : "jal",
    })),
    fc
      .tuple(reg, fc.constantFrom(...DEST, 0))
      .filter(([rs, rd]) => rs !== rd)
      .map(([rs, rd]) => ({
        make: (t: number) => [{ hi: rs, target: t }, { lo: rs, target: t }, { w: r(rs, 0, rd, 0, 9) }],
        text: `la $${rs},L; jalr $${rd},$${rs}`,
      })),
    reg.map((rs) => ({
      make: (t: number) => [{ hi: rs, target: t }, { lo: rs, target: t }, { w: r(rs, 0, 0, 0, 8) }],
      text: `la $${rs},L; jr $${rs}`,
    })),
  );
}

type Slot =
  | { kind: "unit"; unit: Unit & { mul?: boolean } }
  | { kind: "branch"; spec: BranchSpec; delay: Unit; skip: number };

const slotArb: fc.Arbitrary<Slot> = fc.oneof(
  { weight: 6, arbitrary: safeUnit().map((unit) => ({ kind: "unit" as const, unit })) },
  { weight: 2, arbitrary: faultingUnit().map((unit) => ({ kind: "unit" as const, unit })) },
  { weight: 1, arbitrary: llscUnit().map((unit) => ({ kind: "unit" as const, unit })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        branchSpec(),
        fc.oneof({ weight: 3, arbitrary: safeUnit() }, { weight: 1, arbitrary: faultingUnit() }),
        fc.nat({ max: 4 }),
      )
      .map(([spec, delay, skip]) => ({ kind: "branch" as const, spec, delay, skip })),
  },
  // HI/LO units are chosen later (their legality depends on what ran before).
  { weight: 2, arbitrary: fc.constant<Slot>({ kind: "unit", unit: { items: [], text: "hilo" } }) },
);

export const randomCase: fc.Arbitrary<RandomCase> = fc
  .record({
    regs: fc.array(word, { minLength: 32, maxLength: 32 }),
    hi: word,
    lo: word,
    scratch: fc.array(fc.integer({ min: 0, max: 255 }), {
      minLength: SCRATCH_BYTES,
      maxLength: SCRATCH_BYTES,
    }),
    slots: fc.array(slotArb, { minLength: 4, maxLength: 24 }),
    hilo: fc.array(fc.nat({ max: 1000 }), { minLength: 24, maxLength: 24 }),
    hiloPicks: fc.array(hiloUnit(true), { minLength: 24, maxLength: 24 }),
    mulPicks: fc.array(hiloUnit(false), { minLength: 24, maxLength: 24 }),
  })
  .map(({ regs, hi, lo, scratch, slots, hiloPicks, mulPicks }) => {
    // Units in order; a branch is two units (the transfer, then its delay slot).
    const units: Unit[] = [];
    let mulSeen = false;
    const pending: Array<{ unit: number; spec: BranchSpec; skip: number }> = [];
    slots.forEach((s, k) => {
      if (s.kind === "unit") {
        if (s.unit.text === "hilo") {
          const pick = mulSeen ? mulPicks[k]! : hiloPicks[k]!;
          if (pick.mul) mulSeen = true;
          units.push(pick);
        } else {
          units.push(s.unit);
        }
      } else {
        pending.push({ unit: units.length, spec: s.spec, skip: s.skip });
        units.push({ items: [], text: s.spec.text });
        units.push(s.delay);
      }
    });
    // Forward targets: after the delay slot, `skip` units further, at most the end (epilogue).
    for (const p of pending) {
      const target = Math.min(p.unit + 2 + p.skip, units.length);
      units[p.unit] = { items: p.spec.make(target), text: `${p.spec.text} -> unit ${target}` };
    }
    return {
      regs: regs.map((v) => v >>> 0),
      hi: hi >>> 0,
      lo: lo >>> 0,
      scratch,
      units,
      hiloUndefined: mulSeen,
    };
  });

/** Machine code and data for a batch of cases, ready to patch into harness.elf. */
export interface AssembledBatch {
  code: Uint32Array;
  /** Address of code[0]. */
  codeBase: number;
  blocks: Uint8Array;
  /** Start address of each case's random sequence (for reports). */
  caseStarts: number[];
}

/**
 * Lays out `cases` at `codeBase` with blocks at `blocksBase` (addresses from harness.elf's
 * symbols); the last case jumps to `returnAddr` (test_return).
 */
export function assembleBatch(
  cases: RandomCase[],
  codeBase: number,
  blocksBase: number,
  returnAddr: number,
): AssembledBatch {
  const out: number[] = [];
  const blocks = new Uint8Array(cases.length * BLOCK_SIZE);
  const caseStarts: number[] = [];
  cases.forEach((c, n) => {
    const block = (blocksBase + n * BLOCK_SIZE) >>> 0;
    blocks.set(c.scratch, n * BLOCK_SIZE);
    // Prologue: $28 = block, $27 = exception record, the epilogue's address where the harness
    // handler finds it (the $0 slot of the dump), HI/LO, then every other register.
    const seqWords = c.units.reduce((a, u) => a + u.items.length, 0);
    const epilogue = codeBase + (out.length + PROLOGUE_WORDS + seqWords) * 4;
    out.push(lui(BASE_REG, block), ori(BASE_REG, BASE_REG, block), i(9, BASE_REG, 27, RECORD_OFF));
    out.push(lui(1, epilogue), ori(1, 1, epilogue), sw(1, REGS_OFF, BASE_REG));
    out.push(lui(1, c.hi), ori(1, 1, c.hi), r(1, 0, 0, 0, 17)); // mthi
    out.push(lui(1, c.lo), ori(1, 1, c.lo), r(1, 0, 0, 0, 19)); // mtlo
    for (let k = 1; k < 32; k++) {
      if (k === 27 || k === 28) continue;
      out.push(lui(k, c.regs[k]!), ori(k, k, c.regs[k]!));
    }
    // Sequence: unit addresses first, then encode with resolved targets.
    const start = codeBase + out.length * 4;
    if (start + seqWords * 4 !== epilogue) throw new Error("prologue length changed: update PROLOGUE_WORDS");
    caseStarts.push(start);
    const unitAddr: number[] = [];
    let a = start;
    for (const u of c.units) {
      unitAddr.push(a);
      a += u.items.length * 4;
    }
    unitAddr.push(a); // the epilogue
    c.units.forEach((u, k) => {
      u.items.forEach((it, m) => {
        const pc = unitAddr[k]! + m * 4;
        if ("w" in it) out.push(it.w);
        else if ("branch" in it) {
          const off = (unitAddr[it.target]! - (pc + 4)) >> 2;
          out.push((it.branch | (off & 0xffff)) >>> 0);
        } else if ("jump" in it) out.push(j(it.jump, unitAddr[it.target]!));
        else if ("hi" in it) out.push(lui(it.hi, unitAddr[it.target]!));
        else out.push(ori(it.lo, it.lo, unitAddr[it.target]!));
      });
    });
    // Epilogue: dump $0..$31, HI, LO.
    for (let k = 0; k < 32; k++) out.push(sw(k, REGS_OFF + 4 * k, BASE_REG));
    out.push(r(0, 0, 1, 0, 16), sw(1, REGS_OFF + 128, BASE_REG)); // mfhi $1
    out.push(r(0, 0, 1, 0, 18), sw(1, REGS_OFF + 132, BASE_REG)); // mflo $1
  });
  out.push(j(2, returnAddr), 0);
  return { code: Uint32Array.from(out), codeBase, blocks, caseStarts };
}

/** Parses "case N: w0 … w101" lines into word arrays. */
export function parseCaseLines(output: string): Map<number, number[]> {
  const res = new Map<number, number[]>();
  for (const line of output.split("\n")) {
    const m = /^case (\d+):((?: [0-9a-f]{8})+)$/.exec(line.trim());
    if (m)
      res.set(
        Number(m[1]),
        m[2]!
          .trim()
          .split(" ")
          .map((h) => Number.parseInt(h, 16)),
      );
  }
  return res;
}

/** Names of the words of a block, for reports. */
export function blockWordName(k: number): string {
  if (k < 64) return `scratch[${k * 4}]`;
  if (k < 68) return ["exc.count", "exc.cause", "exc.epc", "exc.badvaddr"][k - 64]!;
  const rr = k - 68;
  return rr < 32 ? `$${rr}` : rr === 32 ? "HI" : "LO";
}
