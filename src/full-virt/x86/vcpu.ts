/**
 * A fully virtualized x86 vCPU, VMware-style (DESIGN.md "Full virtualization / x86"; the seed's
 * VMware section): the guest's unmodified ring-0 code runs in ring 1 on the real CPU (ring
 * compression), its ring-3 code in ring 3, and the monitor — this TypeScript — is "ring 0":
 * the CPU is in intercept mode, so every exception, software interrupt and external interrupt
 * stops it and comes here (a world switch, charged from the cost table).
 *
 * Hardware state while a guest runs: CR0 = PE|ET|PG|WP (WP so ring-1 writes honour read-only
 * shadow entries), CR4 = 0, CR3 = the shadow page directory of the guest's CR3, GDTR = the
 * shadow GDT in the hole, IDTR = the hole IDT, TR = the monitor's TSS (no I/O bitmap), EFLAGS.IF
 * = 1 and IOPL = 0 (so CLI/STI/IN/OUT/HLT fault in ring 1 and 3). The guest's IF lives in
 * `vIF`: the CPU's INTR line is raised only when the domain's virtual 8259A requests and vIF = 1.
 *
 * The guest's system state is virtual: CR0/CR2/CR3/CR4, GDTR/IDTR/LDTR/TR, IF and IOPL, DR0-7.
 * Events are reflected through the guest's IDT (its gates, its TSS ring-0 stack), and I/O goes to
 * the domain's own device models (8259A pair, 8254, 16550 UART, exit port).
 */
import {
  COM1_BASE,
  type CostName,
  CostTable,
  EXIT_PORT,
  ExitPort,
  loadMultiboot,
  MULTIBOOT_GDT,
  MULTIBOOT_GDT_BASE,
  PhysicalMemory,
  PIT_IRQ,
  PicPair,
  Pit8254,
  PortBus,
  type SimClock,
  StopReason,
  StopSignal,
  Uart16550,
  x86,
} from "../../machine/index.js";
import { type DiscoHost, Pmap } from "../mips/index.js";
import { emulateGp, emulatePatched, type Fault } from "./emulate.js";
import { GuestMmu } from "./guest-mmu.js";
import {
  CODE_WINDOW_BASE,
  CODE_WINDOW_BYTES,
  HOLE_BASE,
  HOLE_GDT,
  HOLE_GDT_PAGES,
  HOLE_IDT,
  HOLE_LDT,
  HOLE_LDT_PAGES,
  HOLE_TSS,
  holeIndex,
  MONITOR_LDT_SELECTOR,
} from "./layout.js";
import { newSavedCpu, restoreCpuState, type SavedCpu, saveCpuState } from "./saved-cpu.js";
import { CodeScanner } from "./scanner.js";
import { ShadowGdt } from "./shadow-gdt.js";
import { FillResult, ShadowMmu } from "./shadow-paging.js";
import { X86FullStats } from "./stats.js";

type X86Cpu = x86.X86Cpu;
const { CS, SS, DS, ES, FS, GS, ESP, EAX, EBX, ECX } = x86;
const IF = 0x200;
const TF = 0x100;
const NT = 0x4000;
const RF = 0x10000;
const IOPL_MASK = 0x3000;
const P = 1;
const A = 0x20;

/** Why `run` returned (the values of the hypervisor's VcpuExitReason). */
export const X86Exit = { budget: 0, yield: 1, blocked: 2, halted: 3 } as const;
export type X86Exit = (typeof X86Exit)[keyof typeof X86Exit];

/** What the monitor needs from the layer above: the same services as a Disco domain's. */
export type X86FullHost = DiscoHost;

export interface X86FullMachineOptions {
  readonly memory: PhysicalMemory;
  readonly clock: SimClock;
  readonly costs?: Readonly<Record<CostName, number>>;
}

/** What owns the CPU between world switches: a fully virtualized or a PV vCPU (pv/pv-vcpu.ts). */
export interface MonitorCpuOwner {
  saveCpu(): void;
  loadCpu(): void;
  /** INTA: the vector of the owner's virtual interrupt controller. */
  acknowledge(): number;
}

/** The machine the monitor owns: one i386 CPU in intercept mode, shared by every x86 domain. */
export class X86FullMachine {
  readonly cpu: X86Cpu;
  readonly memory: PhysicalMemory;
  readonly clock: SimClock;
  readonly costs: Readonly<Record<CostName, number>>;
  readonly stop = new StopSignal();
  current: MonitorCpuOwner | null = null;

  constructor(opts: X86FullMachineOptions) {
    this.memory = opts.memory;
    this.clock = opts.clock;
    this.costs = opts.costs ?? CostTable;
    // Guests never reach the machine's port bus: every IN/OUT faults and is emulated per domain.
    this.cpu = new x86.X86Cpu({
      memory: this.memory,
      ports: new PortBus(),
      clock: this.clock,
      stop: this.stop,
      costs: { ...this.costs },
    });
    this.cpu.interceptExceptions = true;
    this.cpu.interruptController = { acknowledge: () => this.current?.acknowledge() ?? 0xff };
    this.cpu.cr4 = 0;
    this.cpu.cr0 = x86.CR0_PE | x86.CR0_ET | x86.CR0_PG | x86.CR0_WP;
    this.cpu.idtrBase = HOLE_IDT;
    this.cpu.idtrLimit = 256 * 8 - 1;
    this.cpu.gdtrBase = HOLE_GDT;
  }

