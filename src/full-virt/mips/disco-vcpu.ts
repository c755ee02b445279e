/**
 * A Disco vCPU: one domain's virtual MIPS processor, run deprivileged on the shared CPU of a
 * `DiscoMachine` — the guest's kernel mode in supervisor mode, its user mode in user mode — and
 * the VcpuBackend the hypervisor's scheduler drives (`run(budget)` returns a VcpuExitReason
 * value; src/hypervisor is not imported, per DESIGN.md "Layers": the host adapter lives above).
 *
 * Per vCPU: saved GPRs/PC/HI/LO, the virtual CP0 and architectural TLB, the l2tlb, the pmap
 * (backed by the domain's P2M), hardware ASIDs, and the domain's own devices (16550 UART, exit
 * port) on a private port bus. Every trap comes to `handleTrap`: privileged instructions
 * (privilege-trap.ts), TLB exceptions (tlb-miss.ts), device accesses (device-emulation.ts),
 * kseg0 accesses (interpreted), everything else reflected (reflect.ts).
 *
 * Unrelinked kseg0 kernel code (PC in kseg0/kseg1 in the guest's kernel mode) cannot run
 * directly — supervisor mode cannot reach kseg0 — so the monitor interprets it one instruction
 * at a time (`MipsCpu.step` with `unmappedRemap` = the pmap), charging CostTable
 * .interpretInstruction per instruction on top of the instruction itself.
 */
import {
  EM_MIPS,
  EXIT_PORT,
  ExitPort,
  mips,
  mipsKseg0ToPhys,
  PortBus,
  parseElf32,
  StopReason,
  StopSignal,
  Uart16550,
} from "../../machine/index.js";
import { emulateDeviceAccess, isDeviceAddress } from "./device-emulation.js";
import { L2Tlb } from "./l2tlb.js";
import type { DiscoMachine, HostedVcpu } from "./monitor.js";
import { Pmap, type PmapAllocator, type PmapBacking } from "./pmap.js";
import { PrivResult, privilegeTrapHandler } from "./privilege-trap.js";
import type { MipsPvMode } from "./pv-mode.js";
import { reflectException } from "./reflect.js";
import { DiscoRow, DiscoStats } from "./stats.js";
import { tlbFault } from "./tlb-miss.js";
import { VirtualCp0 } from "./virtual-cp0.js";

const { ExcCode, Status, EXC_NAMES } = mips;
type MipsTrap = mips.MipsTrap;

/** VcpuExitReason values (src/hypervisor/vcpu-backend.ts), repeated here so full-virt need not import the hypervisor. */
export const DiscoExit = { budget: 0, yield: 1, blocked: 2, halted: 3 } as const;
export type DiscoExit = (typeof DiscoExit)[keyof typeof DiscoExit];

/** The per-domain counters the hypervisor keeps (its DomainStats satisfies this). */
export interface DomainCounters {
  guestCycles: number;
  monitorCycles: number;
  worldSwitches: number;
  /** Event upcalls delivered (PV domains). */
  upcalls: number;
  readonly trapsByCause: Float64Array;
}

/** What a Disco vCPU needs from the layer above (the hypervisor adapter implements it). */
export interface DiscoHost {
  readonly domid: number;
  readonly name: string;
  /** The domain's P2M: the pmap's backing. */
  readonly p2m: PmapBacking;
  /** Machine frames (and the M2P update). */
  readonly allocator: PmapAllocator;
  readonly stats: DomainCounters;
  /** A byte the guest transmitted on its UART. */
  console(byte: number): void;
  /** The guest wrote `code` to its exit port. */
  shutdown(code: number): void;
  /** The guest cannot go on (diagnostic: PC, cause, last instructions). */
  crash(diagnostic: string): void;
  /** The vCPU waits (WAIT) for a virtual interrupt; `wake` makes it runnable again. */
  block(): void;
  wake(): void;
  /** A `hypcall` from the guest kernel (PV interface); absent: hypcall raises RI, as natively. */
  hypercall?(gpr: Int32Array): void;
  /** PV event upcalls (absent under full virtualization): see `UpcallHost`. */
  readonly upcalls?: UpcallHost;
  /** True once the scheduler has blocked this vCPU (SCHEDOP_block): the run loop gives the CPU up. */
  isBlocked?(): boolean;
}

