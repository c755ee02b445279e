/**
 * One test per privilege rule (SDM Vol. 3A chapters 5 and 6): each shows the fault and its
 * error code, with the CPU in monitor mode (interceptExceptions) so the faulting instruction's
 * state is observable unchanged, or the delivered frame when the IDT is used.
 */
import { describe, expect, it } from "vitest";
import { StopReason } from "../../../src/machine/index.js";
import { IF, IOPL_MASK } from "../../../src/machine/x86/flags.js";
import { CS, DS, SS, Vector } from "../../../src/machine/x86/index.js";
import { asm } from "./asm.js";
import {
  CODE,
  GATE_TARGET,
  HANDLERS,
  IDT,
  machine,
  RING0_STACK,
  SEL,
  setRing,
  type TestMachine,
  withSystemTables,
} from "./harness.js";

const EAX = 0;
const EBX = 3;
const ESP = 4;

function sys(src: string, ring: 0 | 1 | 3 = 3, intercept = true): TestMachine {
  const t = machine(`${src}\nhlt`);
  withSystemTables(t);
  setRing(t, ring);
  t.cpu.interceptExceptions = intercept;
  return t;
}

/** Runs and expects a trap `vector` with `error` at the instruction `faultAt` (index of line). */
function expectFault(
  t: TestMachine,
  vector: number,
  error: number | null,
  src?: string,
  line?: number,
): void {
  expect(t.run()).toBe(StopReason.Trap);
  expect(t.cpu.trap.vector).toBe(vector);
  if (error === null) expect(t.cpu.trap.hasErrorCode).toBe(false);
  else {
    expect(t.cpu.trap.hasErrorCode).toBe(true);
    expect(t.cpu.trap.errorCode).toBe(error);
  }
  if (src !== undefined && line !== undefined) {
    const before = src.split(";").slice(0, line).join(";");
    expect(t.cpu.eip).toBe(CODE + (before.trim() === "" ? 0 : asm(before).length));
  }
}

describe("x86 privileged instructions (#GP(0) at CPL > 0)", () => {
  for (const [name, src] of [
    ["HLT", "hlt"],
    ["MOV CR0, r32", "mov eax, 0x11; mov cr0, eax"],
    ["MOV r32, CR3", "mov eax, cr3"],
    ["LGDT", "lgdt [0x3000]"],
    ["LIDT", "lidt [0x3000]"],
    ["LLDT", "mov ax, 0x60; lldt ax"],
    ["LTR", "mov ax, 0x28; ltr ax"],
    ["LMSW", "mov ax, 1; lmsw ax"],
    ["CLTS", "clts"],
    ["INVLPG", "invlpg byte [0x3000]"],
    ["MOV DR7, r32", "mov dr7, eax"],
    ["WBINVD", "wbinvd"],
  ] as const) {
    it(`${name} at CPL 3 → #GP(0)`, () => {
      const t = sys(src, 3);
      expectFault(t, Vector.GP, 0, src, src.split(";").length - 1);
    });
  }
  it("LGDT at CPL 1 → #GP(0) too (CPL 0 only)", () => {
    expectFault(sys("lgdt [0x3000]", 1), Vector.GP, 0);
  });
});

