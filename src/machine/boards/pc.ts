/**
 * The PC board: the machine `qemu-system-i386 -M pc -kernel guest.elf -device
 * isa-debug-exit,iobase=0x501,iosize=2` presents to a multiboot kernel (DESIGN.md "PC board").
 *
 *   RAM          128 MiB from physical 0 (QEMU pc's default -m)
 *   0x20, 0xA0   8259A PIC pair, INTR → CPU, vectors by ICW2
 *   0x40–0x43    8254 PIT, counter 0 → IRQ0 (clocked from the cycle clock at CPU_CLOCK_HZ)
 *   0x61         system control port B: PIT counter 2 gate and OUT
 *   0x4D0–0x4D1  ELCR (edge/level per IRQ)
 *   0x3F8        16550A UART (COM1) → IRQ4
 *   0x1F0, 0x3F6 IDE primary channel, master disk from `disk` (only with a disk) → IRQ14;
 *                with it PCI configuration at 0xCF8/0xCFC (i440FX 00:00.0, PIIX3 00:01.0, PIIX3
 *                IDE 00:01.1) and the bus-master registers at BAR4 = 0xC040
 *   0x300–0x31F  NE2000 (DP8390) when `nic` is given → IRQ9
 *   0x501        exit port: pvkit stops with the value written (QEMU's isa-debug-exit exits
 *                with (v << 1) | 1; the differential tests undo that)
 *   CPU          i386 (X86Cpu), started in the state QEMU's multiboot option ROM leaves
 *
 * No BIOS runs: the loader writes what QEMU+SeaBIOS hand a multiboot kernel (multiboot.ts) and
 * the devices start in their power-on state (the PIT counting in mode 3, as QEMU resets it).
 */

import type { Arch, BoardStats } from "../board.js";
import { SimClock } from "../clock.js";
import { CPU_CLOCK_HZ } from "../cost.js";
import { StopReason, StopSignal } from "../cpu.js";
import { EXIT_PORT, ExitPort } from "../devices/exit-port.js";
import { IDE_PRIMARY_IRQ, IdeBusMaster, IdeChannel } from "../devices/ide.js";
import { NE2000_IRQ, Ne2000 } from "../devices/ne2000.js";
import { addPiix3, PciConfigSpace, PIIX3_BMDMA_BASE } from "../devices/pci.js";
import { PicPair } from "../devices/pic-8259.js";
import { Pit8254, PortB61 } from "../devices/pit-8254.js";
import { Uart16550 } from "../devices/uart-16550.js";
import { PortBus } from "../io-ports.js";
import { type LoadedMultiboot, loadMultiboot } from "../loader/multiboot.js";
import { PhysicalMemory } from "../memory.js";
import { X86Cpu } from "../x86/cpu.js";
import { ATTR_ACCESSED, ATTR_CODE, ATTR_DB, ATTR_G, ATTR_P, ATTR_RW, ATTR_S } from "../x86/descriptors.js";
import { CS, DS, ECX, ES, FS, GS, SS } from "../x86/modrm.js";
import type { BoardOptions, GuestBoard } from "./index.js";

/** QEMU pc's default RAM size (hw/i386/pc.c: default_ram_size 128 MiB). */
export const PC_DEFAULT_RAM = 128 * 1024 * 1024;
export const COM1_BASE = 0x3f8;
export const COM1_IRQ = 4;
export const PIT_IRQ = 0;

/**
 * Selectors and descriptors QEMU's multiboot option ROM (pc-bios/optionrom/multiboot.S) loads
 * before jumping to the kernel: GDT entry 1 (0x08) flat 32-bit code, entry 2 (0x10) flat data,
 * both base 0, limit 4 GiB, DPL 0. Checked by samples/guests/x86/mbinfo.elf under QEMU.
 */
export const MULTIBOOT_CODE_SELECTOR = 0x08;
export const MULTIBOOT_DATA_SELECTOR = 0x10;
/**
 * Where that GDT sits and what it holds, as `sgdt` shows it to the kernel under QEMU 7.2 -M pc
 * (the multiboot ROM is placed after the default VGA BIOS in the 0xC0000 option-ROM area, a hole
 * in the e820 map): base 0xCB2B8, limit 0x27, five descriptors — null, 32-bit code (type 0xA:
 * the ROM copy's Accessed bit stays clear), 32-bit data (Accessed), 16-bit code, 16-bit data.
 * IDTR is still the real-mode one (base 0, limit 0x3FF). Guests should load their own, but one
 * that reloads a segment register or takes an interrupt first behaves as under QEMU.
 */
