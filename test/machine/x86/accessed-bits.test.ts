/**
 * Accessed bits after control transfers that load CS and SS from two different descriptors
 * (SDM Vol. 3A §3.4.5: the processor sets the Accessed bit of the descriptor it loads). Each
 * transition reads the stack descriptor after the code descriptor; the CS Accessed bit must
 * land in the code descriptor, the SS one in the stack descriptor, and neither may change a
 * descriptor's type otherwise (a misdirected write would turn data into code).
 */
import { describe, expect, it } from "vitest";
import { StopReason } from "../../../src/machine/index.js";
import { SS, Vector } from "../../../src/machine/x86/index.js";
import { asm } from "./asm.js";
import { GATE_TARGET, GDT, machine, SEL, setRing, type TestMachine, withSystemTables } from "./harness.js";

/** High dword of GDT entry `sel`. */
const hi = (t: TestMachine, sel: number) => t.memory.read32(GDT + (sel & ~7) + 4);
/** Type field (bits 8-11 of the high dword). */
const type = (t: TestMachine, sel: number) => (hi(t, sel) >>> 8) & 0xf;

function sys(src: string, ring: 0 | 3): TestMachine {
  const t = machine(`${src}\nhlt`);
  withSystemTables(t);
  setRing(t, ring);
  // Start with every code/data descriptor not accessed.
  for (const sel of [SEL.code0, SEL.data0, SEL.code3, SEL.data3]) {
    t.memory.write32(GDT + sel + 4 - (sel & 7), hi(t, sel) & ~0x100);
  }
  return t;
}

function expectCodeAndStack(t: TestMachine, code: number, stack: number): void {
  expect(type(t, code)).toBe(0xb); // code, readable, accessed
  expect(type(t, stack)).toBe(0x3); // data, writable, accessed
}

describe("x86 Accessed bits after CS + SS loads", () => {
  it("IRET to ring 3 marks the code and the stack descriptors, each in its own slot", () => {
    const t = sys("push 0x23; push 0x3ff00; push 0x2; push 0x1b; push 0x1100; iret", 0);
    t.memory.write8(0x1100, 0xf4); // hlt at CPL 3 → #GP(0)
    t.cpu.interceptExceptions = true;
    expect(t.run()).toBe(StopReason.Trap);
    expect(t.cpu.trap.vector).toBe(Vector.GP);
    expect(t.cpu.cpl).toBe(3);
    expectCodeAndStack(t, SEL.code3, SEL.data3);
  });

  it("a second IRET to ring 3 still works (the stack descriptor stayed data)", () => {
    const src = "push 0x23; push 0x3ff00; push 0x2; push 0x1b; push 0x1100; iret";
    const t = sys(src, 0);
    // Ring 3: int 0x80 → ring-0 handler IRETs back to ring 3 at 0x1100 + 2 (hlt → #GP).
    t.memory.writeBytes(0x1100, asm("int 0x80; hlt", 0x1100));
    const handler = 0x20000 + 16 * 0x80;
    t.memory.write8(handler, 0xcf); // iret
    t.cpu.interceptExceptions = false;
    t.memory.write8(0x20000 + 16 * Vector.GP, 0xf4);
    t.run();
    // The ring-3 hlt faulted with #GP(0) (not #GP(SS selector) from a data slot turned code).
    expect(t.cpu.eip).toBe(0x20000 + 16 * Vector.GP + 1);
    expect(t.memory.read32(t.cpu.regs[4]!)).toBe(0);
    expect(t.memory.read32(t.cpu.regs[4]! + 4)).toBe(0x1102);
    expectCodeAndStack(t, SEL.code3, SEL.data3);
  });

  it("far RET to ring 3 marks the code and the stack descriptors", () => {
    const t = sys("push 0x23; push 0x3ff00; push 0x1b; push 0x1100; retf", 0);
    t.memory.write8(0x1100, 0xf4);
    t.cpu.interceptExceptions = true;
    expect(t.run()).toBe(StopReason.Trap);
    expect(t.cpu.cpl).toBe(3);
    expectCodeAndStack(t, SEL.code3, SEL.data3);
  });

  it("far CALL through a call gate to ring 0 marks the target code and the TSS stack descriptors", () => {
    const t = sys("call far 0x43:0", 3);
    t.memory.write8(GATE_TARGET, 0xf4);
    expect(t.run()).toBe(StopReason.Idle);
    expect(t.cpu.cpl).toBe(0);
    expect(t.cpu.getSegment(SS).selector).toBe(SEL.data0);
    expectCodeAndStack(t, SEL.code0, SEL.data0);
  });

  it("INT n from ring 3 (stack switch) marks the handler's code and the TSS stack descriptors", () => {
    const t = sys("int 0x80", 3);
    expect(t.run()).toBe(StopReason.Idle);
    expect(t.cpu.cpl).toBe(0);
    expectCodeAndStack(t, SEL.code0, SEL.data0);
  });
});