describe("x86 IOPL-sensitive instructions", () => {
  it("CLI/STI at CPL 3 with IOPL 0 → #GP(0); allowed when IOPL = 3", () => {
    expectFault(sys("cli", 3), Vector.GP, 0);
    expectFault(sys("sti", 3), Vector.GP, 0);
    const t = sys("sti; mov eax, 1; cli", 3);
    t.cpu.setEflags(3 << 12);
    expect(t.run()).toBe(StopReason.Trap); // the final hlt is privileged
    expect(t.cpu.regs[EAX]).toBe(1);
    expect(t.cpu.getEflags() & IF).toBe(0);
  });
  it("IN/OUT at CPL > IOPL consult the TSS I/O bitmap: denied port → #GP(0)", () => {
    expectFault(sys("mov dx, 0x3f8; in al, dx", 3), Vector.GP, 0, "mov dx, 0x3f8; in al, dx", 1);
    expectFault(sys("out 0x70, al", 3), Vector.GP, 0);
  });
  it("IN/OUT to a port the bitmap allows succeed at CPL 3; a word access needs both bits", () => {
    const t = sys("mov al, 5; out 0x80, al; in al, 0x81; mov dx, 0x87; in ax, dx", 3);
    const seen: number[] = [];
    t.ports.register(0x80, 9, {
      name: "probe",
      read: (p) => p,
      write: (p, _s, v) => seen.push(p, v),
    });
    expect(t.run()).toBe(StopReason.Trap);
    expect(seen).toEqual([0x80, 5]);
    // Port 0x88 is denied, so the 16-bit read of 0x87-0x88 faults.
    expect(t.cpu.trap.vector).toBe(Vector.GP);
    expect(t.cpu.regs[EAX]! & 0xff).toBe(0x81);
  });
  it("INS/OUTS are checked like IN/OUT", () => {
    expectFault(sys("mov dx, 0x60; mov edi, 0x3000; insb", 3), Vector.GP, 0);
  });
});

describe("x86 sensitive unprivileged instructions (Robin & Irvine) do not trap", () => {
  it("POPF at CPL 3 silently keeps IF and IOPL", () => {
    const t = sys("push 0x3202; popf; pushf; pop ebx", 3);
    expect(t.run()).toBe(StopReason.Trap); // hlt
    expect(t.cpu.trap.vector).toBe(Vector.GP);
    expect(t.cpu.regs[EBX]! & (IF | IOPL_MASK)).toBe(0);
  });
  it("POPF at CPL 1 with IOPL 1 changes IF but not IOPL", () => {
    const t = sys("push 0x3202; popf", 1);
    t.cpu.setEflags(1 << 12);
    t.run();
    expect(t.cpu.getEflags() & (IF | IOPL_MASK)).toBe(IF | (1 << 12));
  });
  it("POPF at CPL 0 changes both", () => {
    const t = sys("push 0x3202; popf; mov eax, 1", 0);
    t.run(3);
    expect(t.cpu.getEflags() & (IF | IOPL_MASK)).toBe(IF | IOPL_MASK);
  });
  it("SGDT/SIDT/SMSW/STR/SLDT at CPL 3 reveal the real values", () => {
    const t = sys("sgdt [0x3000]; sidt [0x3010]; smsw eax; str bx; sldt cx", 3);
    t.run();
    expect(t.memory.read16(0x3000)).toBe(0x7f);
    expect(t.memory.read32(0x3002)).toBe(0x10000);
    expect(t.memory.read32(0x3012)).toBe(IDT);
    expect(t.cpu.regs[EAX]! & 1).toBe(1);
    expect(t.cpu.regs[EBX]! & 0xffff).toBe(SEL.tss);
  });
  it("PUSH CS and MOV r/m, SS expose the RPL = CPL", () => {
    const t = sys("push cs; pop eax; mov ebx, ss", 3);
    t.run();
    expect(t.cpu.regs[EAX]! & 3).toBe(3);
    expect(t.cpu.regs[EBX]! & 0xffff).toBe(SEL.data3);
  });
  it("LAR/LSL/VERR/VERW: visible descriptors set ZF, hidden ones clear it", () => {
    const t = sys(
      "mov ecx, 0x1b; lar eax, ecx; setz dl; lsl edi, ecx; mov ecx, 0x10; lar esi, ecx; setz dh; mov cx, 0x23; verw cx; setz bl; mov cx, 0x1b; verw cx; setz bh; verr cx; setz cl",
      3,
    );
    t.run();
    const r = t.cpu.regs;
    expect(r[EAX]!).toBe(0x00c0fa00); // G, D, P, DPL 3, code exec/read (not yet accessed)
    expect(r[7]! >>> 0).toBe(0xffffffff); // LSL: byte limit with granularity applied
    expect(r[2]! & 0xffff).toBe(0x0001); // dl = 1 (LAR ok), dh = 0 (DPL 0 not visible at CPL 3)
    expect(r[EBX]! & 0xffff).toBe(0x0001); // VERW: writable DPL 3 data yes, code no
    expect(r[1]! & 0xff).toBe(1); // VERR on readable code
  });
});