export const MULTIBOOT_GDT_BASE = 0xcb2b8;
export const MULTIBOOT_GDT: readonly number[] = [
  0x00000000, 0x00000000, 0x0000ffff, 0x00cf9a00, 0x0000ffff, 0x00cf9300, 0x0000ffff, 0x00009e00, 0x0000ffff,
  0x00009200,
];
/** Their descriptor-cache attributes: present, DPL 0, accessed, 32-bit, 4 KiB granular. */
const ATTR_FLAT = ATTR_P | ATTR_S | ATTR_ACCESSED | ATTR_DB | ATTR_G;
const ATTR_CODE32 = ATTR_FLAT | ATTR_CODE | ATTR_RW; // execute/read
const ATTR_DATA32 = ATTR_FLAT | ATTR_RW; // read/write

export interface PcBoardOptions extends BoardOptions {
  /** CPU clock for the PIT's 1.193182 MHz conversion (default CPU_CLOCK_HZ). */
  cpuHz?: number;
  /** Kernel command line for `loadGuest` (QEMU -append); "" by default. */
  cmdline?: string;
}

export class PcBoard implements GuestBoard {
  readonly arch: Arch = "x86";
  readonly memory: PhysicalMemory;
  readonly ports: PortBus;
  readonly clock = new SimClock();
  readonly stop = new StopSignal();
  readonly cpu: X86Cpu;
  readonly pic: PicPair;
  readonly pit: Pit8254;
  readonly uart: Uart16550;
  readonly exitPort: ExitPort;
  /** The primary IDE channel, when the board was given a disk image. */
  readonly ide: IdeChannel | null = null;
  /** The NE2000 at 0x300, when the board was given `nic` options. */
  readonly nic: Ne2000 | null = null;
  /** The loaded kernel, after `loadKernel`. */
  kernel: LoadedMultiboot | null = null;
  private readonly warn: (msg: string) => void;
  private readonly cmdline: string;
  private lastStop: StopReason = StopReason.Budget;

  constructor(opts: PcBoardOptions = {}) {
    this.warn = opts.warn ?? (() => {});
    this.cmdline = opts.cmdline ?? "";
    this.memory = new PhysicalMemory(opts.ramBytes ?? PC_DEFAULT_RAM);
    this.ports = new PortBus(this.warn);
    const cpuOpts = { memory: this.memory, ports: this.ports, clock: this.clock, stop: this.stop };
    this.cpu = new X86Cpu(opts.costs ? { ...cpuOpts, costs: { ...opts.costs } } : cpuOpts);
    this.pic = new PicPair({ set: (level) => this.cpu.setIntr(level) }).attach(this.ports);
    this.cpu.interruptController = this.pic;
    this.pit = new Pit8254(this.clock, this.pic.irq(PIT_IRQ), opts.cpuHz ?? CPU_CLOCK_HZ).attach(this.ports);
    new PortB61(this.pit).attach(this.ports);
    const uartOpts = {
      irq: this.pic.irq(COM1_IRQ),
      name: "16550A COM1",
      ...(opts.console ? { sink: opts.console } : {}),
    };
    this.uart = new Uart16550(
      this.ports,
      COM1_BASE,
      opts.input !== undefined ? { ...uartOpts, input: opts.input } : uartOpts,
    );
    this.exitPort = new ExitPort(this.ports, this.stop, EXIT_PORT);
    if (opts.disk) {
      this.ide = new IdeChannel(this.ports, this.clock, opts.disk, {
        irq: this.pic.irq(IDE_PRIMARY_IRQ),
        warn: this.warn,
      });
      const pci = new PciConfigSpace(this.ports, this.warn);
      addPiix3(pci);
      new IdeBusMaster(this.ports, PIIX3_BMDMA_BASE, this.memory, this.ide);
    }
    if (opts.nic) {
      this.nic = new Ne2000(this.ports, this.clock, {
        ...opts.nic,
        irq: this.pic.irq(NE2000_IRQ),
        warn: this.warn,
      });
    }
  }

