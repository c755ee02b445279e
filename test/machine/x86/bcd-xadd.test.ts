/**
 * XADD with one register as both operands and the BCD adjustments, against the Intel SDM
 * vol. 2 pseudo-code and the values qemu-system-i386 gives (found by the differential tests).
 * Raw encodings so the assembler is not part of what is checked.
 */
import { describe, expect, it } from "vitest";
import { StopReason } from "../../../src/machine/index.js";
import { AF, CF, OF, PF, SF, ZF } from "../../../src/machine/x86/flags.js";
import { machine } from "./harness.js";

const ARITH = OF | SF | ZF | AF | PF | CF;
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
/** mov eax, ax0; push flags; popfd; <code>; hlt — returns the CPU after hlt. */
function run(ax0: number, flags: number, code: number[], compiled = true) {
  const t = machine(new Uint8Array([0xb8, ...le32(ax0), 0x68, ...le32(flags | 2), 0x9d, ...code, 0xf4]));
  t.cpu.blockCompiler = compiled;
  expect(t.run()).toBe(StopReason.Idle);
  return t.cpu;
}

describe("x86 XADD with the same register (SDM: TEMP ← SRC + DEST; SRC ← DEST; DEST ← TEMP)", () => {
  for (const compiled of [false, true]) {
    const how = compiled ? "compiled" : "interpreted";
    it(`xadd esi, esi leaves the sum (${how})`, () => {
      // mov esi, 0x107fff; xadd esi, esi
      const cpu = run(0, 0, [0xbe, ...le32(0x107fff), 0x0f, 0xc1, 0xf6], compiled);
      expect(cpu.regs[6]! >>> 0).toBe(0x20fffe);
    });
    it(`xadd al, al and xadd cx, cx leave the sum (${how})`, () => {
      // mov ecx, 0x12348001; xadd al, al; xadd cx, cx
      const cpu = run(
        0x55,
        0,
        [0xb9, ...le32(0x12348001), 0x0f, 0xc0, 0xc0, 0x66, 0x0f, 0xc1, 0xc9],
        compiled,
      );
      expect(cpu.regs[0]! & 0xff).toBe(0xaa);
      expect(cpu.regs[1]! >>> 0).toBe(0x12340002);
      expect(cpu.getEflags() & (CF | OF)).toBe(CF | OF); // 0x8001 + 0x8001 (16-bit)
    });
    it(`xadd eax, ecx still exchanges distinct registers (${how})`, () => {
      const cpu = run(10, 0, [0xb9, ...le32(5), 0x0f, 0xc1, 0xc8], compiled);
      expect([cpu.regs[0], cpu.regs[1]]).toEqual([15, 10]);
    });
  }
});

describe("x86 ASCII adjust (SDM AAA: AX ← AX + 106H; AAS: AX ← AX – 6; AH ← AH – 1)", () => {
  it("AAS with AX = 0, AF = 1 borrows from AH: 0xFE0A (QEMU), CF = AF = 1", () => {
    const cpu = run(0, AF, [0x3f]);
    expect(cpu.regs[0]! & 0xffff).toBe(0xfe0a);
    expect(cpu.getEflags() & (CF | AF)).toBe(CF | AF);
  });
  it("AAS without adjustment clears CF and AF and the high nibble of AL", () => {
    const cpu = run(0x0135, 0, [0x3f]);
    expect(cpu.regs[0]! & 0xffff).toBe(0x0105);
    expect(cpu.getEflags() & (CF | AF)).toBe(0);
  });
  it("AAS with AL = 0x0B (no AF): AX 0x020B → 0x0105", () => {
    const cpu = run(0x020b, 0, [0x3f]);
    expect(cpu.regs[0]! & 0xffff).toBe(0x0105);
    expect(cpu.getEflags() & (CF | AF)).toBe(CF | AF);
  });
  it("AAA with AL = 0xFA carries into AH through AX: 0x00FA → 0x0200", () => {
    const cpu = run(0x00fa, 0, [0x37]);
    expect(cpu.regs[0]! & 0xffff).toBe(0x0200);
    expect(cpu.getEflags() & (CF | AF)).toBe(CF | AF);
  });
});

describe("x86 decimal adjust (SDM DAS: CF ← old_CF or borrow from AL ← AL − 6)", () => {
  it("DAS with AL = 2, AF = 1: AL 0xFC and CF set by the borrow (QEMU flags 0x97)", () => {
    const cpu = run(0x02, AF, [0x2f]);
    expect(cpu.regs[0]! & 0xff).toBe(0xfc);
    expect(cpu.getEflags() & (ARITH | 2)).toBe(0x97);
  });
  it("DAS with AL = 0x9A: both adjustments, CF and AF set", () => {
    const cpu = run(0x9a, 0, [0x2f]);
    expect(cpu.regs[0]! & 0xff).toBe(0x34);
    expect(cpu.getEflags() & (CF | AF)).toBe(CF | AF);
  });
  it("DAA with AL = 0x9A: AL 0x00, CF = AF = 1, ZF", () => {
    const cpu = run(0x9a, 0, [0x27]);
    expect(cpu.regs[0]! & 0xff).toBe(0x00);
    expect(cpu.getEflags() & (CF | AF | ZF)).toBe(CF | AF | ZF);
  });
  it("DAA with AL = 0x05, AF = 1: AL 0x0B, CF stays clear (no carry out of AL + 6)", () => {
    const cpu = run(0x05, AF, [0x27]);
    expect(cpu.regs[0]! & 0xff).toBe(0x0b);
    expect(cpu.getEflags() & (CF | AF)).toBe(AF);
  });
});