describe("x86 segment register loads", () => {
  it("MOV DS with a DPL 0 data selector at CPL 3 → #GP(selector)", () => {
    expectFault(sys("mov ax, 0x10; mov ds, ax", 3), Vector.GP, 0x10, "mov ax, 0x10; mov ds, ax", 1);
  });
  it("MOV SS with RPL != CPL → #GP(selector)", () => {
    expectFault(sys("mov ax, 0x23; mov ss, ax", 0), Vector.GP, 0x20);
  });
  it("MOV SS with a read-only data segment → #GP(selector)", () => {
    expectFault(sys("mov ax, 0x58; mov ss, ax", 0), Vector.GP, 0x58);
  });
  it("not-present data segment → #NP(selector); not-present stack → #SS(selector)", () => {
    expectFault(sys("mov ax, 0x50; mov es, ax", 0), Vector.NP, 0x50);
  });
  it("selector beyond the GDT limit → #GP(selector without RPL)", () => {
    expectFault(sys("mov ax, 0x83; mov fs, ax", 3), Vector.GP, 0x80);
  });
  it("execute-only code into DS → #GP(selector); readable code is fine", () => {
    expectFault(sys("mov ax, 0x68; mov ds, ax", 0), Vector.GP, 0x68);
    const t = sys("mov ax, 0x08; mov ds, ax; mov eax, dword [0x1000]", 0);
    t.run();
    expect(t.cpu.getSegment(DS).selector).toBe(8);
  });
  it("a null DS loads, and using it → #GP(0)", () => {
    const src = "mov ax, 0; mov ds, ax; mov eax, dword [0x3000]";
    expectFault(sys(src, 0), Vector.GP, 0, src, 2);
  });
  it("writing through a read-only data segment → #GP(0)", () => {
    const src = "mov ax, 0x58; mov es, ax; mov dword es:[0x3000], 1";
    expectFault(sys(src, 0), Vector.GP, 0, src, 2);
  });
  it("LDT selectors resolve through LDTR; the Accessed bit is set on load", () => {
    const t = sys("mov ax, 0x60; lldt ax; mov ax, 0x07; mov ds, ax; mov eax, dword [0x3000]", 0);
    t.memory.write32(0x3000, 42);
    t.run();
    expect(t.cpu.regs[EAX]).toBe(42);
    expect(t.memory.read32(0x14004) & 0x100).toBe(0x100);
  });
  it("a stack-limit violation → #SS(0)", () => {
    const t = sys("push eax", 0);
    t.cpu.setSegment(SS, { selector: 0x10, base: 0, limit: 0xfff, attr: 0x4093, valid: true });
    t.cpu.regs[ESP] = 0x2000;
    expectFault(t, Vector.SS, 0);
  });
});

