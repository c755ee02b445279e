/**
 * A vCPU's register state while another vCPU has the one CPU: both x86 monitors (full and PV)
 * save and restore the same architectural state at a world switch; what each loads beside it
 * (its GDT/IDT base, its CR3, its interrupt line, EFLAGS adjustments) is its own.
 */
import type { x86 } from "../../machine/index.js";

export interface SavedCpu {
  readonly regs: Int32Array;
  eip: number;
  eflags: number;
  readonly segs: x86.SegmentCache[];
  halted: boolean;
}

export function newSavedCpu(): SavedCpu {
  return { regs: new Int32Array(8), eip: 0, eflags: 0x202, segs: [], halted: false };
}

/** Copies the CPU's general registers, EIP, EFLAGS, the 8 segment caches and HLT state into `s`. */
export function saveCpuState(cpu: x86.X86Cpu, s: SavedCpu): void {
  s.regs.set(cpu.regs);
  s.eip = cpu.eip;
  s.eflags = cpu.getEflags();
  s.segs.length = 0;
  for (let i = 0; i < 8; i++) s.segs.push(cpu.getSegment(i));
  s.halted = cpu.halted;
}

/** Loads `s` into the CPU, with `eflags` (the saved value, or the monitor's adjusted one). */
export function restoreCpuState(cpu: x86.X86Cpu, s: SavedCpu, eflags: number): void {
  cpu.regs.set(s.regs);
  cpu.eip = s.eip;
  cpu.setEflags(eflags);
  for (let i = 0; i < s.segs.length; i++) cpu.setSegment(i, s.segs[i]!);
  cpu.halted = s.halted;
}
