import { describe, expect, it } from "vitest";
import { StopReason } from "../../../src/machine/index.js";
import { AF, CF, DF, OF, PF, SF, ZF } from "../../../src/machine/x86/flags.js";
import { Vector } from "../../../src/machine/x86/index.js";
import { asm } from "./asm.js";
import { CODE, machine, STACK_TOP } from "./harness.js";

const EAX = 0;
const ECX = 1;
const EDX = 2;
const EBX = 3;
const ESP = 4;
const EBP = 5;
const ESI = 6;
const EDI = 7;
const ARITH = OF | SF | ZF | AF | PF | CF;

/** Runs `src` (ending in hlt) and returns the CPU. */
function exec(src: string) {
  const t = machine(`${src}\nhlt`);
  const r = t.run();
  expect(r, "program should end at hlt").toBe(StopReason.Idle);
  return t;
}
const u = (v: number) => v >>> 0;
const flags = (t: ReturnType<typeof exec>, mask = ARITH) => t.cpu.getEflags() & mask;

describe("x86 ALU flags", () => {
  it("ADD: signed overflow, auxiliary carry, parity", () => {
    const t = exec("mov eax, 0x7fffffff; mov ebx, 1; add eax, ebx");
    expect(u(t.cpu.regs[EAX]!)).toBe(0x80000000);
    expect(flags(t)).toBe(OF | SF | AF | PF);
  });
  it("ADD 8-bit: carry and overflow out of bit 7, zero result", () => {
    const t = exec("mov al, 0x80; mov bl, 0x80; add al, bl");
    expect(t.cpu.regs[EAX]! & 0xff).toBe(0);
    expect(flags(t)).toBe(CF | OF | ZF | PF);
  });
  it("SUB: borrow, sign, no overflow", () => {
    const t = exec("mov eax, 0; sub eax, 1");
    expect(u(t.cpu.regs[EAX]!)).toBe(0xffffffff);
    expect(flags(t)).toBe(CF | SF | AF | PF);
  });
  it("SUB overflow: 0x80000000 - 1", () => {
    const t = exec("mov eax, 0x80000000; sub eax, 1");
    expect(flags(t)).toBe(OF | AF | PF);
  });
  it("ADC and SBB use the carry in", () => {
    const t = exec("stc; mov eax, 0xffffffff; mov ebx, 0; adc eax, ebx; mov ecx, 5; stc; sbb ecx, 2");
    expect(t.cpu.regs[EAX]).toBe(0);
    expect(t.cpu.regs[ECX]).toBe(2);
    const t2 = exec("stc; mov eax, 0xffffffff; adc eax, 0");
    expect(flags(t2, CF | ZF)).toBe(CF | ZF);
    const t3 = exec("stc; mov eax, 0; sbb eax, 0");
    expect(u(t3.cpu.regs[EAX]!)).toBe(0xffffffff);
    expect(flags(t3, CF | SF | ZF)).toBe(CF | SF);
  });
  it("CMP sets flags without writing; INC/DEC keep CF", () => {
    const t = exec("mov eax, 3; cmp eax, 5; stc; mov ebx, 0xffffffff; inc ebx");
    expect(t.cpu.regs[EAX]).toBe(3);
    expect(t.cpu.regs[EBX]).toBe(0);
    expect(flags(t, CF | ZF | OF)).toBe(CF | ZF);
    const t2 = exec("clc; mov ebx, 0x80000000; dec ebx");
    expect(flags(t2, CF | OF | SF)).toBe(OF);
  });
  it("logic ops clear CF and OF", () => {
    const t = exec("stc; mov eax, 0xf0; xor eax, 0x0f");
    expect(t.cpu.regs[EAX]).toBe(0xff);
    expect(flags(t, CF | OF | ZF | PF | SF)).toBe(PF);
    const t2 = exec("mov eax, 0x80000000; test eax, eax");
    expect(flags(t2, CF | OF | ZF | SF)).toBe(SF);
  });
  it("NEG: CF = (operand != 0)", () => {
    const t = exec("mov eax, 5; neg eax");
    expect(t.cpu.regs[EAX]).toBe(-5);
    expect(flags(t, CF | SF | ZF)).toBe(CF | SF);
    const t2 = exec("mov eax, 0; neg eax");
    expect(flags(t2, CF | ZF)).toBe(ZF);
  });
  it("LAHF/SAHF move SF ZF AF PF CF through AH", () => {
    const t = exec("mov eax, 0; sub eax, 1; lahf; mov ebx, eax; mov ah, 0x41; sahf");
    expect((t.cpu.regs[EBX]! >> 8) & 0xff).toBe(SF | AF | PF | CF | 2);
    expect(flags(t, SF | ZF | AF | PF | CF)).toBe(ZF | CF);
  });
});