/** The hypervisor's side of event upcall delivery to a PV domain (docs/mips-pv-abi.md "Upcall entry"). */
export interface UpcallHost {
  /** Xen's local_events_need_delivery: vcpu_info.evtchn_upcall_pending && !evtchn_upcall_mask. */
  needDelivery(): boolean;
  /** The event callback registered with set_callbacks (0: none). */
  entry(): number;
  /** The upcall is being delivered: sets vcpu_info.evtchn_upcall_mask (as Xen does), counts, traces. */
  delivered(): void;
}

export interface DiscoVcpuOptions {
  /** l2tlb capacity (power of two; default 1024 entries). */
  readonly l2tlbEntries?: number;
  /** Bytes the guest's UART receives. */
  readonly input?: string | Uint8Array;
  /** Pfns below this keep their contents (a PV domain's start_info, shared_info, rings). */
  readonly keepBootPages?: number;
}

/** Exceptions reflected in a row with no guest progress before the domain is declared stuck. */
const STORM_LIMIT = 64;

type VcpuState = "running" | "blocked" | "halted";

function hex(x: number): string {
  return `0x${(x >>> 0).toString(16).padStart(8, "0")}`;
}

export class DiscoVcpu implements HostedVcpu {
  readonly vcp0: VirtualCp0;
  readonly l2tlb: L2Tlb;
  readonly pmap: Pmap;
  readonly stats = new DiscoStats();
  readonly ports: PortBus;
  readonly uart: Uart16550;
  readonly exitPort: ExitPort;
  /** The domain's exit-port signal (the machine's CPU never sees it). */
  readonly domainStop = new StopSignal();
  readonly gpr = new Int32Array(32);
  pc = 0;
  hi = 0;
  lo = 0;
  readonly hwAsids = new Int16Array(256).fill(-1);
  readonly serial: number;
  /** 0x40000000 for a kernel relinked into ksseg (vectors at kseg0 vector + 0x40000000), else 0. */
  vectorOffset = 0;
  state: VcpuState = "running";
  /** PV mode (pv-mode.ts): the privileged-register page and the arch hypercalls; null = full. */
  pv: MipsPvMode | null = null;
  /** Interpret the next instruction (a direct-execution access to kseg0 trapped). */
  private interpretNext = false;
  /** True while the CPU runs this guest (a virtual interrupt may then stop it early). */
  private inGuest = false;
  private lastErl = true;
  /** Guest instructions retired (progress, for storm detection). */
  private progress = 0;
  private stormMark = -1;
  private stormCount = 0;
  private fillMark = -1;
  private fillCount = 0;
  private switchCycles = 0;
  /** Cycles charged through monitorCharge so far (lets the interpreter separate its own). */
  private monitorCharged = 0;
  private idleSince = 0;

  constructor(
    readonly machine: DiscoMachine,
    readonly host: DiscoHost,
    opts: DiscoVcpuOptions = {},
  ) {
    this.serial = machine.host(this);
    this.vcp0 = new VirtualCp0(machine.clock, () => this.virtualStateChanged());
    this.l2tlb = new L2Tlb(opts.l2tlbEntries ?? 1024);
    this.pmap = new Pmap(host.domid, host.p2m, host.allocator);
    // Frames the domain was created with hold the hypervisor's start-of-day pages: the guest's
    // RAM starts out zeroed, as on the board.
    const mem = machine.memory;
    for (let pfn = opts.keepBootPages ?? 0; pfn < this.pmap.nrPfns; pfn++) {
      const mfn = this.pmap.table[pfn]!;
      if (mfn >= 0) mem.u8.fill(0, mfn * 4096, mfn * 4096 + 4096);
    }
    this.ports = new PortBus();
    this.uart = new Uart16550(this.ports, 0x3f8, {
      sink: (b) => host.console(b),
      irq: { set: (level) => this.setVirtualIrq(4, level) },
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      name: `${host.name} COM1 (16550)`,
    });
    this.exitPort = new ExitPort(this.ports, this.domainStop, EXIT_PORT);
    this.vcp0.reset();
  }