  /**
   * Loads a multiboot kernel (as `-kernel file -append cmdline`) and puts the CPU in the state
   * QEMU's option ROM leaves: EAX magic, EBX info, ECX entry (the ROM jumps through ECX),
   * CS 0x08 / data 0x10 flat (and the ROM's GDT in memory), CR0 = PE|ET, IF = 0. Throws
   * LoaderError for a bad image.
   */
  loadKernel(bytes: Uint8Array, file: string, cmdline = ""): LoadedMultiboot {
    const mb = loadMultiboot(bytes, this.memory, { file, cmdline });
    for (const w of mb.warnings) this.warn(w);
    const cpu = this.cpu;
    cpu.resetMultiboot(mb.entry, mb.infoAddress);
    const flat = { base: 0, limit: 0xffffffff, valid: true };
    for (const seg of [ES, SS, DS, FS, GS]) {
      cpu.setSegment(seg, { ...flat, selector: MULTIBOOT_DATA_SELECTOR, attr: ATTR_DATA32 });
    }
    cpu.setSegment(CS, { ...flat, selector: MULTIBOOT_CODE_SELECTOR, attr: ATTR_CODE32 });
    cpu.regs[ECX] = mb.entry | 0;
    MULTIBOOT_GDT.forEach((word, i) => {
      this.memory.write32(MULTIBOOT_GDT_BASE + 4 * i, word);
    });
    cpu.gdtrBase = MULTIBOOT_GDT_BASE;
    cpu.gdtrLimit = MULTIBOOT_GDT.length * 4 - 1;
    cpu.idtrBase = 0;
    cpu.idtrLimit = 0x3ff;
    this.kernel = mb;
    return mb;
  }

  /** GuestBoard: loads a multiboot kernel with the board's command line. */
  loadGuest(bytes: Uint8Array, file: string): { entry: number } {
    return { entry: this.loadKernel(bytes, file, this.cmdline).entry };
  }

  /** Why the last run stopped, when the machine decided it (triple fault, HLT with IF = 0). */
  get stopDetail(): string {
    if (this.lastStop === StopReason.Shutdown) return this.cpu.diagnostic || "shutdown";
    if (this.lastStop === StopReason.Idle) {
      return "HLT with interrupts disabled (IF = 0) or no interrupt source pending: nothing can wake the CPU";
    }
    return "";
  }

  run(maxInstructions: number): StopReason {
    this.lastStop = this.cpu.run(maxInstructions);
    return this.lastStop;
  }

  /** Runs until the guest exits, idles, shuts down or `maxInstructions` pass, in slices. */
  runToEnd(maxInstructions = Number.POSITIVE_INFINITY, slice = 10_000_000): StopReason {
    if (!(maxInstructions >= 0) || !(slice > 0))
      throw new RangeError("runToEnd needs maxInstructions >= 0 and slice > 0");
    let left = maxInstructions;
    for (;;) {
      const before = this.cpu.stats.instructions;
      const r = this.run(Math.min(slice, left));
      left -= this.cpu.stats.instructions - before;
      if (r !== StopReason.Budget || left <= 0) return r;
    }
  }

  stats(): BoardStats {
    const cpu = this.cpu;
    const exceptions: Record<string, number> = {};
    cpu.stats.exceptions.forEach((n, vector) => {
      if (n > 0) exceptions[`vector ${vector}`] = n;
    });
    const irqs: Record<string, number> = {};
    this.pic.delivered.forEach((n, irq) => {
      if (n > 0) irqs[`IRQ${irq}`] = n;
    });
    if (this.pic.spurious > 0) irqs.spurious = this.pic.spurious;
    return {
      instructions: cpu.stats.instructions,
      cycles: this.clock.cycles,
      exceptions,
      interrupts: irqs,
      devices: {
        portAccesses: this.ports.accesses,
        pitIrq0Edges: this.pit.irqEdges,
        uartTxBytes: this.uart.txBytes,
        uartRxBytes: this.uart.rxBytes,
        ...(this.ide
          ? {
              ideCommands: this.ide.commands,
              ideSectorsRd: this.ide.sectorsRead,
              ideSectorsWr: this.ide.sectorsWritten,
            }
          : {}),
        ...(this.nic
          ? {
              nicTxFrames: this.nic.txFrames,
              nicRxFrames: this.nic.rxFrames,
              nicRxDropped: this.nic.rxDropped,
            }
          : {}),
      },
    };
  }

  diagnostic(): string {
    const cpu = this.cpu;
    const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
    const names = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
    const regs = names.map((n, i) => `${n}=${hex(cpu.regs[i]!)}`).join(" ");
    const lines = [
      `pc board: cs:eip ${cpu.getSegment(CS).selector.toString(16)}:${hex(cpu.eip)} CPL ${cpu.cpl}, eflags ${hex(cpu.getEflags())}`,
      `  ${regs}`,
      `  cr0=${hex(cpu.cr0)} cr2=${hex(cpu.cr2)} cr3=${hex(cpu.cr3)} cr4=${hex(cpu.cr4)}, ${cpu.stats.instructions} instructions, ${this.clock.cycles} cycles`,
    ];
    if (cpu.diagnostic) lines.push(`  ${cpu.diagnostic}`);
    const recent = cpu.recentInstructions(16);
    if (recent.length > 0) {
      lines.push("  last instructions:");
      for (const r of recent) lines.push(`    ${r}`);
    }
    return lines.join("\n");
  }
}
