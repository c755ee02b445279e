/**
 * The MIPS board, laid out like QEMU's `-M mipssim` (hw/mips/mipssim.c, QEMU 7.2) so the same
 * ELF runs on both:
 *  - RAM from physical 0, 128 MiB by default (mipssim sets no default_ram_size, so QEMU's
 *    MachineClass default of 128 MiB applies: `info mtree` shows mips_mipssim.ram
 *    0x0000000-0x7ffffff);
 *  - a 4 MiB boot ROM at 0x1FC00000 (empty: QEMU finds no mipsel_bios.bin), the ISA I/O window
 *    at 0x1FD00000 + port (MipsPhysBus);
 *  - a 16550 UART at port 0x3F8 on CPU interrupt 4 (Cause.IP4: "attached to MIPS CPU INT2,
 *    which is interrupt 4"), and pvkit's exit port at 0x501 (QEMU has nothing there and ignores
 *    the write). QEMU's MIPSnet at 0x4200 is not modelled.
 *  - pvkit only (QEMU's mipssim has neither), when `disk` or `nic` is given: the PC's IDE
 *    primary channel (0x1F0/0x3F6, ISA IRQ14; PIO only, no PCI bus master) and NE2000 (0x300,
 *    IRQ9) on the ISA window, their IRQs into an 8259A pair at 0x20/0xA0 whose INTR drives
 *    CPU interrupt 2 (Cause.IP2), as Malta routes its ISA devices (DESIGN.md). With no INTA
 *    cycle on MIPS, a handler takes the IRQ number with an OCW3 poll command.
 *
 * Entry, as QEMU's -kernel on mipssim: load_elf places each PT_LOAD at p_paddr & 0x1FFFFFFF
 * (cpu_mips_kseg0_to_phys) and main_cpu_reset sets PC = e_entry after a CPU reset, with no boot
 * trampoline and no arguments. So at the first instruction: kernel mode, Status = BEV | ERL
 * (0x00400004; unlike Malta, mipssim does not clear them), every GPR, HI and LO zero (no stack
 * pointer), Cause = 0, Wired = 0, TLB invalid, exception vectors in the empty boot ROM. A guest
 * must set $sp, and clear BEV (and ERL) before it can take exceptions into its own handlers.
 *
 * Exceptions with no handler: QEMU and pvkit both vector into zero-filled memory and slide
 * through NOPs until an instruction fetch fails, forever. pvkit detects it instead: while an
 * exception vector in use holds no code (its first word is 0), the CPU runs with
 * interceptExceptions, and an exception bound for an empty vector stops the board with a
 * diagnostic (Shutdown). One bound for an installed vector is re-executed with normal
 * delivery (exceptions are precise, so the faulting instruction has had no effect).
 */
import { SimClock } from "../clock.js";
import { type CostName, CostTable } from "../cost.js";
import { StopReason, StopSignal } from "../cpu.js";
import { EXIT_PORT, ExitPort } from "../devices/exit-port.js";
import { IDE_PRIMARY_IRQ, IdeChannel } from "../devices/ide.js";
import { NE2000_IRQ, Ne2000 } from "../devices/ne2000.js";
import { PicPair } from "../devices/pic-8259.js";
import { Uart16550 } from "../devices/uart-16550.js";
import { PortBus } from "../io-ports.js";
import { EM_MIPS, type LoadedElf, loadElf32, mipsKseg0ToPhys } from "../loader/elf.js";
import { PhysicalMemory } from "../memory.js";
import { Cause, disassemble, EXC_NAMES, ExcCode, MipsCpu, MipsPhysBus, Status } from "../mips/index.js";
import type { BoardOptions, GuestBoard } from "./index.js";

/** QEMU mipssim's default RAM size (MachineClass default, 128 MiB). */
export const MIPSSIM_RAM_BYTES = 128 * 1024 * 1024;
/** The UART's base port and CPU interrupt line (Cause.IP4). */
export const MIPSSIM_UART_PORT = 0x3f8;
export const MIPSSIM_UART_IRQ = 4;
/** CPU interrupt line the 8259A pair drives (Cause.IP2), when the board has ISA devices. */
export const MIPSSIM_ISA_IRQ = 2;

/** Instructions per slice between the board's checks (vectors, loop detection). */
const SLICE = 1 << 14;
/** Exception-loop detection: this many consecutive slices with the same fault signature. */
const LOOP_SLICES = 16;
/** … each taking at least this many exceptions. */
const LOOP_MIN_PER_SLICE = 32;
/** Exceptions that a guest may legitimately repeat at one EPC (syscall loops, timer ticks). */
const LOOP_EXEMPT = new Set<number>([ExcCode.Int, ExcCode.Sys, ExcCode.Bp, ExcCode.Tr]);

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