  /**
   * Loads an EM_MIPS ELF into the guest's physical memory (PT_LOAD at p_paddr & 0x1FFFFFFF, as
   * QEMU's mipssim -kernel) and resets the vCPU at its entry in the QEMU -kernel state. An image
   * with segments in ksseg is a relinked kernel: its exceptions go to kseg0 vector + 0x40000000.
   */
  load(bytes: Uint8Array, file: string): { entry: number; relinked: boolean } {
    const img = parseElf32(bytes, { file, machine: EM_MIPS });
    let relinked = false;
    for (const seg of img.loadSegments) {
      const v = seg.vaddr >>> 0;
      if (v >= 0xc0000000 && v < 0xe0000000) relinked = true;
      const phys = mipsKseg0ToPhys(seg.paddr);
      const data = new Uint8Array(seg.memsz);
      data.set(bytes.subarray(seg.offset, seg.offset + Math.min(seg.filesz, seg.memsz)));
      if (!this.writePhysical(phys, data)) {
        throw new Error(`${file}: segment at physical ${hex(phys)} does not fit the guest's memory`);
      }
    }
    this.reset(img.entry, relinked);
    return { entry: img.entry, relinked };
  }

  /** Copies `data` into guest-physical memory at `pa`, taking frames on demand. False if it does not fit. */
  writePhysical(pa: number, data: Uint8Array): boolean {
    const mem = this.machine.memory;
    for (let off = 0; off < data.length; ) {
      const p = pa + off;
      const mfn = this.pmap.ensure(p >>> 12);
      if (mfn < 0) return false;
      const n = Math.min(4096 - (p & 4095), data.length - off);
      mem.u8.set(data.subarray(off, off + n), mfn * 4096 + (p & 4095));
      off += n;
    }
    return true;
  }

  /**
   * Resets the vCPU at `entry` in the QEMU -kernel state (kernel mode, Status = BEV | ERL, GPRs
   * zero, TLB invalid). `relinked`: the kernel lives in ksseg, its vectors at kseg0 vector + 0x40000000.
   */
  reset(entry: number, relinked: boolean): void {
    this.vectorOffset = relinked ? 0x40000000 : 0;
    this.vcp0.reset();
    this.l2tlb.flush();
    this.gpr.fill(0);
    this.hi = 0;
    this.lo = 0;
    this.pc = entry | 0;
    if (this.machine.current === this) {
      this.machine.cpu.gpr.fill(0);
      this.machine.cpu.pc = this.pc;
      this.machine.cpu.hi = 0;
      this.machine.cpu.lo = 0;
      this.machine.tlbInvalidate(this.serial, null);
    }
    this.lastErl = true;
  }

  // --- the run loop ---------------------------------------------------------------------------

  /** Runs the guest for about `budget` simulated cycles (VcpuBackend.run). */
  run(budget: number): DiscoExit {
    if (this.state === "halted") return DiscoExit.halted;
    if (this.state === "blocked") return DiscoExit.blocked;
    const m = this.machine;
    const cpu = m.cpu;
    const clock = m.clock;
    m.switchTo(this);
    this.syncHardware();
    const end = clock.cycles + budget;
    while (this.state === "running" && clock.cycles < end) {
      if (this.host.isBlocked?.()) break;
      if (this.pv?.upcallReady()) {
        this.worldSwitch(ExcCode.Int);
        this.pv.deliverUpcall();
        continue;
      }
      if (this.vcp0.regs.interruptReady) {
        this.injectInterrupt();
        continue;
      }
      const pc = cpu.pc >>> 0;
      if (this.interpretNext || (pc >= 0x80000000 && pc < 0xc0000000 && this.vcp0.kernelMode)) {
        this.interpret(end);
        continue;
      }
      this.direct(end);
    }
    this.stats.pagesAllocated = this.pmap.allocated;
    return this.exitReason();
  }

