/**
 * The machine Disco runs on: one MIPS CPU (in monitor mode: every exception and interrupt stops
 * the CPU and comes to the monitor's handlers instead of a guest vector), the hardware TLB the
 * monitor alone writes, the hardware ASID space it shares out among domains, and the world
 * switch between vCPUs.
 *
 * Hardware state while a guest runs: Status.KSU = supervisor for the guest's kernel mode, user
 * for its user mode; EXL = ERL = 0, IE = 0 and IM = 0 (real interrupts are never taken: the
 * monitor delivers virtual ones), CU0 = 0 (so every CP0 instruction raises Coprocessor
 * Unusable), BEV = 0. EntryHi.ASID = the hardware ASID the monitor assigned to (domain, guest
 * ASID). Hardware TLB entries carry machine PFNs, are never global, and use PageMask 0.
 */
import {
  type CostName,
  CostTable,
  mips,
  type PhysicalMemory,
  PortBus,
  type SimClock,
  StopSignal,
} from "../../machine/index.js";

type MipsCpu = mips.MipsCpu;

/** What the machine needs of each vCPU it hosts. */
export interface HostedVcpu {
  /** Hardware ASID per guest ASID (-1 = none yet); the machine resets it on an ASID rollover. */
  readonly hwAsids: Int16Array;
  readonly gpr: Int32Array;
  pc: number;
  hi: number;
  lo: number;
  /** Counts hardware TLB writes made on the vCPU's behalf. */
  countHardwareTlbWrite(): void;
}

export interface DiscoMachineOptions {
  readonly memory: PhysicalMemory;
  readonly clock: SimClock;
  readonly costs?: Readonly<Record<CostName, number>>;
  /** Compile guest basic blocks on the CPU (default true). */
  readonly compileBlocks?: boolean;
}

/** Hardware ASID 0 is the monitor's own (never handed to a guest). */
const FIRST_GUEST_ASID = 1;
const HW_TLB_ENTRIES = 16;

export class DiscoMachine {
  readonly cpu: MipsCpu;
  readonly memory: PhysicalMemory;
  readonly clock: SimClock;
  readonly costs: Readonly<Record<CostName, number>>;
  /** The CPU's stop signal: the monitor raises it to end a run early (a virtual interrupt became deliverable). */
  readonly stop = new StopSignal();
  /** The vCPU whose registers are on the CPU. */
  current: HostedVcpu | null = null;
  /** Owner serial of each hardware ASID (-1 free). */
  private readonly asidOwner = new Int32Array(256).fill(-1);
  private nextAsid = FIRST_GUEST_ASID;
  private readonly hosted: HostedVcpu[] = [];
  private victim = 0;
  /** Hardware ASID rollovers (each flushes the whole hardware TLB). */
  asidRollovers = 0;

  constructor(opts: DiscoMachineOptions) {
    this.memory = opts.memory;
    this.clock = opts.clock;
    this.costs = opts.costs ?? CostTable;
    // Guests never reach the physical ISA window: their device accesses trap and are emulated
    // per domain (device-emulation.ts), so the machine's own port bus stays empty.
    const bus = new mips.MipsPhysBus(this.memory, new PortBus());
    this.cpu = new mips.MipsCpu({
      memory: this.memory,
      bus,
      clock: this.clock,
      stop: this.stop,
      costs: this.costs,
      compileBlocks: opts.compileBlocks ?? true,
    });
    this.cpu.reset(0);
    this.cpu.interceptExceptions = true;
    this.setHardwareMode(true);
  }

  /** Registers a vCPU; returns its serial (the owner id of its hardware ASIDs). */
  host(v: HostedVcpu): number {
    this.hosted.push(v);
    return this.hosted.length - 1;
  }

  /** Status for the guest's kernel (supervisor) or user mode; EXL = ERL = IE = CU0 = BEV = 0. */
  setHardwareMode(guestKernel: boolean): void {
    const ksu = guestKernel ? 1 : 2;
    const want = ksu << mips.Status.KSU_SHIFT;
    if (this.cpu.cp0.status !== want) this.cpu.cp0.write(12, 0, want);
  }

