import { describe, expect, it } from "vitest";
import { StopReason } from "../../../src/machine/index.js";
import { ExcCode } from "../../../src/machine/mips/index.js";
import { bootKernel, makeMachine, newAsm } from "./machine.js";

const BASE = 0x80001000;

/** Runs `build`'s program in kernel mode until BREAK (intercepted); returns the machine. */
function runProgram(build: (a: ReturnType<typeof newAsm>) => void, max = 100_000) {
  const m = makeMachine();
  const a = newAsm(BASE);
  build(a);
  a.break();
  m.load(a);
  bootKernel(m, BASE);
  m.cpu.interceptExceptions = true;
  const why = m.cpu.run(max);
  expect(why).toBe(StopReason.Trap);
  expect(m.cpu.trap.excCode).toBe(ExcCode.Bp);
  return m;
}

describe("MIPS ALU", () => {
  it("sums a counted loop", () => {
    const m = runProgram((a) =>
      a
        .addiu("t0", "zero", 1000)
        .addiu("v0", "zero", 0)
        .label("loop")
        .addu("v0", "v0", "t0")
        .addiu("t0", "t0", -1)
        .bnez("t0", "loop")
        .nop(),
    );
    expect(m.cpu.gpr[2]).toBe(500500);
    // 2 + 1000 × 4 instructions retired; BREAK itself does not retire.
    expect(m.cpu.stats.instructions).toBe(4002);
  });

  it("computes logic, shifts and comparisons", () => {
    const m = runProgram((a) =>
      a
        .li("t0", 0x8000_00f0)
        .li("t1", 0x0000_0f0f)
        .and("s0", "t0", "t1")
        .or("s1", "t0", "t1")
        .xor("s2", "t0", "t1")
        .nor("s3", "t0", "t1")
        .sra("s4", "t0", 4)
        .srl("s5", "t0", 4)
        .sll("s6", "t1", 28)
        .slt("s7", "t0", "t1")
        .sltu("t8", "t0", "t1")
        .sltiu("t9", "t1", -1)
        .lui("a0", 0xabcd)
        .ori("a0", "a0", 0x1234)
        .xori("a1", "a0", 0xffff)
        .andi("a2", "a0", 0xff00)
        .addiu("a3", "zero", 35)
        .srav("v0", "t0", "a3")
        .sllv("v1", "t1", "a3")
        .srlv("k0", "t0", "a3"),
    );
    const r = m.cpu.gpr;
    expect(r[16]! >>> 0).toBe(0x000000_00);
    expect(r[17]! >>> 0).toBe(0x80000fff);
    expect(r[18]! >>> 0).toBe(0x80000fff);
    expect(r[19]! >>> 0).toBe(0x7ffff000);
    expect(r[20]! >>> 0).toBe(0xf800000f);
    expect(r[21]! >>> 0).toBe(0x0800000f);
    expect(r[22]! >>> 0).toBe(0xf0000000);
    expect(r[23]).toBe(1);
    expect(r[24]).toBe(0);
    expect(r[25]).toBe(1);
    expect(r[4]! >>> 0).toBe(0xabcd1234);
    expect(r[5]! >>> 0).toBe(0xabcdedcb);
    expect(r[6]! >>> 0).toBe(0x1200);
    expect(r[2]! >>> 0).toBe(0xf000001e);
    expect(r[3]! >>> 0).toBe(0x7878);
    expect(r[26]! >>> 0).toBe(0x1000001e);
  });
});