  private exitReason(): DiscoExit {
    const st: VcpuState = this.state;
    return st === "halted" ? DiscoExit.halted : st === "blocked" ? DiscoExit.blocked : DiscoExit.budget;
  }

  /** Runs the guest directly on the CPU until a trap, the budget, or a virtual interrupt. */
  private direct(end: number): void {
    const m = this.machine;
    const cpu = m.cpu;
    const clock = m.clock;
    const c0 = clock.cycles;
    const i0 = cpu.stats.instructions;
    const kernel = this.vcp0.kernelMode;
    this.inGuest = true;
    const why = cpu.run(Math.max(1, Math.ceil(end - clock.cycles)));
    this.inGuest = false;
    const di = cpu.stats.instructions - i0;
    const dc = clock.cycles - c0;
    this.vcp0.instructions += di;
    this.progress += di;
    this.stats.add(kernel ? DiscoRow.guestKernel : DiscoRow.guestUser, di, dc);
    this.host.stats.guestCycles += dc;
    if (why === StopReason.Trap) this.handleTrap(cpu.trap, false);
    else if (why === StopReason.Exit) m.stop.clear();
    else if (why !== StopReason.Budget)
      this.crash(`the CPU stopped unexpectedly (stop reason ${why})`, cpu.pc);
  }

  /**
   * Interprets guest kernel code in kseg0/kseg1 one instruction at a time, with kseg0/kseg1
   * translated through the pmap, until the PC leaves kseg0/kseg1 or the guest leaves kernel mode.
   */
  private interpret(end: number): void {
    const m = this.machine;
    const cpu = m.cpu;
    const clock = m.clock;
    const perInsn = m.costs.interpretInstruction;
    cpu.unmappedRemap = this.pmap.table;
    cpu.flushTranslations();
    let once = this.interpretNext;
    this.interpretNext = false;
    let n = 0;
    const c0 = clock.cycles;
    const charged0 = this.monitorCharged;
    while (this.state === "running" && clock.cycles < end) {
      if (clock.cycles >= clock.nextDeadline) clock.runDue();
      cpu.trapped = false;
      const k = cpu.step();
      n += k;
      this.vcp0.instructions += k;
      clock.cycles += perInsn * k;
      if (cpu.trapped) {
        this.handleTrap(cpu.trap, true);
        if (this.interpretNext) this.interpretNext = false;
      }
      if (m.stop.requested) m.stop.clear();
      if (once && !cpu.trapped) break;
      once = false;
      const pc = cpu.pc >>> 0;
      if (!(pc >= 0x80000000 && pc < 0xc0000000 && this.vcp0.kernelMode)) break;
      if (this.vcp0.regs.interruptReady) break;
    }
    cpu.unmappedRemap = null;
    cpu.flushTranslations();
    this.progress += n;
    // The interpreted instructions' own cycles and the interpretation charge; monitor work for
    // traps in between was charged to its own rows (any world switch left over goes here).
    const own = clock.cycles - c0 - (this.monitorCharged - charged0);
    this.stats.add(DiscoRow.interpretedKernel, n, own);
    this.host.stats.guestCycles += own - n * perInsn - this.switchCycles;
    this.host.stats.monitorCycles += n * perInsn + this.switchCycles;
    this.switchCycles = 0;
  }

  // --- traps ----------------------------------------------------------------------------------