  /** World switch to `v`: saves the outgoing vCPU's CPU state and loads `v`'s. */
  switchTo(v: MonitorCpuOwner): void {
    if (this.current === v) return;
    this.current?.saveCpu();
    this.current = v;
    v.loadCpu();
  }
}

export interface X86FullVcpuOptions {
  /** Bytes the guest's UART receives. */
  readonly input?: string | Uint8Array;
  /** scan_for_nonvirtualizable with patched copies behind a private CS base (default true). */
  readonly scan?: boolean;
  /** Guest RAM in bytes (default: every frame of the P2M; the rest of the domain's quota feeds the monitor). */
  readonly ramBytes?: number;
}

/** Machine addresses of guest linear pages are computed with this much headroom for the scratch read. */
const MAX_INSN = 15;

export class X86FullVcpu {
  readonly stats = new X86FullStats();
  readonly pmap: Pmap;
  readonly gmmu: GuestMmu;
  readonly shadow: ShadowMmu;
  readonly gdt: ShadowGdt;
  /** The shadow of the guest's current LDT (empty until an LLDT with a non-null selector). */
  readonly ldt: ShadowGdt;
  readonly scanner: CodeScanner;
  readonly scanEnabled: boolean;
  /** Guest RAM in bytes. */
  readonly ramBytes: number;
  // --- devices ---
  readonly ports = new PortBus();
  readonly pic: PicPair;
  readonly pit: Pit8254;
  readonly uart: Uart16550;
  readonly exitPort: ExitPort;
  readonly domainStop = new StopSignal();
  // --- virtual system state ---
  vIF = false;
  vIOPL = 0;
  vCr0 = x86.CR0_PE | x86.CR0_ET;
  vCr2 = 0;
  vCr3 = 0;
  vCr4 = 0;
  vGdtrBase = 0;
  vGdtrLimit = 0;
  vIdtrBase = 0;
  vIdtrLimit = 0x3ff;
  vLdtr = 0;
  vTr = 0;
  vTrBase = 0;
  vTrLimit = 0;
  readonly vDr = new Int32Array(8);
  /** After an emulated STI (or POPF/IRET setting IF): one instruction runs before interrupts. */
  intShadow = false;
  state: "running" | "blocked" | "halted" = "running";
  /** The exit-port value, once written. */
  exitValue: number | null = null;
  // --- hole frames ---
  /** Machine frames the monitor holds for the domain outside its P2M (hole, shadows, copies). */
  private readonly monitorFrames = new Set<number>();
  private readonly removeWatch: () => void;
  private readonly gdtFrames: number[] = [];
  private readonly ldtFrames: number[] = [];
  private idtFrame = -1;
  private tssFrame = -1;
  private picLevel = false;
  private saved: SavedCpu;
  private readonly insn = new Uint8Array(MAX_INSN);
  /** Set by guest memory helpers when an access faults (the fault to reflect). */
  readonly fault: Fault = { pending: false, vector: 0, code: 0, lin: 0 };

  constructor(
    readonly machine: X86FullMachine,
    readonly host: X86FullHost,
    opts: X86FullVcpuOptions = {},
  ) {
    const mem = machine.memory;
    this.scanEnabled = opts.scan ?? true;
    this.pmap = new Pmap(host.domid, host.p2m, host.allocator);
    for (let pfn = 0; pfn < this.pmap.nrPfns; pfn++) {
      const mfn = this.pmap.table[pfn]!;
      if (mfn >= 0) mem.u8.fill(0, mfn * 4096, mfn * 4096 + 4096);
    }
    this.ramBytes = Math.min(opts.ramBytes ?? this.pmap.nrPfns * 4096, this.pmap.nrPfns * 4096);
    this.gmmu = new GuestMmu(mem, (pfn) => this.pmap.ensure(pfn), this.ramBytes);
    for (let i = 0; i < HOLE_GDT_PAGES; i++) this.gdtFrames.push(this.mustAlloc());
    for (let i = 0; i < HOLE_LDT_PAGES; i++) this.ldtFrames.push(this.mustAlloc());
    this.idtFrame = this.mustAlloc();
    this.tssFrame = this.mustAlloc();
    this.initHoleTables();
    this.shadow = new ShadowMmu(mem, this.gmmu, {
      allocFrame: () => this.allocFrame(),
      freeFrame: (m) => this.freeFrame(m),
      initHole: (pt) => this.initHolePt(pt),
      flushTlb: () => this.flushTlb(),
      invalidatePage: (lin) => {
        if (this.machine.current === this) this.machine.cpu.paging.invalidate(lin);
      },
    });
    this.gdt = new ShadowGdt(mem, this.gdtFrames, (lin) => this.probeMachine(lin), this.scanEnabled);
    this.ldt = new ShadowGdt(mem, this.ldtFrames, (lin) => this.probeMachine(lin), this.scanEnabled, false);
    this.scanner = new CodeScanner(
      mem,
      {
        pfnOf: (lin) => {
          const g = this.gmmu.walk(lin, false, false, false);
          return g < 0 ? -1 : g >>> 12;
        },
        mfnOf: (pfn) => this.pmap.ensure(pfn),
        allocFrame: () => this.allocFrame(),
        freeFrame: (m) => this.freeFrame(m),
        flushTlb: () => this.flushTlb(),
      },
      this.stats,
    );
    this.removeWatch = mem.addWatchHandler((paddr, size) => this.onWatchedWrite(paddr, size));
    this.pic = new PicPair({ set: (level) => this.onPicIntr(level) }).attach(this.ports);
    this.pit = new Pit8254(machine.clock, this.pic.irq(PIT_IRQ)).attach(this.ports);
    this.uart = new Uart16550(this.ports, COM1_BASE, {
      sink: (b) => host.console(b),
      irq: this.pic.irq(4),
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      name: `${host.name} COM1 (16550)`,
    });
    this.exitPort = new ExitPort(this.ports, this.domainStop, EXIT_PORT);
    this.saved = newSavedCpu();
  }