describe("x86 control transfers across rings", () => {
  it("far JMP to a conforming DPL 0 segment keeps CPL 3", () => {
    const t = sys("jmp far 0x48:0x1010; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop", 3);
    t.memory.write8(0x1010, 0xf4);
    expectFault(t, Vector.GP, 0);
    expect(t.cpu.getSegment(CS).selector).toBe(0x4b);
    expect(t.cpu.cpl).toBe(3);
  });
  it("far JMP to non-conforming code of another ring → #GP(selector)", () => {
    expectFault(sys("jmp far 0x08:0x2000", 3), Vector.GP, 0x08);
  });
  it("far CALL through a DPL 3 call gate switches to the TSS ring-0 stack and copies a parameter", () => {
    const t = sys("push 0x77; call far 0x43:0", 3);
    t.memory.writeBytes(GATE_TARGET, asm("mov eax, dword [esp+8]; hlt", GATE_TARGET));
    t.cpu.interceptExceptions = false;
    expect(t.run()).toBe(StopReason.Idle);
    expect(t.cpu.cpl).toBe(0);
    expect(t.cpu.regs[EAX]).toBe(0x77);
    const sp = t.cpu.regs[ESP]!;
    expect(sp).toBe(RING0_STACK - 16 - 4 + 0);
    // Frame (SDM Figure 5-13): old SS, old ESP, parameter, old CS, old EIP.
    expect(t.memory.read32(sp + 16)).toBe(SEL.data3);
    expect(t.memory.read32(sp + 12)).toBe(0x40000 - 4);
    expect(t.memory.read32(sp + 8)).toBe(0x77);
    expect(t.memory.read32(sp + 4)).toBe(SEL.code3);
    expect(t.memory.read32(sp)).toBe(CODE + asm("push 0x77; call far 0x43:0").length);
    expect(t.cpu.getSegment(SS).selector).toBe(SEL.data0);
  });
  it("an invalid ring-0 stack in the TSS → #TS(SS0 selector), nothing pushed", () => {
    const t = sys("push 0x77; call far 0x43:0", 3);
    t.memory.write32(0x11000 + 8, SEL.data3); // SS0 = 0x23: RPL 3 != 0
    expectFault(t, Vector.TS, 0x20);
    expect(t.cpu.cpl).toBe(3);
    expect(t.cpu.regs[ESP]).toBe(0x40000 - 4);
  });
  it("INT n through a not-present gate → #NP(vector*8 + 2), delivered with its error code", () => {
    const t = sys("int 0x30", 0, false);
    t.memory.write8(IDT + 0x30 * 8 + 5, t.memory.read8(IDT + 0x30 * 8 + 5) & 0x7f);
    t.run();
    expect(t.cpu.eip).toBe(HANDLERS + 16 * Vector.NP + 1);
    expect(t.memory.read32(t.cpu.regs[ESP]!)).toBe(0x30 * 8 + 2);
    expect(t.memory.read32(t.cpu.regs[ESP]! + 4)).toBe(CODE);
  });
  it("far CALL through a DPL 0 call gate at CPL 3 → #GP(gate selector)", () => {
    expectFault(sys("call far 0x70:0", 3), Vector.GP, 0x70);
  });
  it("far RET to ring 3 restores SS:ESP and nulls DS if its DPL < CPL", () => {
    const t = sys("push 0x23; push 0x3ff00; push 0x1b; push 0x1100; retf", 0);
    t.memory.write8(0x1100, 0xf4);
    expectFault(t, Vector.GP, 0);
    expect(t.cpu.cpl).toBe(3);
    expect(t.cpu.regs[ESP]).toBe(0x3ff00);
    expect(t.cpu.getSegment(SS).selector).toBe(SEL.data3);
    expect(t.cpu.getSegment(DS).valid).toBe(false);
    expect(t.cpu.eip).toBe(0x1100);
  });
  it("far RET to an inner ring → #GP(selector)", () => {
    expectFault(sys("push 0x08; push 0x1100; retf", 3), Vector.GP, 0x08);
  });
});