export class MipssimBoard implements GuestBoard {
  readonly arch = "mips" as const;
  readonly memory: PhysicalMemory;
  readonly ports: PortBus;
  readonly clock: SimClock;
  readonly stop: StopSignal;
  readonly bus: MipsPhysBus;
  readonly cpu: MipsCpu;
  readonly uart: Uart16550;
  readonly exitPort: ExitPort;
  /** ISA interrupt controllers, IDE and NE2000: only when `disk` / `nic` is given (see above). */
  readonly pic: PicPair | null = null;
  readonly ide: IdeChannel | null = null;
  readonly nic: Ne2000 | null = null;
  /** The loaded image, once `loadGuest` ran. */
  loaded: LoadedElf | null = null;
  /** Why the last `run` stopped, when it was the board's decision (unhandled exception, loop). */
  stopDetail = "";
  private loopSignature = "";
  /** Instruction and exception counts at the start of the current detection slice. */
  private sliceStart = 0;
  private sliceExceptions = 0;
  private loopSlices = 0;
  private unhandled: { code: number; epc: number; bd: boolean; badVAddr: number; vector: number } | null =
    null;

  constructor(opts: BoardOptions = {}) {
    const costs: Readonly<Record<CostName, number>> = opts.costs ?? CostTable;
    this.memory = new PhysicalMemory(opts.ramBytes ?? MIPSSIM_RAM_BYTES);
    this.ports = new PortBus(opts.warn ?? (() => {}));
    this.clock = new SimClock();
    this.stop = new StopSignal();
    this.bus = new MipsPhysBus(this.memory, this.ports);
    this.cpu = new MipsCpu({ memory: this.memory, bus: this.bus, clock: this.clock, stop: this.stop, costs });
    this.uart = new Uart16550(this.ports, MIPSSIM_UART_PORT, {
      ...(opts.console ? { sink: opts.console } : {}),
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      irq: { set: (level) => this.cpu.setIrq(MIPSSIM_UART_IRQ, level) },
      name: "COM1 (16550)",
    });
    this.exitPort = new ExitPort(this.ports, this.stop, EXIT_PORT);
    if (opts.disk || opts.nic) {
      const warn = opts.warn ?? (() => {});
      const pic = new PicPair({ set: (level) => this.cpu.setIrq(MIPSSIM_ISA_IRQ, level) }).attach(this.ports);
      this.pic = pic;
      if (opts.disk)
        this.ide = new IdeChannel(this.ports, this.clock, opts.disk, { irq: pic.irq(IDE_PRIMARY_IRQ), warn });
      if (opts.nic)
        this.nic = new Ne2000(this.ports, this.clock, { ...opts.nic, irq: pic.irq(NE2000_IRQ), warn });
    }
  }

  /** Loads an EM_MIPS ELF32 as QEMU's mipssim -kernel does and resets the CPU at its entry. */
  loadGuest(bytes: Uint8Array, file: string): { entry: number } {
    this.loaded = loadElf32(bytes, this.memory, { file, machine: EM_MIPS, toPhysical: mipsKseg0ToPhys });
    this.cpu.reset(this.loaded.entry);
    return { entry: this.loaded.entry };
  }

  run(maxInstructions: number): StopReason {
    const cpu = this.cpu;
    const start = cpu.stats.instructions;
    this.stopDetail = "";
    for (;;) {
      const done = cpu.stats.instructions - start;
      if (done >= maxInstructions) return this.finish(StopReason.Budget);
      const inSlice = cpu.stats.instructions - this.sliceStart;
      cpu.interceptExceptions = this.someVectorEmpty();
      const why = cpu.run(Math.min(maxInstructions - done, SLICE - inSlice));
      cpu.interceptExceptions = false;
      if (why === StopReason.Trap) {
        const t = cpu.trap;
        const vector = this.vectorFor(t.excCode, t.refill);
        if (this.vectorWord(vector) === 0) {
          this.unhandled = { code: t.excCode, epc: t.pc, bd: t.bd, badVAddr: t.badVAddr, vector };
          this.stopDetail = `unhandled ${this.excName(t.excCode)} exception at ${hex(t.instrPc)}: no handler at vector ${hex(vector)}`;
          return this.finish(StopReason.Shutdown);
        }
        // A handler exists: execute the instruction again with normal delivery (exceptions are
        // precise, so it had no effect) and uncount the intercepted attempt.
        cpu.stats.exceptions[t.excCode]!--;
        const again = cpu.run(1);
        if (again !== StopReason.Budget) return this.finish(again);
      } else if (why !== StopReason.Budget) {
        return this.finish(why);
      }
      if (cpu.stats.instructions - this.sliceStart >= SLICE) {
        if (this.detectLoop(this.sliceExceptions)) return this.finish(StopReason.Shutdown);
        this.sliceStart = cpu.stats.instructions;
        this.sliceExceptions = this.totalExceptions();
      }
    }
  }

  private finish(why: StopReason): StopReason {
    if (why === StopReason.Idle && this.stopDetail === "") {
      this.stopDetail = "the CPU executed WAIT with no interrupt able to wake it and no timer pending";
    }
    return why;
  }

  private totalExceptions(): number {
    let n = 0;
    for (const v of this.cpu.stats.exceptions) n += v;
    return n;
  }

  private excName(code: number): string {
    return `${EXC_NAMES[code] ?? `ExcCode ${code}`}`;
  }