describe("x86 shifts and rotates", () => {
  it("a count of 0 leaves every flag alone", () => {
    const t = exec("mov eax, 0; sub eax, 1; mov ecx, 0; mov ebx, 0x40000000; shl ebx, cl");
    expect(t.cpu.regs[EBX]).toBe(0x40000000);
    expect(flags(t)).toBe(CF | SF | AF | PF);
  });
  it("the count is masked to 5 bits (shl by 33 = shl by 1)", () => {
    const t = exec("mov ecx, 33; mov eax, 0x80000001; shl eax, cl");
    expect(t.cpu.regs[EAX]).toBe(2);
    expect(flags(t, CF | ZF)).toBe(CF);
  });
  it("SHL by 1 sets OF = MSB xor CF; SHR by 1 sets OF = old MSB", () => {
    const t = exec("mov eax, 0x40000000; shl eax, 1");
    expect(flags(t, CF | OF | SF)).toBe(OF | SF);
    const t2 = exec("mov eax, 0x80000001; shr eax, 1");
    expect(t2.cpu.regs[EAX]).toBe(0x40000000);
    expect(flags(t2, CF | OF)).toBe(CF | OF);
  });
  it("8-bit shifts by >= 8 empty the register", () => {
    const t = exec("mov ecx, 9; mov al, 0xff; shr al, cl; mov bl, 0xff; shl bl, cl");
    expect(t.cpu.regs[EAX]! & 0xff).toBe(0);
    expect(t.cpu.regs[EBX]! & 0xff).toBe(0);
    expect(flags(t, ZF)).toBe(ZF);
  });
  it("SAR keeps the sign and shifts the last bit into CF", () => {
    const t = exec("mov eax, 0xfffffff1; sar eax, 4");
    expect(t.cpu.regs[EAX]).toBe(-1);
    expect(flags(t, CF | SF | OF)).toBe(SF);
  });
  it("ROL/ROR set CF from the rotated bit", () => {
    const t = exec("mov eax, 0x80000001; rol eax, 1");
    expect(t.cpu.regs[EAX]).toBe(3);
    expect(flags(t, CF | OF)).toBe(CF | OF);
    const t2 = exec("mov al, 0x01; ror al, 1");
    expect(t2.cpu.regs[EAX]! & 0xff).toBe(0x80);
    expect(flags(t2, CF | OF)).toBe(CF | OF);
  });
  it("RCL/RCR rotate through CF (8-bit count modulo 9)", () => {
    const t = exec("stc; mov al, 0x80; rcl al, 1");
    expect(t.cpu.regs[EAX]! & 0xff).toBe(0x01);
    expect(flags(t, CF)).toBe(CF);
    const t2 = exec("clc; mov al, 0x01; mov ecx, 9; rcr al, cl");
    expect(t2.cpu.regs[EAX]! & 0xff).toBe(0x01);
    const t3 = exec("stc; mov eax, 1; rcr eax, 1");
    expect(u(t3.cpu.regs[EAX]!)).toBe(0x80000000);
    expect(flags(t3, CF)).toBe(CF);
  });
  it("SHLD/SHRD shift in bits of the second operand", () => {
    const t = exec(
      "mov eax, 0x12345678; mov ebx, 0x9abcdef0; shld eax, ebx, 8; mov ecx, 0x12345678; mov edx, 0x9abcdef0; shrd ecx, edx, 8",
    );
    expect(u(t.cpu.regs[EAX]!)).toBe(0x3456789a);
    expect(u(t.cpu.regs[ECX]!)).toBe(0xf0123456);
  });
});