  /** The hardware ASID of (`v`, guest ASID), assigning one (and rolling over) as needed. */
  hwAsid(v: HostedVcpu, serial: number, guestAsid: number): number {
    const a = v.hwAsids[guestAsid]!;
    if (a >= 0) return a;
    if (this.nextAsid > 255) {
      // Rollover: no ASID left, so forget every assignment and flush the hardware TLB.
      this.asidRollovers++;
      this.asidOwner.fill(-1);
      for (const h of this.hosted) h.hwAsids.fill(-1);
      this.cpu.tlb.flush();
      this.nextAsid = FIRST_GUEST_ASID;
    }
    const n = this.nextAsid++;
    this.asidOwner[n] = serial;
    v.hwAsids[guestAsid] = n;
    return n;
  }

  /** Sets the hardware EntryHi.ASID (what the CPU matches TLB entries against). */
  setHardwareAsid(hwAsid: number): void {
    const cp0 = this.cpu.cp0;
    if ((cp0.entryHi & 0xff) !== hwAsid) {
      cp0.write(10, 0, hwAsid);
      // Compiled blocks are cached by virtual PC and mapping generation, not ASID: start a new
      // generation so another address space never runs code cached for this one.
      this.cpu.tlb.onChange();
    }
  }

  /**
   * tlbwrite: puts a 4 KiB-page pair for `va` into the hardware TLB with machine EntryLo values
   * (never G), replacing an entry for the same VPN2 and hardware ASID, else a round-robin victim.
   */
  tlbWrite(v: HostedVcpu, va: number, hwAsid: number, lo0: number, lo1: number): void {
    const tlb = this.cpu.tlb;
    const entryHi = ((va & 0xffffe000) | hwAsid) >>> 0;
    let i = tlb.probe(entryHi);
    if (i < 0) {
      i = this.victim;
      this.victim = (this.victim + 1) % HW_TLB_ENTRIES;
    }
    tlb.write(i, { entryHi, pageMask: 0, entryLo0: lo0 & ~1, entryLo1: lo1 & ~1 });
    this.clock.cycles += this.costs.tlbWrite;
    v.countHardwareTlbWrite();
  }

  /**
   * Invalidates the hardware entries of vCPU `serial` whose VPN2 covers `va` (every one of its
   * entries if `va` is null). Invalid entries get unique kseg1 VPN2s, which never match.
   */
  tlbInvalidate(serial: number, va: number | null): void {
    const tlb = this.cpu.tlb;
    const vpn2 = va === null ? 0 : (va & 0xffffe000) >>> 0;
    for (let i = 0; i < HW_TLB_ENTRIES; i++) {
      if (this.asidOwner[tlb.asid[i]!] !== serial) continue;
      if (tlb.lo0[i] === 0 && tlb.lo1[i] === 0 && tlb.vpn2[i]! >= 0xa0000000 && tlb.vpn2[i]! < 0xc0000000)
        continue;
      if (va !== null && tlb.vpn2[i] !== vpn2) continue;
      tlb.write(i, { entryHi: (0xa0000000 + i * 0x2000) >>> 0, pageMask: 0, entryLo0: 0, entryLo1: 0 });
    }
  }

  /**
   * World switch to `v`: saves the outgoing vCPU's registers, loads `v`'s, drops the CPU's
   * translation caches (they are keyed by virtual page only) and clears the LL bit, so an LL in
   * one world never pairs with an SC in another.
   */
  switchTo(v: HostedVcpu): void {
    const cpu = this.cpu;
    const cur = this.current;
    if (cur !== v) {
      if (cur !== null) {
        cur.gpr.set(cpu.gpr);
        cur.pc = cpu.pc;
        cur.hi = cpu.hi;
        cur.lo = cpu.lo;
      }
      cpu.gpr.set(v.gpr);
      cpu.pc = v.pc;
      cpu.hi = v.hi;
      cpu.lo = v.lo;
      this.current = v;
      cpu.unmappedRemap = null;
      cpu.tlb.onChange();
    }
    cpu.cp0.llBit = 0;
  }

  /** Copies the current vCPU's registers back to it (before inspecting a vCPU from outside). */
  saveCurrent(): void {
    const cur = this.current;
    if (cur === null) return;
    const cpu = this.cpu;
    cur.gpr.set(cpu.gpr);
    cur.pc = cpu.pc;
    cur.hi = cpu.hi;
    cur.lo = cpu.lo;
  }

  /** Forgets `v` as current (its domain died): the next switch loads without saving it. */
  release(v: HostedVcpu, serial: number): void {
    if (this.current === v) {
      this.saveCurrent();
      this.current = null;
    }
    this.tlbInvalidate(serial, null);
  }
}
