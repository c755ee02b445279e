/** Per-instruction-class tests, run on both the compiled-block path and the interpreter. */
import { describe, expect, it } from "vitest";
import { StopReason } from "../../../src/machine/index.js";
import { encode } from "./asm.js";
import { DONE, PATHS, runKernel, type TestMachine } from "./machine.js";

const u = (v: number | undefined) => (v ?? 0) >>> 0;
const DATA = 0x80010000;

describe.each(PATHS)("MIPS instructions ($name)", ({ jit }) => {
  const run = (body: Parameters<typeof runKernel>[0], setup?: (m: TestMachine) => void) => {
    const r = runKernel(body, { jit, ...(setup ? { setup } : {}) });
    expect(r.why).toBe(StopReason.Exit);
    expect(r.code).toBe(DONE);
    return r.m;
  };

  it("multiplies and divides into HI/LO", () => {
    const m = run((a) =>
      a
        .li("t0", 0xfffffffd) // -3
        .li("t1", 0x7fffffff)
        .mult("t0", "t1")
        .mfhi("s0")
        .mflo("s1")
        .multu("t0", "t1")
        .mfhi("s2")
        .mflo("s3")
        .addiu("t2", "zero", -7)
        .addiu("t3", "zero", 2)
        .div("t2", "t3")
        .mflo("s4")
        .mfhi("s5")
        .divu("t2", "t3")
        .mflo("s6")
        .mfhi("s7")
        .mul("t8", "t0", "t1")
        .mthi("t3")
        .mtlo("t2")
        .mfhi("a0")
        .mflo("a1"),
    );
    const r = m.cpu.gpr;
    // -3 * 0x7fffffff = -0x17ffffffd → hi 0xfffffffe, lo 0x80000003
    expect(u(r[16])).toBe(0xfffffffe);
    expect(u(r[17])).toBe(0x80000003);
    // 0xfffffffd * 0x7fffffff = 0x7ffffffd_80000003
    expect(u(r[18])).toBe(0x7ffffffd);
    expect(u(r[19])).toBe(0x80000003);
    expect(r[20]).toBe(-3);
    expect(r[21]).toBe(-1);
    expect(u(r[22])).toBe(0x7ffffffc);
    expect(r[23]).toBe(1);
    expect(u(r[24])).toBe(0x80000003);
    expect(r[4]).toBe(2);
    expect(r[5]).toBe(-7);
  });

  it("accumulates with MADD/MADDU/MSUB/MSUBU", () => {
    const m = run((a) =>
      a
        .li("t0", 0x10000)
        .li("t1", 0x30000)
        .mtlo("zero")
        .mthi("zero")
        .madd("t0", "t1") // + 0x3_00000000
        .madd("t0", "t1") // + 0x3_00000000
        .mfhi("s0")
        .mflo("s1")
        .addiu("t2", "zero", -1)
        .addiu("t3", "zero", 1)
        .msub("t2", "t3") // - (-1) → +1
        .mfhi("s2")
        .mflo("s3")
        .maddu("t2", "t3") // + 0xffffffff
        .mfhi("s4")
        .mflo("s5")
        .msubu("t2", "t2") // - 0xfffffffe_00000001
        .mfhi("s6")
        .mflo("s7"),
    );
    const r = m.cpu.gpr;
    expect([u(r[16]), u(r[17])]).toEqual([6, 0]);
    expect([u(r[18]), u(r[19])]).toEqual([6, 1]);
    expect([u(r[20]), u(r[21])]).toEqual([7, 0]);
    // 0x7_00000000 - 0xfffffffe_00000001 = 0x8_00000008_ffffffff mod 2^64 → 0x00000008_ffffffff
    expect([u(r[22]), u(r[23])]).toEqual([0x00000008, 0xffffffff]);
  });

  it("counts leading zeros/ones and moves conditionally", () => {
    const m = run((a) =>
      a
        .li("t0", 0x00f00000)
        .clz("s0", "t0")
        .clo("s1", "t0")
        .li("t1", 0xff000000)
        .clo("s2", "t1")
        .clz("s3", "zero")
        .addiu("s4", "zero", 11)
        .addiu("s5", "zero", 22)
        .movz("s4", "t0", "zero") // rt == 0 → move
        .movn("s5", "t0", "zero") // rt == 0 → no move
        .movn("s6", "t1", "t0"),
    );
    const r = m.cpu.gpr;
    expect(r[16]).toBe(8);
    expect(r[17]).toBe(0);
    expect(r[18]).toBe(8);
    expect(r[19]).toBe(32);
    expect(u(r[20])).toBe(0x00f00000);
    expect(r[21]).toBe(22);
    expect(u(r[22])).toBe(0xff000000);
  });

  it("never writes $zero", () => {
    const m = run((a) => a.addiu("zero", "zero", 5).lui("zero", 1).addu("s0", "zero", "zero"));
    expect(m.cpu.gpr[0]).toBe(0);
    expect(m.cpu.gpr[16]).toBe(0);
  });

  it("runs branch delay slots and links past them", () => {
    const m = run((a) =>
      a
        .addiu("s0", "zero", 0)
        .b("l1")
        .addiu("s0", "s0", 1) // delay slot: executed
        .addiu("s0", "s0", 100) // skipped
        .label("l1")
        .jal("fn")
        .addiu("s1", "zero", 7) // delay slot of jal
        .label("after")
        .addiu("s3", "zero", 1)
        .b("out")
        .nop()
        .label("fn")
        .move("s2", "ra")
        .jr("ra")
        .addiu("s1", "s1", 1) // delay slot of jr
        .label("out")
        .bltzal("zero", "never") // not taken but links
        .nop()
        .move("s4", "ra")
        .bgezal("zero", "taken")
        .nop()
        .label("never")
        .addiu("s5", "zero", 99)
        .label("taken")
        .move("s6", "ra"),
    );
    const r = m.cpu.gpr;
    expect(r[16]).toBe(1);
    expect(r[17]).toBe(8);
    expect(r[19]).toBe(1);
    // ra after jal = address of the instruction after the delay slot ("after")
    expect(u(r[18])).toBe(0x80001000 + 4 * 8);
    expect(r[21]).toBe(0);
    expect(u(r[20])).toBe(u(r[22]) - 12);
  });

  it("annuls the delay slot of a not-taken branch-likely", () => {
    const m = run((a) =>
      a
        .addiu("t0", "zero", 1)
        .addiu("s0", "zero", 0)
        .beql("t0", "zero", "x") // not taken: slot annulled
        .addiu("s0", "s0", 1)
        .bnel("t0", "zero", "x") // taken: slot executed
        .addiu("s0", "s0", 10)
        .addiu("s0", "s0", 1000)
        .label("x")
        .bgtzl("zero", "y")
        .addiu("s0", "s0", 100)
        .blezl("zero", "y")
        .addiu("s0", "s0", 10000)
        .label("y")
        .bltzl("t0", "z")
        .addiu("s0", "s0", 200000)
        .bgezl("t0", "z")
        .addiu("s1", "zero", 3)
        .label("z")
        .bltzall("zero", "w")
        .addiu("s2", "zero", 1)
        .label("w"),
    );
    const r = m.cpu.gpr;
    expect(r[16]).toBe(10010);
    expect(r[17]).toBe(3);
    expect(r[18]).toBe(0);
  });

  it("jumps through registers with JALR rd", () => {
    const m = run((a) =>
      a
        .lui("t0", 0x8000)
        .ori("t0", "t0", 0x1000 + 4 * 7)
        .jalr("s0", "t0")
        .nop()
        .addiu("s1", "zero", 1) // skipped
        .addiu("s1", "zero", 2) // skipped
        .addiu("s1", "zero", 3) // target (index 7 from BASE incl. 2-word li prologue)
        .addiu("s2", "zero", 4),
    );
    expect(u(m.cpu.gpr[16])).toBe(0x80001000 + 4 * 6);
    expect(m.cpu.gpr[17]).toBe(3);
    expect(m.cpu.gpr[18]).toBe(4);
  });

  it("loads and stores bytes, halfwords and words with sign/zero extension", () => {
    const m = run(
      (a) =>
        a
          .li("t0", DATA)
          .lw("s0", 0, "t0")
          .lh("s1", 2, "t0")
          .lhu("s2", 2, "t0")
          .lb("s3", 3, "t0")
          .lbu("s4", 3, "t0")
          .li("t1", 0x11223344)
          .sw("t1", 8, "t0")
          .sh("t1", 12, "t0")
          .sb("t1", 15, "t0")
          .lw("s5", 12, "t0"),
      (mm) => mm.memory.write32(DATA & 0x1fffffff, 0x8081c2d3),
    );
    const r = m.cpu.gpr;
    expect(u(r[16])).toBe(0x8081c2d3);
    expect(r[17]).toBe(0x8081 - 0x10000);
    expect(r[18]).toBe(0x8081);
    expect(r[19]).toBe(-128);
    expect(r[20]).toBe(0x80);
    expect(m.memory.read32((DATA + 8) & 0x1fffffff)).toBe(0x11223344);
    expect(u(r[21])).toBe(0x44003344);
  });

  it("implements LWL/LWR/SWL/SWR for every byte offset (little endian)", () => {
    // Memory 0x80010000: bytes 00 11 22 33 44 55 66 77
    const m = run(
      (a) => {
        a.li("t0", DATA).li("t9", 0xaabbccdd);
        for (let k = 0; k < 4; k++) {
          a.move(`s${k}`, "t9").lwl(`s${k}`, k, "t0");
          a.move(`a${k}`, "t9").lwr(`a${k}`, k, "t0");
        }
        // Classic unaligned load of the word at DATA+1 = 0x44332211.
        a.lwr("v0", 1, "t0").lwl("v0", 4, "t0");
        // Unaligned store of t9 at DATA+0x21.
        a.swr("t9", 0x21, "t0").swl("t9", 0x24, "t0");
        for (let k = 0; k < 4; k++) {
          a.swl("t9", 0x40 + 8 * k + k, "t0");
          a.swr("t9", 0x80 + 8 * k + k, "t0");
        }
      },
      (mm) => {
        mm.memory.write32(DATA & 0x1fffffff, 0x33221100);
        mm.memory.write32((DATA + 4) & 0x1fffffff, 0x77665544);
      },
    );
    const r = m.cpu.gpr;
    expect([u(r[16]), u(r[17]), u(r[18]), u(r[19])]).toEqual([
      0x00bbccdd, 0x1100ccdd, 0x221100dd, 0x33221100,
    ]);
    expect([u(r[4]), u(r[5]), u(r[6]), u(r[7])]).toEqual([0x33221100, 0xaa332211, 0xaabb3322, 0xaabbcc33]);
    expect(u(r[2])).toBe(0x44332211);
    const pa = DATA & 0x1fffffff;
    expect(m.memory.read32(pa + 0x20)).toBe(0xbbccdd00);
    expect(m.memory.read32(pa + 0x24)).toBe(0x000000aa);
    expect([0, 1, 2, 3].map((k) => m.memory.read32(pa + 0x40 + 8 * k))).toEqual([
      0x000000aa, 0x0000aabb, 0x00aabbcc, 0xaabbccdd,
    ]);
    expect([0, 1, 2, 3].map((k) => m.memory.read32(pa + 0x80 + 8 * k))).toEqual([
      0xaabbccdd, 0xbbccdd00, 0xccdd0000, 0xdd000000,
    ]);
  });

  it("LL/SC succeed once per LL and fail after ERET clears LLbit", () => {
    const m = run((a) =>
      a
        .li("t0", DATA)
        .addiu("t1", "zero", 5)
        .ll("s0", 0, "t0")
        .addiu("s0", "s0", 1)
        .sc("s0", 0, "t0") // success: s0 = 1
        .addiu("s1", "zero", 9)
        .sc("s1", 0, "t0") // no LL since: fails, s1 = 0
        .lw("s2", 0, "t0")
        .ll("s3", 0, "t0")
        // ERET (ERL = 0, EXL = 0) returns to EPC; set EPC to the instruction after ERET.
        .li("t2", 0x80001000 + 4 * 16)
        .mtc0("t2", 14)
        .eret()
        .sc("t1", 0, "t0") // fails: ERET cleared LLbit
        .move("s4", "t1")
        .lw("s5", 0, "t0"),
    );
    const r = m.cpu.gpr;
    expect(r[16]).toBe(1);
    expect(r[17]).toBe(0);
    expect(r[18]).toBe(1);
    expect(r[20]).toBe(0);
    expect(r[21]).toBe(1);
    expect(m.cpu.cp0.read(17, 0)).toBe((DATA & 0x1fffffff) >>> 4);
  });

  it("runs code stored by the program itself (compiled code is invalidated)", () => {
    const m = run(
      (a) =>
        a
          .addiu("t2", "zero", 2)
          .label("site")
          .addiu("s0", "s0", 1) // rewritten after the first pass to addiu s0,s0,100
          .li("t0", a.addr("site"))
          .li("t1", encode("addiu", ["s0", "s0", 100], 0))
          .sw("t1", 0, "t0")
          .addiu("t2", "t2", -1)
          .bnez("t2", "site")
          .nop()
          // Rewrite an instruction further down the same straight-line code.
          .label("self")
          .li("t0", a.addr("self") + 24)
          .li("t1", encode("addiu", ["s1", "zero", 42], 0))
          .sw("t1", 0, "t0")
          .nop()
          .addiu("s1", "zero", 1), // self + 24: replaced by addiu s1,zero,42 before it runs
    );
    expect(m.cpu.gpr[16]).toBe(101);
    expect(m.cpu.gpr[17]).toBe(42);
  });

  it("treats SYNC, PREF and CACHE (kernel) as no-ops", () => {
    const m = run((a) => a.sync().pref(0, 0, "zero").cache(0x14, 0, "zero").addiu("s0", "zero", 1));
    expect(m.cpu.gpr[16]).toBe(1);
  });
});