  /** Every exception of the guest comes here (one world switch into the monitor). */
  private handleTrap(t: MipsTrap, interpreting: boolean): void {
    const code = t.excCode;
    this.worldSwitch(code);
    this.pv?.enter();
    switch (code) {
      case ExcCode.CpU:
        // CP0 is usable in the guest's kernel mode, or anywhere with its virtual Status.CU0 set.
        if (t.ce === 0 && (this.vcp0.kernelMode || (this.vcp0.regs.status & Status.CU0) !== 0)) {
          const r = privilegeTrapHandler(this, t);
          if (r === PrivResult.wait) this.waitForInterrupt();
        } else {
          this.reflect(code, t, 0, false, DiscoRow.otherReflected, t.ce);
        }
        break;
      case ExcCode.TLBL:
      case ExcCode.TLBS:
      case ExcCode.Mod:
        tlbFault(this, t);
        break;
      case ExcCode.AdEL:
      case ExcCode.AdES:
        this.addressError(t, interpreting);
        break;
      case ExcCode.Int:
        // Hardware interrupts are never enabled while a guest runs; nothing to do.
        break;
      default:
        this.reflect(code, t, t.badVAddr, false, DiscoRow.otherReflected);
    }
    if (this.domainStop.requested && this.state !== "halted") this.shutdown(this.domainStop.exitCode);
    this.pv?.exit();
  }

  private addressError(t: MipsTrap, interpreting: boolean): void {
    const va = t.badVAddr >>> 0;
    const fetch = t.excCode === ExcCode.AdEL && va === t.instrPc >>> 0;
    if (!this.vcp0.kernelMode) {
      this.reflect(t.excCode, t, va, false, DiscoRow.otherReflected);
      return;
    }
    if (isDeviceAddress(va)) {
      if (fetch) this.crash(`instruction fetch from the device window at ${hex(va)}`, t.instrPc);
      else emulateDeviceAccess(this, t);
      return;
    }
    if (va >= 0x80000000 && va < 0xc0000000) {
      const pfn = (va & 0x1fffffff) >>> 12;
      if (pfn >= this.pmap.nrPfns) {
        // Natively kseg0/kseg1 beyond RAM is a bus error.
        this.reflect(fetch ? ExcCode.IBE : ExcCode.DBE, t, 0, false, DiscoRow.otherReflected);
        return;
      }
      if (!interpreting) {
        this.interpretNext = true;
        return;
      }
      if (this.pmap.table[pfn]! < 0) {
        if (this.pmap.ensure(pfn) === -2)
          this.crash("out of machine memory for the guest's pages", t.instrPc);
        // The PC is at the faulting instruction: the next step retries it.
        return;
      }
    } else if (va >= 0xe0000000) {
      this.crash(`kernel access to kseg3 ${hex(va)}: not supported under Disco`, t.instrPc);
      return;
    }
    // A genuine address error (unaligned, or ksseg/kuseg misuse): the guest's.
    this.reflect(t.excCode, t, va, false, DiscoRow.otherReflected);
  }

  /** Reflects exception `code` of trap `t` into the guest and charges it to `row`. */
  reflect(code: number, t: MipsTrap, bad: number, refill: boolean, row: DiscoRow, ce = 0): void {
    const c0 = this.machine.clock.cycles;
    if (this.progress === this.stormMark) {
      if (++this.stormCount >= STORM_LIMIT) {
        this.crash(
          `exception storm: ${STORM_LIMIT} exceptions in a row with no guest progress (last ${EXC_NAMES[code] ?? code}, BadVAddr ${hex(bad)})`,
          t.instrPc,
        );
        return;
      }
    } else {
      this.stormCount = 0;
    }
    this.stormMark = this.progress;
    this.stats.reflectedByCause[code]!++;
    if (!reflectException(this, code, t.pc, t.bd, bad, refill, ce)) return;
    this.monitorCharge(row, this.machine.costs.emulatePrivileged, this.machine.clock.cycles - c0);
  }

  /** Delivers a pending, enabled virtual interrupt (timer IP7, UART IP4) at the current PC. */
  private injectInterrupt(): void {
    const m = this.machine;
    this.worldSwitch(ExcCode.Int);
    const c0 = m.clock.cycles;
    this.pv?.enter();
    if (!reflectException(this, ExcCode.Int, m.cpu.pc, false, 0, false, 0)) return;
    this.pv?.exit();
    this.monitorCharge(DiscoRow.interrupts, m.costs.emulatePrivileged, m.clock.cycles - c0);
  }

