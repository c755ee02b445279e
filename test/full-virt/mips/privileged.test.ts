/**
 * Privileged-instruction emulation: every CP0 register written and read back through the
 * virtual CP0 must give exactly what the real CP0 gives natively (same masks and side effects),
 * on both Disco paths — the interpreted kseg0 path and direct execution of a ksseg (relinked)
 * program whose MTC0/MFC0 trap as Coprocessor Unusable in supervisor mode.
 */
import { describe, expect, it } from "vitest";
import { bootKernel, makeMachine } from "../../machine/mips/machine.js";
import { type Asm, loadAsm, newAsm, readPhys, testBed } from "./harness.js";

const W = [0xffffffff, 0, 0x12345678, 0xa5a5a5a5];
/** [reg, sel, values]: Status keeps kernel mode (EXL/ERL or KSU = 0) so the program goes on. */
const REGS: [number, number, number[]][] = [
  [0, 0, W], // Index
  [2, 0, W], // EntryLo0
  [3, 0, W], // EntryLo1
  [4, 0, W], // Context
  [5, 0, [0xffffffff, 0, 0x00006000, 0x01ffe000, 0x12345678]], // PageMask
  [6, 0, [0xffffffff, 3, 0]], // Wired (and Random after it)
  [8, 0, W], // BadVAddr (read-only)
  [10, 0, W], // EntryHi
  [11, 0, W], // Compare
  [12, 0, [0xffffffff, 0, 0x1040ff07, 0x00000006, 0]], // Status
  [13, 0, W], // Cause
  [14, 0, W], // EPC
  [15, 0, W], // PRId (read-only)
  [16, 0, W], // Config (K0 writable)
  [16, 1, W], // Config1 (read-only)
  [17, 0, W], // LLAddr (read-only)
  [30, 0, W], // ErrorEPC
  [7, 0, W], // unimplemented: reads 0
];

function program(base: number): Asm {
  const a = newAsm(base + 0x1000);
  a.li("k1", 0xbfd00000);
  a.li("s0", base + 0x2000);
  a.mtc0("zero", 12);
  for (const [reg, sel, values] of REGS) {
    for (const v of values) {
      a.li("t0", v);
      a.mtc0("t0", reg, sel);
      a.mfc0("t1", reg, sel);
      a.sw("t1", 0, "s0");
      a.addiu("s0", "s0", 4);
      if (reg === 6) {
        a.mfc0("t1", 1); // Random right after a Wired write
        a.sw("t1", 0, "s0");
        a.addiu("s0", "s0", 4);
      }
    }
  }
  a.mtc0("zero", 12);
  a.addiu("k0", "zero", 0x7f).sb("k0", 0x501, "k1").label("spin").b("spin").nop();
  return a;
}

const COUNT = REGS.reduce((n, [reg, , v]) => n + v.length * (reg === 6 ? 2 : 1), 0);

function nativeResults(): number[] {
  const m = makeMachine(true);
  m.load(program(0x80000000));
  bootKernel(m, 0x80001000, 0);
  m.cpu.run(100_000);
  expect(m.stop.exitCode).toBe(0x7f);
  return Array.from({ length: COUNT }, (_, i) => m.memory.read32(0x2000 + 4 * i) >>> 0);
}

function discoResults(base: number): { values: number[]; stats: ReturnType<typeof testBed>["machine"] } & {
  privileged: number;
  interpreted: number;
  direct: number;
} {
  const bed = testBed();
  const d = bed.domain("cp0");
  loadAsm(d.vcpu, program(base));
  d.vcpu.reset(base + 0x1000, base === 0xc0000000);
  bed.run(20_000_000);
  expect(d.crash).toBeNull();
  expect(d.exitValue).toBe(0x7f);
  const s = d.vcpu.stats;
  return {
    values: Array.from({ length: COUNT }, (_, i) => readPhys(d.vcpu, 0x2000 + 4 * i)),
    stats: bed.machine,
    privileged: s.counts[4]!,
    interpreted: s.counts[1]!,
    direct: s.counts[0]!,
  };
}

describe("privileged instruction emulation (virtual CP0)", () => {
  const native = nativeResults();

  it("the native results are the CP0 masks (sanity: Wired masks to 15, BadVAddr read-only)", () => {
    expect(native.length).toBe(COUNT);
    // Wired 0xffffffff → 15 (4-bit field), Random then 15.
    const wiredAt = REGS.slice(0, 5).reduce((n, [, , v]) => n + v.length, 0);
    expect(native[wiredAt]).toBe(15);
    expect(native[wiredAt + 1]).toBe(15);
  });

  it("interpreted kseg0 path: every register reads back exactly as natively", () => {
    const r = discoResults(0x80000000);
    expect(r.values).toEqual(native);
    expect(r.interpreted).toBeGreaterThan(0);
    expect(r.direct).toBe(0);
  });

  it("direct ksseg path: MTC0/MFC0 trap (CpU) and are emulated with the same results", () => {
    const r = discoResults(0xc0000000);
    expect(r.values).toEqual(native);
    expect(r.direct).toBeGreaterThan(0);
    // Every mtc0/mfc0 went through the monitor: one of each per value, a Random read after each
    // Wired write (3, no mtc0), and two more Status writes.
    expect(r.privileged).toBe(2 * COUNT - 1);
  });
});