describe("x86 interrupts and exceptions through the IDT", () => {
  it("INT 0x80 from ring 3 uses the TSS stack and pushes SS, ESP, EFLAGS, CS, EIP; IF cleared", () => {
    const t = sys("int 0x80", 3, false);
    t.cpu.setEflags(IF);
    expect(t.run()).toBe(StopReason.Idle);
    expect(t.cpu.eip).toBe(HANDLERS + 16 * 0x80 + 1);
    const sp = t.cpu.regs[ESP]!;
    expect(sp).toBe(RING0_STACK - 20);
    expect(t.memory.read32(sp)).toBe(CODE + 2);
    expect(t.memory.read32(sp + 4)).toBe(SEL.code3);
    expect(t.memory.read32(sp + 8) & IF).toBe(IF);
    expect(t.memory.read32(sp + 12)).toBe(0x40000);
    expect(t.memory.read32(sp + 16)).toBe(SEL.data3);
    expect(t.cpu.getEflags() & IF).toBe(0);
    expect(t.cpu.stats.exceptions[0x80]).toBe(1);
  });
  it("INT n through a gate with DPL < CPL → #GP(vector*8 + 2)", () => {
    const t = sys("int 0x10", 3, false);
    t.run();
    expect(t.cpu.eip).toBe(HANDLERS + 16 * Vector.GP + 1);
    expect(t.memory.read32(t.cpu.regs[ESP]!)).toBe(0x10 * 8 + 2);
    expect(t.memory.read32(t.cpu.regs[ESP]! + 4)).toBe(CODE);
  });
  it("IRET to ring 3 from the handler returns to user code and stack", () => {
    const t = sys("int 0x80; mov eax, 5; hlt", 3, false);
    t.memory.write8(HANDLERS + 16 * 0x80, 0xcf); // iret
    t.cpu.interceptExceptions = false;
    t.cpu.regs[ESP] = 0x40000;
    t.run();
    // The ring-3 hlt faults #GP → delivered to the handler for 13 (a hlt stub at ring 0).
    expect(t.cpu.regs[EAX]).toBe(5);
    expect(t.cpu.eip).toBe(HANDLERS + 16 * 13 + 1);
    expect(t.memory.read32(t.cpu.regs[ESP]!)).toBe(0); // error code 0
  });
  it("an exception with an error code pushes it; the saved EIP is the faulting instruction", () => {
    const src = "mov ax, 0x10; mov ds, ax";
    const t = sys(src, 3, false);
    t.run();
    const sp = t.cpu.regs[ESP]!;
    expect(t.memory.read32(sp)).toBe(0x10); // error code
    expect(t.memory.read32(sp + 4)).toBe(CODE + asm("mov ax, 0x10").length);
  });
  it("a fault while delivering a contributory fault becomes #DF (error code 0)", () => {
    const t = sys("mov ax, 0x10; mov ds, ax", 3, false);
    // #GP's gate not present → #NP while delivering #GP → double fault.
    t.memory.write8(IDT + 13 * 8 + 5, t.memory.read8(IDT + 13 * 8 + 5) & 0x7f);
    t.run();
    expect(t.cpu.eip).toBe(HANDLERS + 16 * 8 + 1);
    expect(t.memory.read32(t.cpu.regs[ESP]!)).toBe(0);
    expect(t.cpu.stats.exceptions[8]).toBe(1);
  });
  it("a fault while delivering #DF is a triple fault: the machine shuts down with a diagnostic", () => {
    const t = sys("mov ax, 0x10; mov ds, ax", 3, false);
    t.cpu.idtrLimit = 8 * 8 - 1; // vectors 8+ outside the IDT
    expect(t.run()).toBe(StopReason.Shutdown);
    expect(t.cpu.diagnostic).toMatch(/triple fault/);
  });
  it("external interrupts are taken at instruction boundaries when IF = 1, after the STI shadow", () => {
    const t = sys("sti; mov eax, 1; mov eax, 2; hlt", 0, false);
    let acks = 0;
    t.cpu.interruptController = {
      acknowledge: () => {
        acks++;
        t.cpu.setIntr(false);
        return 0x20;
      },
    };
    t.cpu.setIntr(true);
    t.run();
    expect(acks).toBe(1);
    // STI's shadow lets "mov eax, 1" run first; the interrupt then arrives before "mov eax, 2".
    expect(t.cpu.regs[EAX]).toBe(1);
    const sp = t.cpu.regs[ESP]!;
    expect(t.memory.read32(sp)).toBe(CODE + asm("sti; mov eax, 1").length);
  });
  it("in monitor mode an external interrupt is recorded, not delivered", () => {
    const t = sys("mov eax, 1", 0, true);
    t.cpu.setEflags(IF);
    t.cpu.interruptController = { acknowledge: () => 0x21 };
    t.cpu.setIntr(true);
    expect(t.run()).toBe(StopReason.Trap);
    expect(t.cpu.trap.kind).toBe("external");
    expect(t.cpu.trap.vector).toBe(0x21);
    expect(t.cpu.eip).toBe(CODE);
  });
  it("INT n in monitor mode stops with the INT's EIP and the next EIP", () => {
    const t = sys("mov eax, 1; int 0x80", 3, true);
    expect(t.run()).toBe(StopReason.Trap);
    expect(t.cpu.trap.kind).toBe("software");
    expect(t.cpu.trap.eip).toBe(CODE + 5);
    expect(t.cpu.trap.nextEip).toBe(CODE + 7);
    expect(t.cpu.eip).toBe(CODE + 5);
    expect(t.cpu.regs[EBX]).toBe(0);
  });
});