  // --- frames ---------------------------------------------------------------------------------

  private allocFrame(): number {
    const m = this.host.allocator.allocate(this.host.domid);
    if (m < 0) return -1;
    this.machine.memory.u8.fill(0, m * 4096, m * 4096 + 4096);
    this.monitorFrames.add(m);
    this.stats.monitorFrames++;
    return m;
  }

  private freeFrame(m: number): void {
    if (!this.monitorFrames.delete(m)) return;
    this.host.allocator.free(m);
    this.stats.monitorFrames--;
  }

  private mustAlloc(): number {
    const m = this.allocFrame();
    if (m < 0) throw new Error(`domain ${this.host.name}: no machine memory for the monitor hole`);
    return m;
  }

  /** The real IDT (256 not-present gates: intercept mode never vectors through it) and the monitor's TSS. */
  private initHoleTables(): void {
    const mem = this.machine.memory;
    for (let v = 0; v < 256; v++) {
      const [lo, hi] = x86.makeGate(0, v, x86.SysType.IntGate32, 0);
      mem.write32(this.idtFrame * 4096 + v * 8, lo);
      mem.write32(this.idtFrame * 4096 + v * 8 + 4, hi & ~0x8000);
    }
    // TSS: SS0:ESP0 unused (no event is ever delivered by the CPU); I/O map base beyond the limit.
    mem.write16(this.tssFrame * 4096 + 0x66, 104);
  }

  /** A new hole page table: GDT, IDT and TSS mapped supervisor read-only with A preset. */
  private initHolePt(pt: number): void {
    const mem = this.machine.memory;
    const put = (lin: number, mfn: number) =>
      mem.write32(pt * 4096 + holeIndex(lin) * 4, (mfn * 4096) | P | A);
    for (let i = 0; i < HOLE_GDT_PAGES; i++) put(HOLE_GDT + i * 4096, this.gdtFrames[i]!);
    for (let i = 0; i < HOLE_LDT_PAGES; i++) put(HOLE_LDT + i * 4096, this.ldtFrames[i]!);
    put(HOLE_IDT, this.idtFrame);
    put(HOLE_TSS, this.tssFrame);
  }

  flushTlb(): void {
    const cpu = this.machine.cpu;
    // Reloading CR3 with its own value flushes the non-global TLB entries and the fetch window.
    if (this.machine.current === this) {
      const cr3 = cpu.cr3;
      cpu.cr3 = cr3;
    }
  }

  // --- world switch ---------------------------------------------------------------------------

  saveCpu(): void {
    saveCpuState(this.machine.cpu, this.saved);
  }

  loadCpu(): void {
    const cpu = this.machine.cpu;
    restoreCpuState(cpu, this.saved, this.saved.eflags);
    cpu.gdtrBase = HOLE_GDT;
    cpu.gdtrLimit = this.gdt.guestLimit;
    const sp = this.shadow.current;
    if (sp !== null) cpu.cr3 = sp.pd * 4096;
    this.updateIntr();
  }

  // --- loading --------------------------------------------------------------------------------

