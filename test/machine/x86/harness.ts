/**
 * Test machines for the i386 CPU: flat protected mode, code at 0x1000, stack below 0x90000,
 * and a GDT/IDT/TSS layout for the privilege tests (`withSystemTables`).
 */
import {
  PhysicalMemory,
  PortBus,
  SimClock,
  type StopReason,
  StopSignal,
} from "../../../src/machine/index.js";
import { makeDescriptor, makeGate, SysType } from "../../../src/machine/x86/descriptors.js";
import { CS, DS, ES, FS, GS, SS, TR, X86Cpu } from "../../../src/machine/x86/index.js";
import { asm } from "./asm.js";

export const CODE = 0x1000;
export const STACK_TOP = 0x90000;

export interface TestMachine {
  cpu: X86Cpu;
  memory: PhysicalMemory;
  ports: PortBus;
  clock: SimClock;
  stop: StopSignal;
  /** Runs until HLT (with IF = 0 the CPU reports Idle) or a trap; returns the stop reason. */
  run(max?: number): StopReason;
}

export function machine(source: string | Uint8Array, origin = CODE): TestMachine {
  const memory = new PhysicalMemory(4 << 20);
  const ports = new PortBus();
  const clock = new SimClock();
  const stop = new StopSignal();
  const cpu = new X86Cpu({ memory, ports, clock, stop });
  const code = typeof source === "string" ? asm(source, origin) : source;
  memory.writeBytes(origin, code);
  cpu.resetMultiboot(origin, 0);
  cpu.regs[4] = STACK_TOP;
  // Compile every block on first arrival, so short test programs exercise the compiler.
  cpu.compileThreshold = 0;
  return { cpu, memory, ports, clock, stop, run: (max = 1_000_000) => cpu.run(max) };
}

// GDT layout for the privilege tests.
export const GDT = 0x10000;
export const TSS = 0x11000;
export const LDT = 0x14000;
export const IDT = 0x15000;
export const SEL = {
  code0: 0x08,
  data0: 0x10,
  code3: 0x1b,
  data3: 0x23,
  tss: 0x28,
  code1: 0x31,
  data1: 0x39,
  gate3: 0x43, // call gate, DPL 3, to code0:GATE_TARGET
  conforming0: 0x48,
  notPresent: 0x50,
  readOnly0: 0x58,
  ldt: 0x60,
  execOnly0: 0x68,
  gate0: 0x70, // call gate, DPL 0
  ldtData: 0x04 | 3, // LDT entry 0, DPL 3
} as const;
export const GATE_TARGET = 0x5000;
export const RING0_STACK = 0x70000;
export const RING1_STACK = 0x60000;
/** Where the generic interrupt handlers live: vector v at HANDLERS + 16 * v ("hlt"). */
export const HANDLERS = 0x20000;

const CODE_ATTR = 0x9a | 0x4000; // P, S, code exec/read, D
const DATA_ATTR = 0x92 | 0x4000; // P, S, data read/write, B

function put(m: PhysicalMemory, addr: number, [lo, hi]: [number, number]): void {
  m.write32(addr, lo);
  m.write32(addr + 4, hi);
}

/**
 * Writes GDT, LDT, TSS (ESP0/SS0, ESP1/SS1, I/O bitmap denying all but ports 0x80-0x87) and an
 * IDT whose 256 interrupt gates (DPL 3 for vectors >= 0x20, DPL 0 below) point at `hlt` stubs,
 * then loads GDTR/IDTR/TR and the flat ring-0 caches.
 */