describe("x86 multiply and divide", () => {
  it("MUL r32: EDX:EAX and CF=OF when the high half is used", () => {
    const t = exec("mov eax, 0xffffffff; mov ebx, 0xffffffff; mul ebx");
    expect(u(t.cpu.regs[EAX]!)).toBe(1);
    expect(u(t.cpu.regs[EDX]!)).toBe(0xfffffffe);
    expect(flags(t, CF | OF)).toBe(CF | OF);
    const t2 = exec("mov eax, 3; mov ebx, 4; mul ebx");
    expect(t2.cpu.regs[EDX]).toBe(0);
    expect(flags(t2, CF | OF)).toBe(0);
  });
  it("IMUL one operand: signed EDX:EAX", () => {
    const t = exec("mov eax, -3; mov ebx, 0x7fffffff; imul ebx");
    expect(u(t.cpu.regs[EAX]!)).toBe(0x80000003);
    expect(t.cpu.regs[EDX]).toBe(-2);
    expect(flags(t, CF | OF)).toBe(CF | OF);
  });
  it("IMUL two and three operands: truncation sets CF=OF", () => {
    const t = exec("mov eax, 0x10000; imul eax, eax");
    expect(t.cpu.regs[EAX]).toBe(0);
    expect(flags(t, CF | OF)).toBe(CF | OF);
    const t2 = exec("mov ebx, -7; imul eax, ebx, 6");
    expect(t2.cpu.regs[EAX]).toBe(-42);
    expect(flags(t2, CF | OF)).toBe(0);
    const t3 = exec("mov bx, 0x4000; imul ax, bx, 2");
    expect(t3.cpu.regs[EAX]! & 0xffff).toBe(0x8000);
    expect(flags(t3, CF | OF)).toBe(CF | OF);
  });
  it("MUL r8 writes AX", () => {
    const t = exec("mov al, 200; mov bl, 2; mul bl");
    expect(t.cpu.regs[EAX]! & 0xffff).toBe(400);
    expect(flags(t, CF | OF)).toBe(CF | OF);
  });
  it("DIV and IDIV: quotient and remainder, truncation toward zero", () => {
    const t = exec("mov edx, 1; mov eax, 0; mov ebx, 3; div ebx");
    expect(t.cpu.regs[EAX]).toBe(Math.floor(0x100000000 / 3));
    expect(t.cpu.regs[EDX]).toBe(0x100000000 % 3);
    const t2 = exec("mov eax, -7; cdq; mov ebx, 2; idiv ebx");
    expect(t2.cpu.regs[EAX]).toBe(-3);
    expect(t2.cpu.regs[EDX]).toBe(-1);
    const t3 = exec("mov edx, 0xffffffff; mov eax, 0; mov ebx, 0x80000000; idiv ebx");
    expect(t3.cpu.regs[EAX]).toBe(2); // -2^32 / -2^31
    expect(t3.cpu.regs[EDX]).toBe(0);
  });
  it("divide by zero and quotient overflow raise #DE with the instruction restartable", () => {
    for (const src of [
      "mov ebx, 0; div ebx",
      "mov edx, 2; mov eax, 0; mov ebx, 2; div ebx",
      "mov eax, 0x80000000; cdq; mov ebx, -1; idiv ebx",
      "mov ax, 0x1000; mov bl, 2; div bl",
    ]) {
      const t = machine(`${src}\nhlt`);
      t.cpu.interceptExceptions = true;
      expect(t.run()).toBe(StopReason.Trap);
      expect(t.cpu.trap.vector).toBe(Vector.DE);
      expect(t.cpu.trap.hasErrorCode).toBe(false);
      const divLen = 2;
      expect(t.cpu.eip).toBe(CODE + asm(src).length - divLen);
    }
  });
});