  /** True if the general, refill or interrupt vector for the current Status.BEV holds no code. */
  private someVectorEmpty(): boolean {
    const bev = (this.cpu.cp0.status & Status.BEV) !== 0;
    const base = bev ? 0xbfc00200 : 0x80000000;
    return (
      this.vectorWord(base) === 0 ||
      this.vectorWord(base + 0x180) === 0 ||
      this.vectorWord(base + 0x200) === 0
    );
  }

  /** The vector an exception goes to (MD00090 Table 6.3), for the current Status and Cause.IV. */
  private vectorFor(code: number, refill: boolean): number {
    const s = this.cpu.cp0.status;
    const base = s & Status.BEV ? 0xbfc00200 : 0x80000000;
    if (refill && !(s & Status.EXL)) return base;
    if (code === ExcCode.Int && this.cpu.cp0.cause & Cause.IV) return base + 0x200;
    return base + 0x180;
  }

  /** First word at a kseg0/kseg1 vector address (0 if nothing is there). */
  private vectorWord(va: number): number {
    const pa = mipsKseg0ToPhys(va);
    if (!this.bus.isMemory(pa)) return 0;
    return pa + 4 <= this.memory.size ? this.memory.u32[pa >>> 2]! : this.bus.read(pa, 4);
  }

  /**
   * A handler that returns to a fault it does not fix (same EPC, cause and BadVAddr, slice
   * after slice) is a loop no guest means; interrupts, syscalls, breakpoints and traps are exempt.
   */
  private detectLoop(excBefore: number): boolean {
    const n = this.totalExceptions() - excBefore;
    const cp0 = this.cpu.cp0;
    const code = (cp0.cause & Cause.EXC_MASK) >>> Cause.EXC_SHIFT;
    if (n < LOOP_MIN_PER_SLICE || LOOP_EXEMPT.has(code)) {
      this.loopSlices = 0;
      return false;
    }
    const sig = `${code}:${cp0.epc}:${cp0.badVAddr}`;
    if (sig !== this.loopSignature) {
      this.loopSignature = sig;
      this.loopSlices = 1;
      return false;
    }
    if (++this.loopSlices < LOOP_SLICES) return false;
    this.unhandled = {
      code,
      epc: cp0.epc,
      bd: (cp0.cause & Cause.BD) !== 0,
      badVAddr: cp0.badVAddr,
      vector: this.vectorFor(code, false),
    };
    this.stopDetail = `exception loop: ${this.excName(code)} at EPC ${hex(cp0.epc)} repeated ${n} times per ${SLICE} instructions for ${LOOP_SLICES * SLICE} instructions; the handler never fixes the fault`;
    return true;
  }

  stats(): Record<string, number | Record<string, number>> {
    const s = this.cpu.stats;
    const byCause: Record<string, number> = {};
    s.exceptions.forEach((n, code) => {
      if (n > 0) byCause[this.excName(code)] = n;
    });
    return {
      instructions: s.instructions,
      cycles: this.clock.cycles,
      exceptions: byCause,
      devices: {
        portAccesses: this.ports.accesses,
        uartTxBytes: this.uart.txBytes,
        uartRxBytes: this.uart.rxBytes,
      },
    };
  }

  diagnostic(): string {
    const cpu = this.cpu;
    const cp0 = cpu.cp0;
    const lines: string[] = [];
    if (this.stopDetail) lines.push(this.stopDetail);
    const u = this.unhandled;
    const code = u ? u.code : (cp0.cause & Cause.EXC_MASK) >>> Cause.EXC_SHIFT;
    const taken =
      this.totalExceptions() > 0 ? `last ExcCode ${code} ${this.excName(code)}` : "no exception taken";
    lines.push(`pc ${hex(cpu.pc)}  status ${hex(cp0.status)}  cause ${hex(cp0.cause)} (${taken})`);
    if (u) {
      lines.push(
        `fault: ${this.excName(u.code)}  EPC ${hex(u.epc)}${u.bd ? " (branch; fault in its delay slot)" : ""}  BadVAddr ${hex(u.badVAddr)}  vector ${hex(u.vector)}`,
      );
      const around: string[] = [];
      for (let a = (u.epc - 16) | 0; a !== ((u.epc + 8) | 0); a = (a + 4) | 0) {
        const pa = cpu.translate(a, 2);
        if (pa < 0 || !this.bus.isMemory(pa)) continue;
        const w = pa + 4 <= this.memory.size ? this.memory.u32[pa >>> 2]! : this.bus.read(pa, 4);
        const mark = a >>> 0 === u.epc >>> 0 ? "=>" : "  ";
        around.push(`${mark} ${hex(a).slice(2)}:  ${hex(w).slice(2)}  ${disassemble(w, a)}`);
      }
      if (around.length > 0) lines.push("code at EPC:", ...around);
    } else {
      lines.push(`EPC ${hex(cp0.epc)}  BadVAddr ${hex(cp0.badVAddr)}`);
    }
    lines.push("last instructions:", ...cpu.recentInstructions(12).map((l) => `   ${l}`));
    return lines.join("\n");
  }
}