export function withSystemTables(t: TestMachine): void {
  const m = t.memory;
  const dpl = (d: number) => d << 5;
  put(m, GDT + 0x08, makeDescriptor(0, 0xffffffff, CODE_ATTR));
  put(m, GDT + 0x10, makeDescriptor(0, 0xffffffff, DATA_ATTR));
  put(m, GDT + 0x18, makeDescriptor(0, 0xffffffff, CODE_ATTR | dpl(3)));
  put(m, GDT + 0x20, makeDescriptor(0, 0xffffffff, DATA_ATTR | dpl(3)));
  put(m, GDT + 0x28, makeDescriptor(TSS, 0x68 + 8192, 0x80 | SysType.Tss32Avail));
  put(m, GDT + 0x30, makeDescriptor(0, 0xffffffff, CODE_ATTR | dpl(1)));
  put(m, GDT + 0x38, makeDescriptor(0, 0xffffffff, DATA_ATTR | dpl(1)));
  put(m, GDT + 0x40, makeGate(SEL.code0, GATE_TARGET, SysType.CallGate32, 3, 1));
  put(m, GDT + 0x48, makeDescriptor(0, 0xffffffff, CODE_ATTR | 0x04));
  put(m, GDT + 0x50, makeDescriptor(0, 0xffffffff, DATA_ATTR & ~0x80));
  put(m, GDT + 0x58, makeDescriptor(0, 0xffffffff, (DATA_ATTR & ~0x02) | 0));
  put(m, GDT + 0x60, makeDescriptor(LDT, 0xf, 0x80 | SysType.Ldt));
  put(m, GDT + 0x68, makeDescriptor(0, 0xffffffff, CODE_ATTR & ~0x02));
  put(m, GDT + 0x70, makeGate(SEL.code0, GATE_TARGET, SysType.CallGate32, 0, 0));
  put(m, LDT, makeDescriptor(0, 0xffffffff, DATA_ATTR | dpl(3)));
  // TSS: ESP0/SS0, ESP1/SS1, I/O map base at 0x68.
  m.write32(TSS + 4, RING0_STACK);
  m.write32(TSS + 8, SEL.data0);
  m.write32(TSS + 12, RING1_STACK);
  m.write32(TSS + 16, SEL.data1);
  m.write16(TSS + 0x66, 0x68);
  for (let i = 0; i < 8192; i++) m.write8(TSS + 0x68 + i, 0xff);
  m.write8(TSS + 0x68 + (0x80 >> 3), 0x00); // ports 0x80-0x87 allowed
  for (let v = 0; v < 256; v++) {
    put(m, IDT + v * 8, makeGate(SEL.code0, HANDLERS + 16 * v, SysType.IntGate32, v >= 0x20 ? 3 : 0));
    m.write8(HANDLERS + 16 * v, 0xf4); // hlt
  }
  const cpu = t.cpu;
  cpu.gdtrBase = GDT;
  cpu.gdtrLimit = 0x7f;
  cpu.idtrBase = IDT;
  cpu.idtrLimit = 256 * 8 - 1;
  setRing(t, 0);
  cpu.setSegment(TR, {
    selector: SEL.tss,
    base: TSS,
    limit: 0x68 + 8192,
    attr: 0x80 | SysType.Tss32Busy,
    valid: true,
  });
}

/** Loads CS/SS/DS/ES/FS/GS caches for ring 0, 1 or 3 from the test GDT (as a monitor would). */
export function setRing(t: TestMachine, ring: 0 | 1 | 3): void {
  const code = ring === 0 ? SEL.code0 : ring === 1 ? SEL.code1 : SEL.code3;
  const data = ring === 0 ? SEL.data0 : ring === 1 ? SEL.data1 : SEL.data3;
  const cpu = t.cpu;
  const attr = (a: number) => a | 0x8000 | 0x01 | (ring << 5);
  for (const s of [SS, DS, ES, FS, GS]) {
    cpu.setSegment(s, { selector: data, base: 0, limit: 0xffffffff, attr: attr(DATA_ATTR), valid: true });
  }
  cpu.setSegment(CS, { selector: code, base: 0, limit: 0xffffffff, attr: attr(CODE_ATTR), valid: true });
  if (ring === 1) cpu.regs[4] = 0x50000;
  if (ring === 3) cpu.regs[4] = 0x40000;
}

export { DS };
