/**
 * Raw ring-0 code snippets run natively (PcBoard) and fully virtualized (the monitor) from the
 * same guest-physical image: a GDT at 0x8000 (null, ring-0 code 0x08 / data 0x10, ring-3 code
 * 0x1B / data 0x23, TSS 0x28 at 0xA000, LDT 0x30 at 0xB000, 3 entries), an empty IDT at 0x9000, code at 0x1000, stack below
 * 0x20000. A snippet ends by writing AL to the exit port (`exit()` below).
 */
import { PcBoard } from "../../../src/machine/boards/index.js";
import { x86 } from "../../../src/machine/index.js";
import { makeMachine, type TestDomain, type TestMachine } from "./harness.js";

export const CODE = 0x1000;
export const GDT = 0x8000;
export const IDT = 0x9000;
export const TSS = 0xa000;
export const STACK = 0x20000;
export const GDT_WORDS = [
  0,
  0,
  0x0000ffff,
  0x00cf9a00,
  0x0000ffff,
  0x00cf9200,
  0x0000ffff,
  0x00cffa00,
  0x0000ffff,
  0x00cff200,
  ...x86.makeDescriptor(TSS, 103, x86.ATTR_P | x86.SysType.Tss32Avail),
  ...x86.makeDescriptor(0xb000, 0x17, x86.ATTR_P | x86.SysType.Ldt),
];

/** mov dx, 0x501; out dx, al */
export const exit = (): number[] => [0x66, 0xba, 0x01, 0x05, 0xee];
export const le32 = (v: number): number[] => [
  v & 0xff,
  (v >>> 8) & 0xff,
  (v >>> 16) & 0xff,
  (v >>> 24) & 0xff,
];

export interface Image {
  /** Guest-physical address → bytes. */
  readonly chunks: [number, number[]][];
}

function baseImage(code: number[], extra: [number, number[]][]): [number, number[]][] {
  const gdt: number[] = [];
  for (const w of GDT_WORDS) gdt.push(...le32(w));
  // TSS: ESP0 = STACK, SS0 = 0x10.
  return [[GDT, gdt], [TSS, [...le32(0), ...le32(STACK), ...le32(0x10)]], [CODE, code], ...extra];
}

export interface RunResult {
  readonly regs: number[];
  readonly eflags: number;
  readonly exit: number | null;
  /** Guest-physical bytes read back after the run. */
  peek(pa: number, n: number): number[];
}

export function runNative(
  code: number[],
  extra: [number, number[]][] = [],
  maxInstructions = 1e6,
): RunResult {
  const b = new PcBoard({ ramBytes: 16 << 20 });
  for (const [pa, bytes] of baseImage(code, extra)) b.memory.writeBytes(pa, Uint8Array.from(bytes));
  const cpu = b.cpu;
  cpu.resetMultiboot(CODE, 0);
  cpu.gdtrBase = GDT;
  cpu.gdtrLimit = GDT_WORDS.length * 4 - 1;
  cpu.idtrBase = IDT;
  cpu.idtrLimit = 0x7ff;
  cpu.regs[x86.ESP] = STACK;
  const stop = cpu.run(maxInstructions);
  return {
    regs: Array.from(cpu.regs, (r) => r >>> 0),
    eflags: cpu.getEflags(),
    exit: stop === 0 || b.stop.requested ? b.stop.exitCode : null,
    peek: (pa, n) => Array.from(b.memory.u8.subarray(pa, pa + n)),
  };
}

export interface FullRun extends RunResult {
  readonly m: TestMachine;
  readonly d: TestDomain;
}

export function setupFull(
  code: number[],
  extra: [number, number[]][] = [],
  opts: { scan?: boolean; machineMib?: number } = {},
): { m: TestMachine; d: TestDomain } {
  const m = makeMachine(opts.machineMib ?? 48);
  const d = m.addDomain({ ramMib: 16, ...(opts.scan !== undefined ? { scan: opts.scan } : {}) });
  const v = d.vcpu;
  for (const [pa, bytes] of baseImage(code, extra)) v.writePhysical(pa, Uint8Array.from(bytes));
  v.reset(CODE, 0);
  v.vGdtrBase = GDT;
  v.vGdtrLimit = GDT_WORDS.length * 4 - 1;
  v.gdt.load(GDT, v.vGdtrLimit);
  m.machine.cpu.gdtrLimit = v.gdt.guestLimit;
  for (const seg of [x86.ES, x86.SS, x86.DS, x86.FS, x86.GS]) v.loadSeg(seg, 0x10, 0);
  v.loadSeg(x86.CS, 0x08, 0);
  v.vIdtrBase = IDT;
  v.vIdtrLimit = 0x7ff;
  v.vTrBase = TSS;
  m.machine.cpu.regs[x86.ESP] = STACK;
  return { m, d };
}

export function runFull(
  code: number[],
  extra: [number, number[]][] = [],
  opts: { scan?: boolean; cycles?: number } = {},
): FullRun {
  const { m, d } = setupFull(code, extra, opts);
  m.run(opts.cycles ?? 2e6);
  const cpu = m.machine.cpu;
  return {
    m,
    d,
    regs: Array.from(cpu.regs, (r) => r >>> 0),
    eflags: d.vcpu.guestFlags(),
    exit: d.exit,
    peek: (pa, n) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const ma = d.vcpu.gmmu.machineAddr(pa + i);
        out.push(ma < 0 ? -1 : m.memory.u8[ma]!);
      }
      return out;
    },
  };
}
