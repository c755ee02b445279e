/**
 * A bare MIPS machine for the tests: RAM, the mipssim physical bus, an exit port at 0x501, and
 * exception-vector stubs that stop the machine with a code telling which vector was taken.
 */
import {
  PhysicalMemory,
  PortBus,
  SimClock,
  type StopReason,
  StopSignal,
} from "../../../src/machine/index.js";
import { MipsCpu, MipsPhysBus } from "../../../src/machine/mips/index.js";
import { type Asm, newAsm } from "./asm.js";

export const RAM_SIZE = 1 << 20;
/** Where test programs start (kseg0). */
export const BASE = 0x80001000;
/** Exit codes written by the vector stubs. */
export const VEC = {
  refill: 1,
  general: 2,
  interrupt: 3,
  bevRefill: 4,
  bevGeneral: 5,
  bevInterrupt: 6,
} as const;
/** Exit code of a program that ran to its end. */
export const DONE = 0x7f;

export interface TestMachine {
  cpu: MipsCpu;
  memory: PhysicalMemory;
  ports: PortBus;
  clock: SimClock;
  stop: StopSignal;
  bus: MipsPhysBus;
  /** Writes an assembled program at its base (kseg0/kseg1 address → physical by masking). */
  load(a: Asm): void;
}

/** Exit-port stub: writing v stops the machine with exit code v. */
function exitPort(stop: StopSignal) {
  return {
    name: "exit",
    read: () => 0,
    write: (_p: number, _s: number, v: number) => stop.request(v & 0xff),
  };
}

export function makeMachine(compileBlocks = true): TestMachine {
  const memory = new PhysicalMemory(RAM_SIZE);
  const ports = new PortBus();
  const clock = new SimClock();
  const stop = new StopSignal();
  const bus = new MipsPhysBus(memory, ports);
  ports.register(0x501, 1, exitPort(stop));
  const cpu = new MipsCpu({ memory, bus, clock, stop, compileBlocks });
  const m: TestMachine = {
    cpu,
    memory,
    ports,
    clock,
    stop,
    bus,
    load(a: Asm) {
      const pa = a.base & 0x1fffffff;
      if (pa >= 0x1fc00000) bus.loadRom(a.bytes(), pa - 0x1fc00000);
      else memory.writeBytes(pa, a.bytes());
    },
  };
  // Vector stubs: k1 must hold 0xBFD00000 (the ISA window in kseg1) when an exception is taken.
  const stub = (addr: number, code: number) => {
    const a = newAsm(addr);
    a.addiu("k0", "zero", code).sb("k0", 0x501, "k1").label("spin").b("spin").nop();
    m.load(a);
  };
  stub(0x80000000, VEC.refill);
  stub(0x80000180, VEC.general);
  stub(0x80000200, VEC.interrupt);
  stub(0xbfc00200, VEC.bevRefill);
  stub(0xbfc00380, VEC.bevGeneral);
  stub(0xbfc00400, VEC.bevInterrupt);
  return m;
}

/** Kernel-mode start at `entry` with the given Status (default 0: BEV and ERL cleared). */
export function bootKernel(m: TestMachine, entry: number, status = 0): void {
  m.cpu.reset(entry);
  m.cpu.cp0.write(12, 0, status);
}

export interface RunResult {
  m: TestMachine;
  why: StopReason;
  /** Exit code (a VEC value, DONE, or whatever the program wrote). */
  code: number;
}

/**
 * Assembles a program at BASE (prologue: k1 = 0xBFD00000; epilogue: exit with DONE), boots it
 * in kernel mode with `status`, runs it and returns the machine and exit code.
 */
export function runKernel(
  body: (a: Asm) => void,
  opts: { jit?: boolean; status?: number; max?: number; setup?: (m: TestMachine) => void } = {},
): RunResult {
  const m = makeMachine(opts.jit ?? true);
  const a = newAsm(BASE);
  a.li("k1", 0xbfd00000);
  body(a);
  a.addiu("k0", "zero", DONE).sb("k0", 0x501, "k1").label("__end").b("__end").nop();
  m.load(a);
  bootKernel(m, BASE, opts.status ?? 0);
  opts.setup?.(m);
  const why = m.cpu.run(opts.max ?? 1_000_000);
  return { m, why, code: m.stop.exitCode };
}

/** Both execution paths, for `describe.each`. */
export const PATHS = [
  { name: "compiled blocks", jit: true },
  { name: "interpreter", jit: false },
] as const;

export { newAsm };