  /** WAIT with nothing deliverable: block until a virtual interrupt could be taken. */
  private waitForInterrupt(): void {
    const r = this.vcp0.regs;
    const uartCanWake =
      (r.status & Status.IE) !== 0 && (r.status & (1 << 12)) !== 0 && this.uart.inputPending;
    if (!r.timerCanInterrupt && !uartCanWake) {
      this.crash(
        "WAIT with no interrupt able to wake the guest (IE, IM or EXL/ERL mask them all)",
        this.machine.cpu.pc,
      );
      return;
    }
    this.state = "blocked";
    this.idleSince = this.machine.clock.cycles;
    this.stats.add(DiscoRow.idle, 1, 0);
    this.host.block();
  }

  /** The virtual CP0 changed (or its timer fired): wake a waiting vCPU, stop a running one early. */
  private virtualStateChanged(): void {
    if (!this.vcp0?.regs.interruptReady) return;
    if (this.state === "blocked") {
      this.state = "running";
      this.stats.add(DiscoRow.idle, 0, this.machine.clock.cycles - this.idleSince);
      this.host.wake();
    } else if (this.host.isBlocked?.()) {
      // A PV domain in SCHEDOP_block: a deliverable virtual interrupt is an event too.
      this.host.wake();
    } else if (this.inGuest && this.machine.current === this) {
      this.machine.stop.request(0);
    }
  }

  /** Drives virtual interrupt line `line` (2..7 → virtual Cause.IP2..IP7). */
  setVirtualIrq(line: number, level: boolean): void {
    const bit = 1 << (8 + line);
    const r = this.vcp0.regs;
    r.hwLines = level ? r.hwLines | bit : r.hwLines & ~bit;
    this.virtualStateChanged();
  }

  // --- helpers for the emulation modules -------------------------------------------------------

  /** Counts one world switch into the monitor: cost, statistics, and the LL bit cleared. */
  private worldSwitch(code: number): void {
    const m = this.machine;
    const c = m.costs.worldSwitch;
    m.clock.cycles += c;
    this.switchCycles += c;
    this.stats.worldSwitches++;
    const s = this.host.stats;
    s.worldSwitches++;
    if (code >= 0 && code < s.trapsByCause.length) s.trapsByCause[code]!++;
    m.cpu.cp0.llBit = 0;
  }

  /**
   * Charges monitor work to `row`: `cost` more cycles on the clock, plus `spent` cycles the
   * handler already added (hardware TLB writes) and the world switch that brought us here.
   */
  monitorCharge(row: DiscoRow, cost: number, spent: number): void {
    const m = this.machine;
    m.clock.cycles += cost;
    const total = cost + spent + this.switchCycles;
    this.stats.add(row, 1, total);
    this.host.stats.monitorCycles += total;
    this.monitorCharged += total;
    this.switchCycles = 0;
  }

  /** Notes a monitor-handled TLB fill; crashes the domain if fills repeat with no progress. */
  noteMonitorFill(): void {
    if (this.progress === this.fillMark) {
      if (++this.fillCount >= STORM_LIMIT) {
        this.crash(
          `TLB fill loop: ${STORM_LIMIT} monitor TLB fills in a row with no guest progress`,
          this.machine.cpu.pc,
        );
      }
    } else {
      this.fillCount = 0;
      this.fillMark = this.progress;
    }
  }

  countHardwareTlbWrite(): void {
    this.stats.hardwareTlbWrites++;
  }

  /** Hardware ASID of the guest's current ASID. */
  currentHwAsid(): number {
    return this.machine.hwAsid(this, this.serial, this.vcp0.asid);
  }

  /** True for addresses the monitor maps directly (ksseg alias; kuseg while ERL = 1). */
  isDirectRegion(va: number): boolean {
    const u = va >>> 0;
    return (u >= 0xc0000000 && u < 0xe0000000) || (u < 0x80000000 && this.vcp0.erl);
  }