  /** Copies `data` into guest-physical memory at `pa`. False if it does not fit. */
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
   * Loads a multiboot kernel as QEMU's `-kernel` does (through the machine's multiboot loader into
   * a scratch guest-RAM image, then page by page into the domain) and resets the vCPU in the state
   * QEMU's option ROM leaves: EAX magic, EBX info, ECX entry, CS 0x08 / data 0x10 flat, IF = 0.
   */
  load(bytes: Uint8Array, file: string, cmdline = ""): { entry: number } {
    const scratch = new PhysicalMemory(this.ramBytes);
    const mb = loadMultiboot(bytes, scratch, { file, cmdline });
    MULTIBOOT_GDT.forEach((w, i) => {
      scratch.write32(MULTIBOOT_GDT_BASE + 4 * i, w);
    });
    const u32 = new Uint32Array(scratch.u8.buffer);
    for (let pfn = 0; pfn < this.ramBytes >>> 12; pfn++) {
      let used = false;
      for (let i = pfn * 1024; i < pfn * 1024 + 1024; i++) {
        if (u32[i] !== 0) {
          used = true;
          break;
        }
      }
      if (used && !this.writePhysical(pfn * 4096, scratch.u8.subarray(pfn * 4096, pfn * 4096 + 4096)))
        throw new Error(`${file}: the image does not fit the domain's memory`);
    }
    this.reset(mb.entry, mb.infoAddress);
    return { entry: mb.entry };
  }

  /** The multiboot entry state (virtual CPL 0, paging off). */
  reset(entry: number, info: number): void {
    this.machine.switchTo(this);
    const cpu = this.machine.cpu;
    this.vCr0 = x86.CR0_PE | x86.CR0_ET;
    this.vCr2 = 0;
    this.vCr3 = 0;
    this.vCr4 = 0;
    this.vIF = false;
    this.vIOPL = 0;
    this.syncGuestMmu();
    this.shadow.dropAll();
    this.scanner.dropAll();
    this.activateShadow();
    // The option ROM's GDT, in guest memory where QEMU leaves it (PcBoard does the same).
    const gdtBytes = new Uint8Array(MULTIBOOT_GDT.length * 4);
    const dv = new DataView(gdtBytes.buffer);
    MULTIBOOT_GDT.forEach((w, i) => {
      dv.setUint32(4 * i, w, true);
    });
    this.writePhysical(MULTIBOOT_GDT_BASE, gdtBytes);
    this.vGdtrBase = MULTIBOOT_GDT_BASE;
    this.vGdtrLimit = MULTIBOOT_GDT.length * 4 - 1;
    this.gdt.load(this.vGdtrBase, this.vGdtrLimit);
    cpu.gdtrLimit = this.gdt.guestLimit;
    this.vIdtrBase = 0;
    this.vIdtrLimit = 0x3ff;
    cpu.regs.fill(0);
    cpu.regs[EAX] = 0x2badb002;
    cpu.regs[EBX] = info;
    cpu.regs[ECX] = entry;
    cpu.eip = entry >>> 0;
    cpu.setEflags(IF);
    cpu.halted = false;
    for (const seg of [ES, SS, DS, FS, GS]) this.loadSeg(seg, 0x10, 0);
    if (!this.loadSeg(CS, 0x08, 0)) throw new Error("monitor: the multiboot code descriptor did not load");
    this.vLdtr = 0;
    this.ldt.clear();
    cpu.setSegment(x86.LDTR, { selector: 0, base: 0, limit: 0xffff, attr: 0x82, valid: true });
    cpu.setSegment(x86.TR, { selector: 8191 * 8, base: HOLE_TSS, limit: 103, attr: 0x8b, valid: true });
    this.updateIntr();
  }

  // --- virtual state helpers ------------------------------------------------------------------

  /** The guest's CPL: ring 1 is its ring 0. */
  get vCpl(): number {
    return this.machine.cpu.cpl === 3 ? 3 : 0;
  }

  /** EFLAGS as the guest sees it (virtual IF and IOPL). */
  guestFlags(): number {
    const f = this.machine.cpu.getEflags() & ~(IF | IOPL_MASK);
    return f | (this.vIF ? IF : 0) | (this.vIOPL << 12);
  }

  /** Writes EFLAGS from a guest value with POPF/IRET privilege rules at the guest's CPL. */
  setGuestFlags(v: number, mask = 0xffffffff): void {
    const cpu = this.machine.cpu;
    const cpl = this.vCpl;
    const old = this.guestFlags();
    let nv = (old & ~mask) | (v & mask);
    if (cpl > 0) nv = (nv & ~IOPL_MASK) | (old & IOPL_MASK);
    if (cpl > this.vIOPL) nv = (nv & ~IF) | (old & IF);
    const wasIF = this.vIF;
    this.vIF = (nv & IF) !== 0;
    this.vIOPL = (nv >>> 12) & 3;
    cpu.setEflags((nv & ~IOPL_MASK) | IF);
    if (!wasIF && this.vIF) this.intShadow = true;
    this.updateIntr();
  }

  /** A selector as the guest sees it: ring-1 RPLs (compressed ring 0) read as 0. */
  guestSelector(sel: number): number {
    return (sel & 3) === 1 ? sel & ~3 : sel;
  }

  /** Guest base of segment register `seg` (the code window's private base reads as 0). */
  segBase(seg: number): number {
    const b = this.machine.cpu.segBase[seg]! >>> 0;
    return seg === CS && this.scanEnabled && b === CODE_WINDOW_BASE ? 0 : b;
  }

  private syncGuestMmu(): void {
    const g = this.gmmu;
    g.pg = (this.vCr0 & x86.CR0_PG) !== 0;
    g.wp = (this.vCr0 & x86.CR0_WP) !== 0;
    g.pse = (this.vCr4 & x86.CR4_PSE) !== 0;
    g.cr3 = this.vCr3;
  }

  /** Points the real CR3 at the shadow of the guest's current address space (built or reused). */
  activateShadow(): void {
    this.syncGuestMmu();
    const key = this.gmmu.pg ? (this.vCr3 & ~0xfff) >>> 0 : -1;
    const before = this.shadow.builds;
    const s = this.shadow.activate(key);
    if (s === null) {
      this.crash("no machine memory left for a shadow page directory");
      return;
    }
    if (this.shadow.builds > before) this.stats.shadowBuilds++;
    else this.stats.shadowReuses++;
    if (this.machine.current === this) this.machine.cpu.cr3 = s.pd * 4096;
  }

  /** Guest CR0/CR4 writes that change how guest tables are read drop every shadow. */
  pagingModeChanged(): void {
    this.syncGuestMmu();
    this.shadow.dropAll();
    this.scanner.dropAll();
    this.activateShadow();
  }

  /**
   * Loads segment register `seg` with guest selector `sel` from the shadow GDT, at guest CPL
   * `cpl` (for CS and SS: the new CPL). Returns true, or false with `fault` set (#GP/#NP/#SS).
   */
  loadSeg(seg: number, sel: number, cpl: number): boolean {
    const cpu = this.machine.cpu;
    const s = sel & 0xffff;
    const realCpl = cpl === 0 ? 1 : cpl;
    if ((s & ~3) === 0) {
      if (seg === CS || seg === SS) return this.raise(13, 0);
      cpu.setSegment(seg, { selector: s, base: 0, limit: 0, attr: 0, valid: false });
      return true;
    }
    const idx = s >>> 3;
    const table = (s & 4) !== 0 ? this.ldt : this.gdt;
    if ((table === this.ldt && this.vLdtr === 0) || idx * 8 + 7 > table.guestLimit)
      return this.raise(13, s & 0xfffc);
    const lo = table.realLo[idx]!;
    const hi = table.realHi[idx]!;
    const attr = x86.descAttr(hi);
    if ((attr & x86.ATTR_S) === 0) return this.raise(13, s & 0xfffc);
    const code = (attr & x86.ATTR_CODE) !== 0;
    if (seg === CS && !code) return this.raise(13, s & 0xfffc);
    if (seg === SS && (code || (attr & x86.ATTR_RW) === 0)) return this.raise(13, s & 0xfffc);
    if ((attr & x86.ATTR_P) === 0) return this.raise(seg === SS ? 12 : 11, s & 0xfffc);
    const selector = seg === CS || seg === SS ? (s & ~3) | realCpl : s;
    cpu.setSegment(seg, {
      selector,
      base: x86.descBase(lo, hi),
      limit: x86.descLimit(lo, hi),
      attr,
      valid: true,
    });
    return true;
  }

  /** Records a fault for the current emulation; always returns false. */
  raise(vector: number, code: number, lin = 0): boolean {
    const f = this.fault;
    if (!f.pending) {
      f.pending = true;
      f.vector = vector;
      f.code = code;
      f.lin = lin;
    }
    return false;
  }

  // --- guest memory ---------------------------------------------------------------------------

  /** Machine address of guest linear `lin` for a supervisor read, without side effects; -1 if unmapped. */
  probeMachine(lin: number): number {
    const g = this.gmmu.walk(lin, false, false, false);
    return g < 0 ? -1 : this.gmmu.machineAddr(g);
  }

  /** Machine address of guest linear `lin` for an access at the guest's CPL (or `user`); -1 with a #PF recorded. */
  private access(lin: number, write: boolean, user: boolean): number {
    const g = this.gmmu.walk(lin >>> 0, write, user, true);
    if (g < 0) {
      this.raise(14, this.gmmu.faultCode, lin >>> 0);
      return -1;
    }
    const m = this.gmmu.machineAddr(g);
    if (m < 0) this.crash(`guest access to linear ${hex(lin)} maps beyond its RAM (${hex(g)})`);
    return m;
  }

  /** Reads `size` bytes of guest linear memory (little endian); 0 with `fault` set on a fault. */
  read(lin: number, size: number, user = this.vCpl === 3): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const m = this.access((lin + i) >>> 0, false, user);
      if (m < 0) return 0;
      v |= this.machine.memory.u8[m]! << (8 * i);
    }
    return size === 4 ? v >>> 0 : v;
  }

  /** Writes guest linear memory, checking every byte before storing any; tracked page tables are re-shadowed. */
  write(lin: number, size: number, value: number, user = this.vCpl === 3): boolean {
    const addrs = this.insn;
    const ma: number[] = [];
    for (let i = 0; i < size; i++) {
      const m = this.access((lin + i) >>> 0, true, user);
      if (m < 0) return false;
      ma.push(m);
    }
    void addrs;
    const mem = this.machine.memory;
    for (let i = 0; i < size; i++) mem.write8(ma[i]!, (value >>> (8 * i)) & 0xff);
    const g = this.gmmu.walk(lin >>> 0, false, user, false);
    if (g >= 0 && this.shadow.isTracked(g >>> 12)) this.shadow.tableWritten(g >>> 12, g & 0xfff, size);
    return true;
  }

  /** Pushes onto the guest stack (SS:ESP, 32-bit stack). */
  push(value: number, size = 4, user = this.vCpl === 3): boolean {
    const cpu = this.machine.cpu;
    const esp = (cpu.regs[ESP]! - size) | 0;
    if (!this.write((this.segBase(SS) + (esp >>> 0)) >>> 0, size, value, user)) return false;
    cpu.regs[ESP] = esp;
    return true;
  }

  /** The instruction bytes at the guest's CS:EIP (original, unpatched bytes). */
  fetchInstruction(eip: number): Uint8Array {
    const base = this.segBase(CS);
    let n = 0;
    for (; n < MAX_INSN; n++) {
      const m = this.probeMachine((base + eip + n) >>> 0);
      if (m < 0) break;
      this.insn[n] = this.machine.memory.u8[m]!;
    }
    return this.insn.subarray(0, n);
  }

  // --- interrupts -----------------------------------------------------------------------------

  private onPicIntr(level: boolean): void {
    this.picLevel = level;
    if (level && this.state === "blocked" && this.vIF) {
      this.state = "running";
      this.host.wake();
    }
    if (this.machine.current === this) this.updateIntr();
  }

  /** The CPU's INTR line: the virtual PIC's request, gated by the guest's virtual IF. */
  updateIntr(): void {
    if (this.machine.current !== this) return;
    this.machine.cpu.setIntr(this.picLevel && this.vIF && !this.intShadow);
  }

  /** INTA from the CPU: the virtual PIC's vector. */
  acknowledge(): number {
    return this.pic.acknowledge();
  }

  // --- the run loop ---------------------------------------------------------------------------

  private charge(name: CostName): void {
    const c = this.machine.costs[name];
    this.machine.clock.cycles += c;
    this.host.stats.monitorCycles += c;
  }

  /** Runs the guest for about `budget` simulated cycles (VcpuBackend.run). */
  run(budget: number): X86Exit {
    if (this.state === "halted") return X86Exit.halted;
    if (this.state === "blocked") return X86Exit.blocked;
    const m = this.machine;
    const cpu = m.cpu;
    const clock = m.clock;
    m.switchTo(this);
    const end = clock.cycles + budget;
    while (this.state === "running" && clock.cycles < end) {
      if (cpu.halted) {
        if (this.picLevel && this.vIF) {
          cpu.halted = false;
        } else if (!this.vIF) {
          this.crash("HLT with interrupts disabled (virtual IF = 0): nothing can wake the vCPU");
          break;
        } else if (clock.nextDeadline !== Number.POSITIVE_INFINITY && clock.nextDeadline < end) {
          const skipped = clock.nextDeadline - clock.cycles;
          if (skipped > 0) clock.cycles = clock.nextDeadline;
          clock.runDue();
          continue;
        } else {
          this.state = "blocked";
          this.host.block();
          break;
        }
      }
      const c0 = clock.cycles;
      let why: StopReason;
      if (this.intShadow) {
        cpu.setIntr(false);
        why = cpu.run(1);
        this.intShadow = false;
        this.updateIntr();
      } else {
        why = cpu.run(Math.max(1, Math.ceil(end - clock.cycles)));
      }
      this.host.stats.guestCycles += clock.cycles - c0;
      if (why === StopReason.Trap) this.handleTrap();
      else if (why === StopReason.Exit) m.stop.clear();
      else if (why === StopReason.Shutdown) this.crash(`the CPU shut down: ${cpu.diagnostic}`);
      else if (why === StopReason.Idle) cpu.halted = true;
      if (this.domainStop.requested && this.state === "running") {
        this.exitValue = this.domainStop.exitCode;
        this.state = "halted";
        this.host.shutdown(this.domainStop.exitCode);
      }
    }
    return this.state === "halted"
      ? X86Exit.halted
      : this.state === "blocked"
        ? X86Exit.blocked
        : X86Exit.budget;
  }

  /** Dispatches the trap the CPU recorded. */
  handleTrap(): void {
    const cpu = this.machine.cpu;
    const t = cpu.trap;
    this.stats.worldSwitches++;
    this.host.stats.worldSwitches++;
    this.stats.trapsByVector[t.vector]! += 1;
    this.host.stats.trapsByCause[t.vector & 31]! += 1;
    const c0 = this.host.stats.monitorCycles;
    const vector = t.vector;
    this.charge("worldSwitch");
    this.fault.pending = false;
    if (t.kind === "external") {
      this.stats.interrupts++;
      this.reflect(t.vector, 0, false, cpu.eip, false);
    } else if (t.kind === "software") {
      if (t.vector === 3 && this.vCpl === 0 && this.scanEnabled) this.breakpoint(t.eip);
      else this.reflect(t.vector, 0, false, t.nextEip, true);
    } else if (t.vector === 14) {
      this.pageFault(t.cr2 >>> 0, t.errorCode);
    } else if (t.vector === 13) {
      emulateGp(this, t.errorCode);
    } else {
      this.reflect(t.vector, t.errorCode, t.hasErrorCode, t.eip, false);
    }
    this.finishEmulation(t.eip);
    this.stats.monitorCyclesByVector[vector]! += this.host.stats.monitorCycles - c0;
  }

  /** Reflects a fault an emulation recorded (restarting the instruction at `eip`). */
  finishEmulation(eip: number): void {
    const f = this.fault;
    if (!f.pending || this.state !== "running") return;
    f.pending = false;
    const cpu = this.machine.cpu;
    cpu.eip = eip;
    if (f.vector === 14) {
      this.stats.truePageFaults++;
      this.vCr2 = f.lin;
    }
    const hasErr = f.vector === 8 || (f.vector >= 10 && f.vector <= 14) || f.vector === 17;
    this.reflect(f.vector, f.code, hasErr, eip, false);
    if (this.fault.pending) {
      this.fault.pending = false;
      this.crash(`fault ${this.fault.vector} while delivering exception ${f.vector} (double fault)`);
    }
  }

  private pageFault(lin: number, err: number): void {
    const cpu = this.machine.cpu;
    const user = (err & 4) !== 0;
    const write = (err & 2) !== 0;
    if (lin >= HOLE_BASE) {
      const off = lin - CODE_WINDOW_BASE;
      if (
        !user &&
        this.scanEnabled &&
        cpu.segBase[CS]! >>> 0 === CODE_WINDOW_BASE &&
        off < CODE_WINDOW_BYTES
      ) {
        this.fillWindow(off);
        return;
      }
      // A ring-3 access (data segments are truncated, so ring 1 gets #GP instead) or a fetch
      // inside the hole: the guest's view decides; data accesses are emulated.
      const g = this.gmmu.walk(lin, write, user, true);
      if (g < 0) {
        this.raise(14, this.gmmu.faultCode, lin);
        return;
      }
      this.stats.holeEmulations++;
      emulateGp(this, 0, true);
      return;
    }
    const r = this.shadow.fill(lin, write, user);
    if (r === FillResult.hidden) {
      this.stats.hiddenPageFaults++;
      this.charge("monitorTlbRefill");
    } else if (r === FillResult.true) {
      this.raise(14, this.gmmu.faultCode, lin);
    } else if (r === FillResult.emulateWrite) {
      this.stats.hiddenPageFaults++;
      this.emulateWrite(lin);
    } else {
      this.crash(`guest page at linear ${hex(lin)} lies outside its RAM`);
    }
  }

  /**
   * A write the guest may make but the shadow keeps read-only (a tracked page-table page, or a
   * CR0.WP = 0 supervisor write): the monitor lets exactly one instruction run with the shadow
   * entry writable (interrupts held off), restores it, and re-shadows what the write changed.
   */
  private emulateWrite(lin: number): void {
    const cpu = this.machine.cpu;
    const mem = this.machine.memory;
    const pte = this.shadow.pteAddress(lin);
    if (pte < 0) return;
    const old = mem.read32(pte);
    mem.write32(pte, old | 2 | 0x40);
    this.flushTlb();
    cpu.setIntr(false);
    const c0 = this.machine.clock.cycles;
    const why = cpu.run(1);
    this.host.stats.guestCycles += this.machine.clock.cycles - c0;
    if (mem.read32(pte) === (old | 2 | 0x40)) mem.write32(pte, old);
    this.flushTlb();
    this.updateIntr();
    this.charge("emulatePrivileged");
    const g = this.gmmu.walk(lin, false, false, false);
    if (g >= 0 && this.shadow.isTracked(g >>> 12)) {
      this.stats.trackedPtWrites++;
      this.shadow.tableWritten(g >>> 12, g & 0xffc, 8);
    }
    if (why === StopReason.Trap) this.handleTrap();
  }

  /** A fetch from the code window: map the patched copy of the guest's code page (scanning from EIP). */
  private fillWindow(off: number): void {
    const cpu = this.machine.cpu;
    const g = this.gmmu.walk(off, false, false, true);
    if (g < 0) {
      this.raise(14, this.gmmu.faultCode, off);
      return;
    }
    const copy = this.scanner.copyOf(g >>> 12);
    if (copy === null) {
      this.crash(`no machine memory for a patched copy of code at ${hex(off)}`);
      return;
    }
    const eip = cpu.eip >>> 0;
    if (eip >>> 12 === off >>> 12 && copy.scanned[eip & 0xfff] === 0) this.scanner.scan(eip);
    const sp = this.shadow.current!;
    const pte = sp.hole * 4096 + holeIndex(CODE_WINDOW_BASE + off) * 4;
    this.machine.memory.write32(pte, (copy.mfn * 4096) | P | A);
    this.scanner.mapped(copy, pte);
    this.stats.hiddenPageFaults++;
    this.charge("monitorTlbRefill");
    this.flushTlb();
  }

  /** INT3 in ring-0 code: a patched sensitive instruction (emulated) or an unscanned entry (scanned). */
  private breakpoint(eip: number): void {
    const g = this.gmmu.walk(eip, false, false, false);
    const copy = g < 0 ? undefined : this.scanner.copies.get(g >>> 12);
    const cpu = this.machine.cpu;
    if (copy === undefined) {
      cpu.eip = eip;
      return;
    }
    const off = eip & 0xfff;
    const patch = copy.patches.get(off);
    if (patch !== undefined) {
      this.stats.count(this.stats.breakpointHits, patch.mnemonic);
      this.charge("emulatePrivileged");
      cpu.eip = eip;
      emulatePatched(this);
      return;
    }
    cpu.eip = eip;
    if (copy.scanned[off] === 0) {
      this.stats.lazyEntryScans++;
      this.scanner.scan(eip);
      this.charge("emulatePrivileged");
      return;
    }
    // A genuine INT3 the scan copied (cannot happen: INT3 is sensitive and always patched).
    this.reflect(3, 0, false, eip + 1, true);
  }

  // --- reflection -----------------------------------------------------------------------------

  /**
   * Delivers `vector` to the guest through its virtual IDT, as the CPU would at the guest's CPL:
   * gate checks, the ring-3 → ring-0 stack switch through the guest's TSS (SS0:ESP0), the frame
   * with guest-view EFLAGS and CS, virtual IF cleared for interrupt gates.
   */
  reflect(vector: number, err: number, hasErr: boolean, eip: number, soft: boolean): void {
    const cpu = this.machine.cpu;
    this.stats.reflectedByVector[vector]! += 1;
    this.charge("exceptionEntry");
    if (vector * 8 + 7 > this.vIdtrLimit) {
      this.crash(`vector ${vector} beyond the guest's IDT limit ${hex(this.vIdtrLimit)}`);
      return;
    }
    const lo = this.read(this.vIdtrBase + vector * 8, 4, false);
    const hi = this.read(this.vIdtrBase + vector * 8 + 4, 4, false);
    if (this.fault.pending) {
      this.crash(`the guest's IDT at ${hex(this.vIdtrBase)} is not mapped`);
      return;
    }
    const type = (hi >>> 8) & 0x1f;
    const gdpl = (hi >>> 13) & 3;
    if (type !== 0xe && type !== 0xf) {
      this.crash(`vector ${vector}: IDT gate type ${type} (only 32-bit interrupt/trap gates are supported)`);
      return;
    }
    const cpl = this.vCpl;
    if (soft && gdpl < cpl) {
      this.reflect(13, vector * 8 + 2, true, cpu.trap.eip, false);
      return;
    }
    if ((hi & 0x8000) === 0) {
      this.reflect(11, vector * 8 + 2, true, eip, false);
      return;
    }
    const sel = x86.gateSelector(lo);
    const off = x86.gateOffset(lo, hi);
    const idx = sel >>> 3;
    const target = idx * 8 + 7 <= this.gdt.guestLimit ? this.gdt.guestHi[idx]! : 0;
    const tdpl = (target >>> 13) & 3;
    const flags = this.guestFlags();
    const oldCs = this.guestSelector(cpu.segSel[CS]!);
    if (tdpl < cpl) {
      const ss0 = this.read(this.vTrBase + 8, 2, false);
      const esp0 = this.read(this.vTrBase + 4, 4, false);
      if (this.fault.pending) {
        this.crash("the guest's TSS is not mapped");
        return;
      }
      const oldSs = this.guestSelector(cpu.segSel[SS]!);
      const oldEsp = cpu.regs[ESP]!;
      const saved = cpu.getSegment(SS);
      if (!this.loadSeg(SS, ss0, tdpl)) {
        this.crash(`invalid ring-0 stack segment ${hex(ss0)} in the guest's TSS`);
        return;
      }
      cpu.regs[ESP] = esp0;
      const u = tdpl === 3;
      const ok =
        this.push(oldSs, 4, u) &&
        this.push(oldEsp, 4, u) &&
        this.push(flags, 4, u) &&
        this.push(oldCs, 4, u) &&
        this.push(eip, 4, u) &&
        (!hasErr || this.push(err, 4, u));
      if (!ok) {
        cpu.setSegment(SS, saved);
        cpu.regs[ESP] = oldEsp;
        return;
      }
    } else {
      const esp = cpu.regs[ESP]!;
      const ok = this.push(flags) && this.push(oldCs) && this.push(eip) && (!hasErr || this.push(err));
      if (!ok) {
        cpu.regs[ESP] = esp;
        return;
      }
    }
    if (!this.loadSeg(CS, sel, Math.min(tdpl, cpl))) {
      this.crash(`vector ${vector}: bad code selector ${hex(sel)} in the guest's IDT`);
      return;
    }
    cpu.eip = off;
    let nf = flags & ~(TF | NT | RF);
    if (type === 0xe) nf &= ~IF;
    this.vIF = (nf & IF) !== 0;
    cpu.setEflags((nf & ~IOPL_MASK) | IF);
    cpu.halted = false;
    this.updateIntr();
  }

  /** Makes the domain crash with a diagnostic (EIP, guest CPL, recent instructions). */
  crash(why: string): void {
    if (this.state === "halted") return;
    const cpu = this.machine.cpu;
    this.state = "halted";
    const recent = cpu.recentInstructions(8).join("; ");
    this.host.crash(
      `${this.host.name}: ${why} (EIP ${hex(cpu.eip)}, guest CPL ${this.vCpl}; recent: ${recent})`,
    );
  }

  /**
   * LLDT: shadows the guest's LDT (descriptor `sel` of its GDT) into the hole and points the real
   * LDTR at the shadow; a null selector empties it. False with a fault recorded if invalid.
   */
  loadLdt(sel: number): boolean {
    const cpu = this.machine.cpu;
    if ((sel & ~3) === 0) {
      this.vLdtr = 0;
      this.ldt.clear();
      cpu.setSegment(x86.LDTR, { selector: 0, base: 0, limit: 0, attr: 0x82, valid: true });
      return true;
    }
    const idx = sel >>> 3;
    if ((sel & 4) !== 0 || idx * 8 + 7 > this.gdt.guestLimit) return this.raise(13, sel & 0xfffc);
    const lo = this.gdt.guestLo[idx]!;
    const hi = this.gdt.guestHi[idx]!;
    if (((hi >>> 8) & 0x1f) !== x86.SysType.Ldt) return this.raise(13, sel & 0xfffc);
    if ((hi & 0x8000) === 0) return this.raise(11, sel & 0xfffc);
    const limit = Math.min(x86.descLimit(lo, hi), HOLE_LDT_PAGES * 4096 - 1);
    this.ldt.load(x86.descBase(lo, hi), limit);
    this.vLdtr = sel & 0xffff;
    const [rlo, rhi] = x86.makeDescriptor(HOLE_LDT, limit, x86.ATTR_P | x86.SysType.Ldt);
    this.gdt.setMonitorDescriptor(MONITOR_LDT_SELECTOR >>> 3, rlo | 0, rhi | 0);
    cpu.setSegment(x86.LDTR, {
      selector: MONITOR_LDT_SELECTOR,
      base: HOLE_LDT,
      limit,
      attr: 0x82,
      valid: true,
    });
    return true;
  }

  private onWatchedWrite(paddr: number, size: number): void {
    if (this.ldt.onWrite(paddr, size)) this.stats.gdtWrites++;
    if (this.gdt.onWrite(paddr, size)) {
      this.stats.gdtWrites++;
      if (this.machine.current === this) this.machine.cpu.gdtrLimit = this.gdt.guestLimit;
    }
    this.scanner.onWrite(paddr, size);
  }

  /** Releases the domain's monitor frames (VcpuBackend.dispose). */
  dispose(): void {
    if (this.machine.current === this) this.machine.current = null;
    this.state = "halted";
    // Guest RAM is in the P2M and the hypervisor frees it; the monitor's own frames are ours,
    // and so are the watches on guest frames (code copies, GDT, LDT).
    this.scanner.dropAll();
    this.shadow.dropAll();
    this.gdt.clear();
    this.ldt.clear();
    this.removeWatch();
    for (const m of this.monitorFrames) this.host.allocator.free(m);
    this.stats.monitorFrames -= this.monitorFrames.size;
    this.monitorFrames.clear();
  }
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}