describe("x86 string instructions", () => {
  it("REP MOVSD copies forward; with DF=1 backward", () => {
    const t = machine("mov esi, 0x3000; mov edi, 0x4000; mov ecx, 4; cld; rep movsd; hlt");
    for (let i = 0; i < 4; i++) t.memory.write32(0x3000 + 4 * i, 0x11111111 * (i + 1));
    t.run();
    for (let i = 0; i < 4; i++) expect(t.memory.read32(0x4000 + 4 * i)).toBe(0x11111111 * (i + 1));
    expect(t.cpu.regs[ESI]).toBe(0x3010);
    expect(t.cpu.regs[ECX]).toBe(0);
    const b = machine("mov esi, 0x300c; mov edi, 0x400c; mov ecx, 4; std; rep movsd; hlt");
    for (let i = 0; i < 4; i++) b.memory.write32(0x3000 + 4 * i, i + 1);
    b.run();
    for (let i = 0; i < 4; i++) expect(b.memory.read32(0x4000 + 4 * i)).toBe(i + 1);
    expect(b.cpu.regs[EDI]).toBe(0x3ffc);
    expect(b.cpu.getEflags() & DF).toBe(DF);
  });
  it("REPNE SCASB stops at the match; REPE CMPSB stops at the first difference", () => {
    const t = machine("mov edi, 0x3000; mov al, 0x7a; mov ecx, 100; cld; repne scasb; hlt");
    t.memory.writeBytes(0x3000, new TextEncoder().encode("hello z"));
    t.run();
    expect(t.cpu.regs[EDI]).toBe(0x3007);
    expect(t.cpu.regs[ECX]).toBe(93);
    expect(t.cpu.getEflags() & ZF).toBe(ZF);
    const c = machine("mov esi, 0x3000; mov edi, 0x3100; mov ecx, 8; cld; repe cmpsb; hlt");
    c.memory.writeBytes(0x3000, new TextEncoder().encode("abcdXfgh"));
    c.memory.writeBytes(0x3100, new TextEncoder().encode("abcdYfgh"));
    c.run();
    expect(c.cpu.regs[ESI]).toBe(0x3005);
    expect(c.cpu.regs[ECX]).toBe(3);
    expect(c.cpu.getEflags() & (ZF | CF)).toBe(CF);
  });
  it("STOSB/LODSD with DF=1, and REP with ECX=0 does nothing", () => {
    const t = exec(
      "mov edi, 0x3003; mov al, 0xaa; mov ecx, 4; std; rep stosb; mov esi, 0x3000; cld; lodsd; mov ecx, 0; mov edi, 0x5000; rep stosb",
    );
    expect(u(t.cpu.regs[EAX]!)).toBe(0xaaaaaaaa);
    expect(t.cpu.regs[EDI]).toBe(0x5000);
    expect(t.memory.read8(0x5000)).toBe(0);
  });
  it("prefixes combine: operand size + REP, segment override on the source", () => {
    const t = machine("mov edi, 0x3000; mov eax, 0x1234abcd; mov ecx, 3; cld; rep stosw; hlt");
    t.run();
    expect(t.memory.read16(0x3000)).toBe(0xabcd);
    expect(t.memory.read16(0x3004)).toBe(0xabcd);
    expect(t.memory.read16(0x3006)).toBe(0);
    expect(t.cpu.regs[EDI]).toBe(0x3006);
    // FS with base 0x2000: fs:[ebx] reads linear 0x2000 + ebx.
    const f = machine(
      "mov ebx, 0x10; mov eax, dword fs:[ebx]; mov esi, 0; mov edi, 0x3800; mov ecx, 1; rep movsd; hlt",
    );
    f.memory.write32(0x2010, 0xcafef00d);
    f.cpu.setSegment(4, { selector: 0x10, base: 0x2000, limit: 0xffff, attr: 0x4093, valid: true });
    f.run();
    expect(u(f.cpu.regs[EAX]!)).toBe(0xcafef00d);
  });
  it("address-size prefix: 16-bit addressing [bx+si]", () => {
    // 67 8B 00 = mov eax, [bx+si] with 16-bit addressing (SDM Table 2-1, rm=000).
    const t = machine(asm("mov ebx, 0x12340100; mov esi, 0x20; db 0x67, 0x8b, 0x00; hlt"));
    t.memory.write32(0x120, 0x5a5a5a5a);
    t.run();
    expect(u(t.cpu.regs[EAX]!)).toBe(0x5a5a5a5a);
  });
});

