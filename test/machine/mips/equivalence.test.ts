/**
 * The compiled-block path and the interpreter expand the same templates; these properties check
 * that they agree on random programs (registers, HI/LO, memory, PC, cycles, exceptions), that a
 * budget stops both at the same instruction, and that splitting a run into chunks changes nothing
 * (timer interrupts included).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Status } from "../../../src/machine/mips/index.js";
import type { Arg } from "./asm.js";
import { BASE, bootKernel, makeMachine, newAsm, type TestMachine } from "./machine.js";

const DATA = 0x80010000;
const REGS = ["t0", "t1", "t2", "t3", "s0", "s1", "s2", "v0"] as const;

type Insn = { name: string; args: Arg[] };

const reg = fc.constantFrom(...REGS);
const imm16 = fc.integer({ min: -0x8000, max: 0x7fff });
const uimm16 = fc.integer({ min: 0, max: 0xffff });

const alu: fc.Arbitrary<Insn> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        "addu",
        "subu",
        "and",
        "or",
        "xor",
        "nor",
        "slt",
        "sltu",
        "sllv",
        "srlv",
        "srav",
        "movn",
        "movz",
        "mul",
        "add",
        "sub",
      ),
      reg,
      reg,
      reg,
    )
    .map(([name, d, s, t]) => ({ name, args: name.endsWith("v") ? [d, t, s] : [d, s, t] })),
  fc
    .tuple(fc.constantFrom("addiu", "slti", "sltiu", "addi"), reg, reg, imm16)
    .map(([name, t, s, i]) => ({ name, args: [t, s, i] })),
  fc
    .tuple(fc.constantFrom("andi", "ori", "xori"), reg, reg, uimm16)
    .map(([name, t, s, i]) => ({ name, args: [t, s, i] })),
  fc.tuple(reg, uimm16).map(([t, i]) => ({ name: "lui", args: [t, i] })),
  fc
    .tuple(fc.constantFrom("sll", "srl", "sra"), reg, reg, fc.integer({ min: 0, max: 31 }))
    .map(([name, d, t, sa]) => ({ name, args: [d, t, sa] })),
  fc
    .tuple(fc.constantFrom("mult", "multu", "div", "divu", "madd", "maddu", "msub", "msubu"), reg, reg)
    .map(([name, s, t]) => ({ name, args: [s, t] })),
  fc.tuple(fc.constantFrom("mfhi", "mflo"), reg).map(([name, d]) => ({ name, args: [d] })),
  fc.tuple(fc.constantFrom("clz", "clo"), reg, reg).map(([name, d, s]) => ({ name, args: [d, s] })),
);

// Memory: base register s7 = DATA; mostly aligned offsets, sometimes not (address errors).
const mem: fc.Arbitrary<Insn> = fc
  .tuple(
    fc.constantFrom("lw", "sw", "lh", "lhu", "sh", "lb", "lbu", "sb", "lwl", "lwr", "swl", "swr"),
    reg,
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 20 }),
  )
  .map(([name, t, off, unaligned]) => {
    const size = name.endsWith("w")
      ? 4
      : name.startsWith("l") && name.includes("h")
        ? 2
        : name === "sh"
          ? 2
          : 1;
    const aligned = name.endsWith("l") || name.endsWith("r") ? off : off - (off % size);
    return { name, args: [t, unaligned === 0 ? off | 1 : aligned, "s7"] };
  });

type Item =
  | { kind: "insn"; insn: Insn }
  | { kind: "branch"; name: string; rs: string; rt: string; skip: number; slot: Insn };

const branch: fc.Arbitrary<Item> = fc
  .tuple(
    fc.constantFrom(
      "beq",
      "bne",
      "beql",
      "bnel",
      "blez",
      "bgtz",
      "bltz",
      "bgez",
      "bltzal",
      "bgezal",
      "bgezl",
    ),
    reg,
    reg,
    fc.integer({ min: -6, max: 4 }),
    alu,
  )
  .map(([name, rs, rt, skip, slot]) => ({ kind: "branch" as const, name, rs, rt, skip, slot }));

const program = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: alu.map((insn) => ({ kind: "insn" as const, insn })) },
    { weight: 3, arbitrary: mem.map((insn) => ({ kind: "insn" as const, insn })) },
    { weight: 2, arbitrary: branch },
  ),
  { minLength: 1, maxLength: 40 },
);

function build(items: Item[], seeds: number[]): (m: TestMachine) => void {
  return (m) => {
    const a = newAsm(BASE);
    a.li("k1", 0xbfd00000).li("s7", DATA);
    REGS.forEach((r, i) => {
      a.li(r, seeds[i]! >>> 0);
    });
    items.forEach((it, i) => {
      a.label(`i${i}`);
      if (it.kind === "insn") a.op(it.insn.name, it.insn.args);
      else {
        const target = `i${Math.max(0, Math.min(items.length, i + it.skip))}`;
        const two = ["beq", "bne", "beql", "bnel"].includes(it.name);
        a.op(it.name, two ? [it.rs, it.rt, target] : [it.rs, target]);
        a.op(it.slot.name, it.slot.args);
      }
    });
    a.label(`i${items.length}`).addiu("k0", "zero", 0x7f).sb("k0", 0x501, "k1").label("end").b("end").nop();
    m.load(a);
    for (let i = 0; i < 64; i++)
      m.memory.write32((DATA & 0x1fffffff) + 4 * i, Math.imul(i + 1, 0x9e3779b1) >>> 0);
    bootKernel(m, BASE, 0);
  };
}

function snapshot(m: TestMachine) {
  const cp0 = m.cpu.cp0;
  return {
    gpr: [...m.cpu.gpr],
    hi: m.cpu.hi,
    lo: m.cpu.lo,
    pc: m.cpu.pc,
    instructions: m.cpu.stats.instructions,
    cycles: m.clock.cycles,
    exceptions: [...m.cpu.stats.exceptions],
    exit: m.stop.requested ? m.stop.exitCode : -1,
    epc: cp0.epc,
    cause: cp0.causeValue,
    badVAddr: cp0.badVAddr,
    data: [...m.memory.u32.subarray((DATA & 0x1fffffff) >>> 2, ((DATA & 0x1fffffff) >>> 2) + 64)],
  };
}

describe("MIPS compiled blocks vs interpreter", () => {
  it("agree on random programs, with the same budget cut-off", () => {
    fc.assert(
      fc.property(
        program,
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), {
          minLength: REGS.length,
          maxLength: REGS.length,
        }),
        fc.integer({ min: 20, max: 3000 }),
        (items, seeds, budget) => {
          const results = [true, false].map((jit) => {
            const m = makeMachine(jit);
            build(items, seeds)(m);
            m.cpu.run(budget);
            return snapshot(m);
          });
          expect(results[0]).toEqual(results[1]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("gives the same result when a timer-driven run is split into chunks", () => {
    // A loop with the Count/Compare timer interrupting it; the handler counts ticks in s6,
    // re-arms Compare and returns.
    const setup = (m: TestMachine) => {
      const h = newAsm(0x80000180);
      h.addiu("s6", "s6", 1).mfc0("k0", 11).addiu("k0", "k0", 97).mtc0("k0", 11).eret();
      m.load(h);
      const a = newAsm(BASE);
      a.li("t0", 40000)
        .mtc0("zero", 9)
        .addiu("t1", "zero", 97)
        .mtc0("t1", 11)
        .label("loop")
        .addu("v0", "v0", "t0")
        .sw("v0", 0, "sp")
        .addiu("t0", "t0", -1)
        .bnez("t0", "loop")
        .xor("v1", "v1", "v0")
        .label("end")
        .b("end")
        .nop();
      m.load(a);
      bootKernel(m, BASE, Status.IE | (1 << 15));
      m.cpu.gpr[29] = 0x80020000 | 0;
    };
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 60 }),
        fc.boolean(),
        (chunks, jit) => {
          const whole = makeMachine(jit);
          setup(whole);
          const total = chunks.reduce((x, y) => x + y, 0);
          whole.cpu.run(total);
          const split = makeMachine(jit);
          setup(split);
          let done = 0;
          for (const c of chunks) {
            // A branch and its delay slot may exceed a budget by one; continue from the real count.
            const left = total - done;
            if (left <= 0) break;
            split.cpu.run(Math.min(c, left));
            done = split.cpu.stats.instructions + split.cpu.stats.exceptions[0]!;
          }
          // A branch and its delay slot may exceed a budget by one: bring both to the same count.
          for (let k = 0; k < 4; k++) {
            const wi = whole.cpu.stats.instructions;
            const si = split.cpu.stats.instructions;
            if (wi === si) break;
            if (wi < si) whole.cpu.run(si - wi);
            else split.cpu.run(wi - si);
          }
          expect(snapshot(split)).toEqual(snapshot(whole));
          if (total > 2000) expect(whole.cpu.gpr[22]).toBeGreaterThan(0); // the timer did fire
        },
      ),
      { numRuns: 40 },
    );
  });
});
