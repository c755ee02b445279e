/** Builds a bare MIPS CPU with RAM, a port bus and a clock for the tests. */
import { PhysicalMemory, PortBus, SimClock, StopSignal } from "../../../src/machine/index.js";
import { MipsCpu, MipsPhysBus } from "../../../src/machine/mips/index.js";
import { type Asm, newAsm } from "./asm.js";

export const RAM_SIZE = 1 << 20;

export interface TestMachine {
  cpu: MipsCpu;
  memory: PhysicalMemory;
  ports: PortBus;
  clock: SimClock;
  stop: StopSignal;
  bus: MipsPhysBus;
  /** Writes an assembled program at its base (a kseg0/kseg1 address → physical by masking). */
  load(a: Asm): void;
}

export function makeMachine(): TestMachine {
  const memory = new PhysicalMemory(RAM_SIZE);
  const ports = new PortBus();
  const clock = new SimClock();
  const stop = new StopSignal();
  const bus = new MipsPhysBus(memory, ports);
  const cpu = new MipsCpu({ memory, bus, clock, stop });
  return {
    cpu,
    memory,
    ports,
    clock,
    stop,
    bus,
    load(a: Asm) {
      memory.writeBytes(a.base & 0x1fffffff, a.bytes());
    },
  };
}

/** Kernel-mode start: Status = 0 (ERL/BEV cleared), as a typical kernel sets it. */
export function bootKernel(m: TestMachine, entry: number): void {
  m.cpu.reset(entry);
  m.cpu.cp0.write(12, 0, 0);
}

export { newAsm };