describe("x86 data movement and bit operations", () => {
  it("MOVZX/MOVSX, CBW/CWDE/CWD/CDQ", () => {
    const t = exec(
      "mov ebx, 0x80f0; movzx eax, bl; movsx ecx, bl; movsx edx, bx; mov esi, 0xff80; mov edi, 0",
    );
    expect(t.cpu.regs[EAX]).toBe(0xf0);
    expect(t.cpu.regs[ECX]).toBe(-16);
    expect(t.cpu.regs[EDX]).toBe(-0x7f10);
    const c = exec("mov eax, 0x8000; cwde; mov ebx, eax; mov eax, 0x80; cbw; mov ecx, eax; mov eax, -5; cdq");
    expect(c.cpu.regs[EBX]).toBe(-0x8000);
    expect(c.cpu.regs[ECX]! & 0xffff).toBe(0xff80);
    expect(c.cpu.regs[EDX]).toBe(-1);
  });
  it("BT/BTS/BTR/BTC with a register offset reach beyond the dword in memory", () => {
    const t = exec(
      "mov ebx, 0x3000; mov ecx, 35; bts dword [ebx], ecx; mov eax, 0; bt dword [ebx], ecx; setc al; mov ecx, -1; btc dword [ebx], ecx",
    );
    expect(t.memory.read32(0x3004)).toBe(8);
    expect(t.cpu.regs[EAX]).toBe(1);
    expect(t.memory.read32(0x3000 - 4)).toBe(0x80000000);
    const r = exec("mov eax, 0xff; btr eax, 3; mov ebx, 0; setc bl");
    expect(r.cpu.regs[EAX]).toBe(0xf7);
    expect(r.cpu.regs[EBX]).toBe(1);
  });
  it("BSF/BSR find bits; a zero source sets ZF and leaves the destination", () => {
    const t = exec("mov ebx, 0x00f00000; bsf eax, ebx; bsr ecx, ebx; mov edx, 77; mov esi, 0; bsf edx, esi");
    expect(t.cpu.regs[EAX]).toBe(20);
    expect(t.cpu.regs[ECX]).toBe(23);
    expect(t.cpu.regs[EDX]).toBe(77);
    expect(flags(t, ZF)).toBe(ZF);
  });
  it("XCHG, XADD, CMPXCHG, CMPXCHG8B, BSWAP", () => {
    const t = exec(
      "mov eax, 1; mov ebx, 2; xchg eax, ebx; mov ecx, 10; mov edx, 5; xadd ecx, edx; mov esi, 0x12345678; bswap esi",
    );
    expect([t.cpu.regs[EAX], t.cpu.regs[EBX], t.cpu.regs[ECX], t.cpu.regs[EDX]]).toEqual([2, 1, 15, 10]);
    expect(t.cpu.regs[ESI]).toBe(0x78563412);
    const c = exec(
      "mov dword [0x3000], 7; mov eax, 7; mov ebx, 9; cmpxchg dword [0x3000], ebx; mov ecx, 0; setz cl; cmpxchg dword [0x3000], ebx",
    );
    expect(c.memory.read32(0x3000)).toBe(9);
    expect(c.cpu.regs[ECX]).toBe(1);
    expect(c.cpu.regs[EAX]).toBe(9);
    const q = exec(
      "mov dword [0x3000], 1; mov dword [0x3004], 2; mov eax, 1; mov edx, 2; mov ebx, 3; mov ecx, 4; cmpxchg8b qword [0x3000]",
    );
    expect([q.memory.read32(0x3000), q.memory.read32(0x3004)]).toEqual([3, 4]);
    expect(flags(q, ZF)).toBe(ZF);
  });
  it("PUSHA/POPA, ENTER/LEAVE, PUSH imm, POP r/m", () => {
    const t = exec(
      "mov eax, 1; mov ecx, 2; mov ebp, 6; pusha; mov eax, 0; mov ecx, 0; popa; push 0x1234; pop dword [0x3000]",
    );
    expect([t.cpu.regs[EAX], t.cpu.regs[ECX], t.cpu.regs[EBP], t.cpu.regs[ESP]]).toEqual([
      1,
      2,
      6,
      STACK_TOP,
    ]);
    expect(t.memory.read32(0x3000)).toBe(0x1234);
    const e = exec("mov ebp, 0x1111; enter 16, 0; mov ebx, ebp; mov ecx, esp; leave");
    expect(e.cpu.regs[EBX]).toBe(STACK_TOP - 4);
    expect(e.cpu.regs[ECX]).toBe(STACK_TOP - 4 - 16);
    expect(e.cpu.regs[EBP]).toBe(0x1111);
    expect(e.cpu.regs[ESP]).toBe(STACK_TOP);
  });
  it("PUSHA stores the ESP from before the first push; POP r/m with an ESP base uses the new ESP", () => {
    const t = exec(
      "pusha; mov eax, dword [esp+12]; mov dword [0x3100], eax; popa; push 5; push 6; pop dword [esp]; pop ebx; mov ecx, 9; push ecx; mov edx, 0x3000; mov esi, 0; pop dword [edx+esi*4]",
    );
    expect(t.memory.read32(0x3100)).toBe(STACK_TOP);
    expect(t.cpu.regs[EBX]).toBe(6);
    expect(t.memory.read32(0x3000)).toBe(9);
    expect(t.cpu.regs[ESP]).toBe(STACK_TOP);
  });
  it("SETcc, Jcc, LOOP, JECXZ", () => {
    const t = exec(`
      mov eax, 0; mov ecx, 5
      top: add eax, ecx; loop top
      mov ebx, 0; mov edx, -1; cmp edx, 1; setl bl; setb bh
      jecxz out; mov eax, 0
      out: nop`);
    expect(t.cpu.regs[EAX]).toBe(15);
    expect(t.cpu.regs[EBX]! & 0xffff).toBe(0x0001);
  });
  it("CALL/RET with an immediate pops the arguments", () => {
    const t = exec(`
      push 7; call f; jmp done
      f: mov eax, dword [esp+4]; ret 4
      done: nop`);
    expect(t.cpu.regs[EAX]).toBe(7);
    expect(t.cpu.regs[ESP]).toBe(STACK_TOP);
  });
  it("CPUID reports GenuineIntel without an FPU; RDTSC follows simulated cycles", () => {
    const t = exec("mov eax, 0; cpuid; mov esi, ebx; mov eax, 1; cpuid; mov edi, edx; rdtsc");
    expect(t.cpu.regs[ESI]).toBe(0x756e6547);
    expect(t.cpu.regs[EDI]! & 1).toBe(0);
    expect(t.cpu.regs[EDI]! & 0x10).toBe(0x10);
    expect(t.cpu.regs[EAX]).toBeGreaterThan(0);
    expect(t.cpu.regs[EAX]).toBeLessThan(t.clock.cycles);
  });
  it("unknown and FPU opcodes raise #UD; UD2 too; NOP Ev is a no-op", () => {
    for (const bytes of [
      [0x0f, 0x0b],
      [0xd8, 0xc0],
      [0x0f, 0xff],
      [0x8e, 0xc8],
    ]) {
      const t = machine(new Uint8Array([...bytes, 0xf4]));
      t.cpu.interceptExceptions = true;
      expect(t.run()).toBe(StopReason.Trap);
      expect(t.cpu.trap.vector).toBe(Vector.UD);
      expect(t.cpu.trap.eip).toBe(CODE);
    }
    const n = machine(asm("nop dword [eax+eax*1+0x0]; hlt"));
    expect(n.run()).toBe(StopReason.Idle);
  });
});