  /** Makes the hardware follow the virtual CPU: privilege mode and ASID. */
  syncHardware(): void {
    const m = this.machine;
    m.setHardwareMode(this.vcp0.kernelMode);
    const erl = this.vcp0.erl;
    if (erl !== this.lastErl) {
      // kuseg changes meaning (unmapped ↔ mapped): drop the direct entries made for it.
      this.lastErl = erl;
      m.tlbInvalidate(this.serial, null);
    }
    m.setHardwareAsid(this.currentHwAsid());
  }

  setPc(pc: number): void {
    this.machine.cpu.pc = pc | 0;
  }

  /** The instruction word at guest virtual `va` as the guest would fetch it now, or null. */
  fetchWord(va: number): number | null {
    const u = va >>> 0;
    let pfn = -1;
    if (u >= 0x80000000 && u < 0xc0000000) pfn = (u & 0x1fffffff) >>> 12;
    else if (u >= 0xc0000000 && u < 0xe0000000 && this.vcp0.kernelMode) pfn = (u - 0xc0000000) >>> 12;
    else if (u < 0x80000000 && this.vcp0.erl) pfn = u >>> 12;
    else {
      const i = this.l2tlb.lookup(u, this.vcp0.asid);
      if (i >= 0) pfn = this.l2tlb.pfnFor(i, u);
    }
    const mfn = this.pmap.lookup(pfn);
    if (mfn < 0) return null;
    return this.machine.memory.u32[(mfn * 4096 + (u & 4095)) >>> 2]! | 0;
  }

  /**
   * TLB shootdown of machine frame `mfn` (before the frame changes hands — ballooning, sharing):
   * invalidates every hardware entry memmap says maps it (all of this vCPU's entries if memmap
   * overflowed). Returns the guest pages invalidated.
   */
  shootdownFrame(mfn: number): number[] {
    const { pages, complete } = this.pmap.shootdown(mfn);
    if (complete) for (const va of pages) this.machine.tlbInvalidate(this.serial, va);
    else this.machine.tlbInvalidate(this.serial, null);
    return pages;
  }

  // --- lifecycle ------------------------------------------------------------------------------

  /** Crashes the domain with a diagnostic: what happened, PC, virtual CP0 state, last instructions. */
  crash(msg: string, pc: number): void {
    if (this.state === "halted") return;
    const m = this.machine;
    const r = this.vcp0.regs;
    let recent: string[] = [];
    if (m.current === this) {
      const saved = m.cpu.unmappedRemap;
      m.cpu.unmappedRemap = this.pmap.table;
      recent = m.cpu.recentInstructions(8);
      m.cpu.unmappedRemap = saved;
    }
    const diag = [
      `${this.host.name}: ${msg}`,
      `  PC ${hex(pc)}  Status ${hex(r.status)}  Cause ${hex(r.causeValue)}  EPC ${hex(r.epc)}  BadVAddr ${hex(r.badVAddr)}`,
      ...(recent.length ? ["  last instructions:", ...recent.map((l) => `    ${l}`)] : []),
    ].join("\n");
    this.state = "halted";
    m.release(this, this.serial);
    this.host.crash(diag);
  }

  private shutdown(code: number): void {
    if (this.state === "halted") return;
    this.state = "halted";
    this.machine.release(this, this.serial);
    this.host.shutdown(code);
  }

  /** VcpuBackend.dispose: forget the vCPU's hardware state. */
  dispose(): void {
    if (this.state !== "halted") {
      this.state = "halted";
      this.machine.release(this, this.serial);
    }
  }

  /** The guest's registers (copied from the CPU if this vCPU is on it). */
  registers(): { gpr: Int32Array; pc: number; hi: number; lo: number } {
    if (this.machine.current === this) this.machine.saveCurrent();
    return { gpr: this.gpr.slice(), pc: this.pc, hi: this.hi, lo: this.lo };
  }
}
