/**
 * An x86 PV vCPU (Xen x86_32 PV, 2-level paging; docs/x86-pv-abi.md): the guest kernel runs in
 * ring 1 with Xen's flat selectors, its processes in ring 3, on the shared i386 CPU of
 * `X86FullMachine` in intercept mode (every exception and INT n comes to the monitor, which is
 * TypeScript: "ring 0"). Unlike the VMware-style vCPU there is nothing to scan, patch or shadow:
 *
 *  - `int $0x82` from ring 1 is a hypercall (the hypervisor's dispatcher, through the host);
 *  - the hardware CR3 is the guest's own L2 table (direct paging): its entries hold machine frame
 *    numbers and it changes only through mmu_update / update_va_mapping / mmuext_op, validated
 *    with Xen's page types (page-types.ts); CR3 loads and INVLPG #GP at ring 1;
 *  - exceptions and software interrupts are bounced to the handlers of set_trap_table by
 *    building the frame the CPU would build for a ring-1 handler, on the kernel stack of
 *    stack_switch when coming from ring 3 (Xen's create_bounce_frame); #PF leaves CR2 in
 *    shared_info's vcpu_info[0].arch.cr2;
 *  - event upcalls go to the set_callbacks event entry, like an interrupt with the upcall mask
 *    set; the pushed EFLAGS.IF is the inverse of the mask before (Xen: "eflags.IF ==
 *    !saved_upcall_mask"), and HYPERVISOR_iret restores the mask from it.
 *
 * The CPU's real IF stays 1 and IOPL 0, so CLI/STI/HLT/IN/OUT #GP in both guest rings and are
 * bounced (the guest's virtual IF is evtchn_upcall_mask). A guest bug (a fault with no handler,
 * an unmapped kernel stack while bouncing) crashes the domain, never the monitor.
 */
import {
  type AbiLayouts,
  Errno,
  FlatSelector,
  MmuCmd,
  MmuextOp,
  PVKIT_X86_PV_VIRT_BASE,
  TRAP_TABLE_MAX,
  TrapInfoFlags,
  Uvmf,
} from "../../../hypercalls/index.js";
import { EM_386, type PhysicalMemory, parseElf32, StopReason, x86 } from "../../../machine/index.js";

/** ELF program header type of a loadable segment (System V ABI). */
const PT_LOAD = 1;

import type { MachinePageAllocator, P2m } from "../../interfaces.js";
import { HOLE_BASE, HOLE_GDT, HOLE_GDT_PAGES, HOLE_IDT, HOLE_TSS, holeIndex } from "../layout.js";
import { newSavedCpu, restoreCpuState, type SavedCpu, saveCpuState } from "../saved-cpu.js";
import { X86Exit, type X86FullMachine } from "../vcpu.js";
import { FLAT_DESCRIPTORS, flatSegment, HOLE_SLOT, PV_TSS_SELECTOR } from "./layout.js";
import { PageType, PageTypes } from "./page-types.js";
import { X86PvStats } from "./stats.js";

const { CS, SS, DS, ES, FS, GS, ESP, EAX, ESI } = x86;
const IF = 0x200;
const TF = 0x100;
const NT = 0x4000;
const RF = 0x10000;
const IOPL_MASK = 0x3000;
const P = 1;
const RW = 2;
const US = 4;
const A = 0x20;
const D = 0x40;
const DATA_SEGS = [ES, DS, FS, GS] as const;
/** A null selector in a data segment register (any use faults). */
const NULL_SEGMENT: x86.SegmentCache = { selector: 0, base: 0, limit: 0, attr: 0, valid: false };
/** The hypercall vector (arch-x86/xen-x86_32.h TRAP_INSTR "int $0x82"). */
const HYPERCALL_VECTOR = 0x82;
/** Most requests one mmu_update / mmuext_op call takes (Xen preempts long batches; pvkit bounds them). */
export const PV_MMU_BATCH_MAX = 4096;

/** The per-domain counters of the hypervisor (its DomainStats satisfies this). */
export interface X86PvCounters {
  guestCycles: number;
  monitorCycles: number;
  worldSwitches: number;
  upcalls: number;
  readonly trapsByCause: Float64Array;
}

/** What an x86 PV vCPU needs from the hypervisor (src/hypervisor/machine-code implements it). */
export interface X86PvHost {
  readonly domid: number;
  readonly name: string;
  /** The domain's pseudo-physical memory, populated before the vCPU is built. */
  readonly p2m: P2m;
  /** Machine frames for the monitor's hole tables, accounted to the domain. */
  readonly allocator: MachinePageAllocator;
  readonly stats: X86PvCounters;
  /** The domain's ABI layouts (x86_32): shared_info, start_info, trap_info, iret frame. */
  readonly layouts: AbiLayouts;
  /** Machine frame of shared_info. */
  readonly sharedInfoMfn: number;
  /** The set_callbacks entries (read at delivery time). */
  readonly callbacks: {
    readonly eventSelector: number;
    readonly eventAddress: number;
    readonly failsafeSelector: number;
    readonly failsafeAddress: number;
  };
  /** Dispatches the hypercall in EAX with EBX..EDI and writes the result to EAX. */
  hypercall(regs: Int32Array): void;
  /** local_events_need_delivery: evtchn_upcall_pending && !evtchn_upcall_mask. */
  needDelivery(): boolean;
  /** vcpu_info.evtchn_upcall_mask (the guest's virtual IF, inverted). */
  upcallMask(): boolean;
  setUpcallMask(masked: boolean): void;
  /** An upcall was delivered (its bounce frame built): count it and trace it; sets the mask too. */
  upcallDelivered(): void;
  /** True once the scheduler blocked the vCPU (SCHEDOP_block, SCHEDOP_poll). */
  isBlocked(): boolean;
  /** False once the domain shut down or crashed. */
  isAlive(): boolean;
  /** True (once) after SCHEDOP_yield: the vCPU gives up the rest of its slice. */
  takeYield?(): boolean;
  crash(diagnostic: string): void;
}

/** The boot layout the domain builder chose (virtual addresses; docs/x86-pv-abi.md "Boot"). */
export interface X86PvBootInfo {
  readonly entry: number;
  readonly startInfo: number;
  readonly mfnList: number;
  readonly ptBase: number;
  readonly nrPtFrames: number;
  readonly stackTop: number;
  /** End of the initial mapping (exclusive). */
  readonly mappedEnd: number;
}

export class X86PvVcpu {
  readonly stats = new X86PvStats();
  readonly types: PageTypes;
  state: "running" | "halted" = "running";
  /** Machine frame of the current L2 table (the guest's base pointer), -1 before boot. */
  baseptr = -1;
  /** stack_switch: the ring-1 stack a bounce from ring 3 switches to. */
  kernelSs: number = FlatSelector.RING1_SS;
  kernelEsp = 0;
  /** set_trap_table: per vector the handler's address (0: none), code selector and flags. */
  readonly trapAddress = new Uint32Array(256);
  readonly trapCs = new Uint16Array(256);
  readonly trapFlags = new Uint8Array(256);
  boot: X86PvBootInfo | null = null;
  private readonly mem: PhysicalMemory;
  private readonly monitorFrames = new Set<number>();
  private readonly holePt: number;
  private readonly saved: SavedCpu = newSavedCpu();
  /** Scratch for one request copied in from the guest (copy once, then validate). */
  private readonly scratch = new DataView(new ArrayBuffer(64));
  private readonly scratchU8 = new Uint8Array(this.scratch.buffer);
  private readonly cr2Offset: number;
  /** Frames of pfns 0–3 (start_info, shared_info, store, console): written by the hypervisor, never tables. */
  private readonly hypervisorPages: number[];

  constructor(
    readonly machine: X86FullMachine,
    readonly host: X86PvHost,
  ) {
    this.mem = machine.memory;
    const L = host.layouts;
    this.cr2Offset = L.sharedInfo.offsets.vcpu_info! + L.vcpuInfo.offsets["arch.cr2"]!;
    this.hypervisorPages = [0, 1, 2, 3].map((pfn) => host.p2m.lookup(pfn)).filter((m) => m >= 0);
    this.holePt = this.mustAlloc();
    this.initHole();
    this.types = new PageTypes(
      this.mem,
      host.allocator.machinePages,
      (mfn) => host.allocator.owner(mfn) === host.domid && !this.monitorFrames.has(mfn),
      (this.holePt * 4096) | P | RW | A,
      (mfn) => this.hypervisorPages.includes(mfn),
    );
    // Xen masks every upcall until the guest is ready for events (the domain builder's state).
    host.setUpcallMask(true);
  }

  // --- frames and the hole --------------------------------------------------------------------

  private mustAlloc(): number {
    const m = this.host.allocator.allocate(this.host.domid);
    if (m < 0) throw new Error(`domain ${this.host.name}: no machine memory for the monitor hole`);
    this.mem.u8.fill(0, m * 4096, m * 4096 + 4096);
    this.monitorFrames.add(m);
    this.stats.monitorFrames++;
    return m;
  }

  /**
   * The hole page table: GDT (a zero page for the 14 empty pages, the flat selectors' page, the
   * TSS descriptor's page), the IDT (256 not-present gates: intercept mode never vectors) and the
   * TSS, all supervisor read-only with Accessed preset (layout.ts).
   */
  private initHole(): void {
    const mem = this.mem;
    const zero = this.mustAlloc();
    const flat = this.mustAlloc();
    const last = this.mustAlloc();
    const idt = this.mustAlloc();
    const tss = this.mustAlloc();
    for (const [sel, d] of FLAT_DESCRIPTORS) {
      const off = sel & ~7 & 0xfff;
      mem.write32(flat * 4096 + off, d[0]);
      mem.write32(flat * 4096 + off + 4, d[1]);
    }
    const [tlo, thi] = x86.makeDescriptor(HOLE_TSS, 103, x86.ATTR_P | x86.SysType.Tss32Avail);
    mem.write32(last * 4096 + (PV_TSS_SELECTOR & 0xfff), tlo);
    mem.write32(last * 4096 + (PV_TSS_SELECTOR & 0xfff) + 4, thi);
    // The I/O map base beyond the TSS limit: no I/O bitmap, every IN/OUT at CPL 1 or 3 faults.
    mem.write16(tss * 4096 + 0x66, 104);
    const put = (lin: number, mfn: number) =>
      mem.write32(this.holePt * 4096 + holeIndex(lin) * 4, (mfn * 4096) | P | A);
    const flatPage = (FlatSelector.RING1_CS >>> 12) & 0xf;
    for (let i = 0; i < HOLE_GDT_PAGES; i++) {
      put(HOLE_GDT + i * 4096, i === flatPage ? flat : i === HOLE_GDT_PAGES - 1 ? last : zero);
    }
    put(HOLE_IDT, idt);
    put(HOLE_TSS, tss);
  }

  // --- the domain builder ---------------------------------------------------------------------

  /**
   * Loads a PV kernel ELF and builds the initial address space as Xen's domain builder does
   * (tools/libxc xc_dom_x86.c, arch/x86/pv/dom0_build.c): the image at its virtual addresses
   * (virtual base PVKIT_X86_PV_VIRT_BASE = pfn 0), then the mfn_list (the P2M the guest needs for
   * direct paging), the page tables and a boot stack page; one L2 and enough L1s to map
   * everything from the virtual base up to a 4 MiB boundary with at least 512 KiB to spare;
   * page-table frames mapped read-only; the L2 validated, pinned and loaded. pfns 0–3 are pvkit's
   * fixed start_info, shared_info, store and console pages (the hypervisor already wrote
   * start_info; this fills pt_base, nr_pt_frames and mfn_list). Registers as Xen leaves them:
   * ESI = start_info, CS/SS/DS/ES/FS/GS flat ring 1, ESP = top of the boot stack.
   */
  load(bytes: Uint8Array, file: string): X86PvBootInfo {
    const host = this.host;
    const base = PVKIT_X86_PV_VIRT_BASE;
    // The populated pfns (the P2M may be sized for more: its limit includes the monitor's frames).
    let nr = 0;
    while (nr < host.p2m.nrPfns && host.p2m.lookup(nr) >= 0) nr++;
    const elf = parseElf32(bytes, { file, machine: EM_386 });
    const mfnOf = (pfn: number) => {
      const m = host.p2m.lookup(pfn);
      if (pfn >= nr || m < 0) throw new Error(`${file}: pfn ${pfn} is beyond the domain's ${nr} pages`);
      return m;
    };
    let imageEnd = base + 4 * 4096;
    for (const ph of elf.loadSegments) {
      if (ph.type !== PT_LOAD || ph.memsz === 0) continue;
      const v = ph.vaddr >>> 0;
      if (v < base + 4 * 4096 || v + ph.memsz > HOLE_BASE)
        throw new Error(
          `${file}: segment at ${hex(v)} is not above the virtual base + 4 pages (${hex(base + 0x4000)}): link x86 PV kernels at ${hex(base + 0x10000)}`,
        );
      for (let off = 0; off < ph.filesz; ) {
        const va = v + off;
        const n = Math.min(4096 - (va & 4095), ph.filesz - off);
        const m = mfnOf((va - base) >>> 12);
        this.mem.u8.set(bytes.subarray(ph.offset + off, ph.offset + off + n), m * 4096 + (va & 4095));
        off += n;
      }
      imageEnd = Math.max(imageEnd, v + ph.memsz);
    }
    const mfnListPfn = Math.ceil((imageEnd - base) / 4096);
    const mfnListPages = Math.ceil((nr * 4) / 4096);
    const ptPfn = mfnListPfn + mfnListPages;
    let nrPt = 2;
    let stackPfn = 0;
    let vEnd = 0;
    for (;;) {
      stackPfn = ptPfn + nrPt;
      const stackEnd = base + (stackPfn + 1) * 4096;
      vEnd = Math.ceil(stackEnd / 0x400000) * 0x400000;
      if (vEnd - stackEnd < 512 * 1024) vEnd += 0x400000;
      const need = 1 + (vEnd - base) / 0x400000;
      if (need === nrPt) break;
      nrPt = need;
    }
    const mappedPages = (vEnd - base) >>> 12;
    if (mappedPages > nr)
      throw new Error(`${file}: the initial mapping needs ${mappedPages} pages, the domain has ${nr}`);
    for (let pfn = 0; pfn < nr; pfn++) {
      this.mem.write32(mfnOf(mfnListPfn + (pfn >>> 10)) * 4096 + (pfn & 1023) * 4, mfnOf(pfn));
    }
    const l2 = mfnOf(ptPfn);
    for (let i = 0; i < nrPt - 1; i++) {
      const l1 = mfnOf(ptPfn + 1 + i);
      this.mem.write32(l2 * 4096 + ((base >>> 22) + i) * 4, (l1 * 4096) | P | RW | US | A | D);
      for (let k = 0; k < 1024; k++) {
        const pfn = i * 1024 + k;
        const ro = pfn >= ptPfn && pfn < ptPfn + nrPt;
        this.mem.write32(l1 * 4096 + k * 4, (mfnOf(pfn) * 4096) | P | A | (ro ? 0 : RW));
      }
    }
    // Pinned (one type reference) and the base pointer (another), as Xen's builder leaves it.
    const r = this.types.getType(l2, PageType.l2);
    if (r < 0) throw new Error(`${file}: the initial page tables did not validate (${r})`);
    this.types.getType(l2, PageType.l2);
    this.types.pinned[l2] = 1;
    this.baseptr = l2;
    const S = host.layouts.startInfo.offsets;
    const si = mfnOf(0) * 4096;
    const info: X86PvBootInfo = {
      entry: elf.entry >>> 0,
      startInfo: base,
      mfnList: base + mfnListPfn * 4096,
      ptBase: base + ptPfn * 4096,
      nrPtFrames: nrPt,
      stackTop: base + (stackPfn + 1) * 4096,
      mappedEnd: vEnd,
    };
    this.mem.write32(si + S.nr_pages!, nr);
    this.mem.write32(host.sharedInfoMfn * 4096 + host.layouts.sharedInfo.offsets["arch.max_pfn"]!, nr);
    this.mem.write32(si + S.pt_base!, info.ptBase);
    this.mem.write32(si + S.nr_pt_frames!, nrPt);
    this.mem.write32(si + S.mfn_list!, info.mfnList);
    this.boot = info;
    this.resetCpu(info);
    return info;
  }

  private resetCpu(b: X86PvBootInfo): void {
    const s = this.saved;
    s.regs.fill(0);
    s.regs[ESI] = b.startInfo;
    s.regs[ESP] = b.stackTop;
    s.eip = b.entry;
    s.eflags = IF | 2;
    s.segs.length = 0;
    const ds = flatSegment(FlatSelector.RING1_DS)! as x86.SegmentCache;
    const cs = flatSegment(FlatSelector.RING1_CS)! as x86.SegmentCache;
    for (let i = 0; i < 6; i++) s.segs.push(i === CS ? cs : ds);
    s.segs.push({ selector: 0, base: 0, limit: 0xffff, attr: 0x82, valid: true });
    s.segs.push({ selector: PV_TSS_SELECTOR, base: HOLE_TSS, limit: 103, attr: 0x8b, valid: true });
    if (this.machine.current === this) this.loadCpu();
  }

  // --- world switch ---------------------------------------------------------------------------

  saveCpu(): void {
    saveCpuState(this.machine.cpu, this.saved);
  }

  loadCpu(): void {
    const cpu = this.machine.cpu;
    const s = this.saved;
    // The guest runs with IOPL 0 and the real IF set: its own IF is evtchn_upcall_mask.
    s.halted = false;
    restoreCpuState(cpu, s, (s.eflags & ~IOPL_MASK) | IF);
    cpu.gdtrBase = HOLE_GDT;
    cpu.gdtrLimit = HOLE_GDT_PAGES * 4096 - 1;
    cpu.idtrBase = HOLE_IDT;
    cpu.idtrLimit = 256 * 8 - 1;
    if (this.baseptr >= 0) cpu.cr3 = this.baseptr * 4096;
    cpu.setIntr(false);
  }

  /** No virtual interrupt controller: events arrive as upcalls, never on INTR. */
  acknowledge(): number {
    return 0xff;
  }

  // --- the run loop ---------------------------------------------------------------------------

  private charge(cycles: number): void {
    this.machine.clock.cycles += cycles;
    this.host.stats.monitorCycles += cycles;
  }

  /** Runs the guest for about `budget` simulated cycles (VcpuBackend.run). */
  run(budget: number): X86Exit {
    const host = this.host;
    if (this.state === "halted" || !host.isAlive()) return X86Exit.halted;
    if (host.isBlocked()) return X86Exit.blocked;
    const m = this.machine;
    const cpu = m.cpu;
    const clock = m.clock;
    m.switchTo(this);
    const end = clock.cycles + budget;
    while (this.state === "running" && clock.cycles < end) {
      if (!host.isAlive()) {
        this.state = "halted";
        break;
      }
      if (host.isBlocked()) return X86Exit.blocked;
      if (host.callbacks.eventAddress !== 0 && host.needDelivery()) {
        this.deliverUpcall();
        continue;
      }
      // Stop at the next timer deadline too: its event must be delivered before more guest code.
      const limit = Math.min(end, clock.nextDeadline);
      const c0 = clock.cycles;
      const why = cpu.run(Math.max(1, Math.ceil(limit - clock.cycles)));
      host.stats.guestCycles += clock.cycles - c0;
      if (why === StopReason.Trap) {
        this.handleTrap();
        if (host.takeYield?.() && this.state === "running" && host.isAlive()) return X86Exit.yield;
      } else if (why === StopReason.Exit) m.stop.clear();
      else if (why === StopReason.Shutdown) this.crash(`the CPU shut down: ${cpu.diagnostic}`);
      else if (why === StopReason.Idle) this.crash("the CPU halted (impossible at ring 1 or 3)");
    }
    if (!host.isAlive()) this.state = "halted";
    return this.state === "halted" ? X86Exit.halted : host.isBlocked() ? X86Exit.blocked : X86Exit.budget;
  }

  /** Dispatches the trap the CPU recorded: a hypercall, or an event bounced to the guest. */
  handleTrap(): void {
    const cpu = this.machine.cpu;
    const t = cpu.trap;
    const costs = this.machine.costs;
    this.stats.worldSwitches++;
    if (t.kind === "software" && t.vector === HYPERCALL_VECTOR && cpu.cpl === 1) {
      // The dispatcher counts the hypercall and charges its cost (trap, dispatch and return).
      const nr = cpu.regs[EAX]! >>> 0;
      this.stats.hypercallsByNumber[Math.min(nr, 63)]! += 1;
      cpu.eip = t.nextEip;
      this.host.hypercall(cpu.regs);
      return;
    }
    this.host.stats.worldSwitches++;
    this.host.stats.trapsByCause[t.vector & 31]! += 1;
    this.charge(costs.worldSwitch);
    if (t.kind === "software") {
      const v = t.vector;
      // INT n needs DPL >= CPL in the guest's trap table (int $0x82 is DPL 1: #GP from ring 3).
      const dpl = v === HYPERCALL_VECTOR ? 1 : this.trapFlags[v]! & TrapInfoFlags.DPL_MASK;
      if (this.trapAddress[v] === 0 || dpl < cpu.cpl) this.bounce(13, v * 8 + 2, true, t.eip);
      else this.bounce(v, 0, false, t.nextEip);
    } else if (t.kind === "external") {
      cpu.eip = t.eip;
    } else {
      if (t.vector === 14) {
        this.stats.pageFaults++;
        this.mem.write32(this.host.sharedInfoMfn * 4096 + this.cr2Offset, t.cr2 >>> 0);
      }
      this.bounce(t.vector, t.errorCode, t.hasErrorCode, t.eip);
    }
  }

  /** Bounces `vector` to its trap_info handler; a vector with none crashes the domain (Xen: "unhandled trap"). */
  private bounce(vector: number, err: number, hasErr: boolean, eip: number): void {
    const addr = this.trapAddress[vector]!;
    if (addr === 0) {
      this.crash(`exception ${vector} (error ${hex(err)}) at ${hex(eip)} with no trap_info handler`);
      return;
    }
    this.stats.bouncesByVector[vector]! += 1;
    this.charge(this.machine.costs.exceptionEntry);
    const setMask = (this.trapFlags[vector]! & TrapInfoFlags.CLEAR_IF) !== 0;
    this.createBounceFrame(this.trapCs[vector]!, addr, setMask, err, hasErr, eip, `exception ${vector}`);
  }

  /** An event upcall: an interrupt-like bounce to the event callback with the upcall mask set. */
  private deliverUpcall(): void {
    const cb = this.host.callbacks;
    this.stats.worldSwitches++;
    this.stats.upcalls++;
    this.charge(this.machine.costs.eventDeliver);
    const cpu = this.machine.cpu;
    // The frame saves the guest's virtual IF (the mask) before the bounce sets it.
    this.createBounceFrame(cb.eventSelector | 1, cb.eventAddress, true, 0, false, cpu.eip, "event upcall");
    this.host.upcallDelivered();
  }

  /**
   * Xen's create_bounce_frame: from ring 3, switch to the stack_switch stack and push SS, ESP;
   * then EFLAGS (IF = !upcall mask, IOPL 0), CS, EIP and the error code; continue at cs:addr in
   * ring 1 with TF/NT/RF cleared, the mask set if asked. Pushes go through the guest's page
   * tables with ring-1 rights; any fault crashes the domain (Xen: "domain_crash" on a bad stack).
   */
  private createBounceFrame(
    cs: number,
    addr: number,
    setMask: boolean,
    err: number,
    hasErr: boolean,
    eip: number,
    what: string,
  ): void {
    const cpu = this.machine.cpu;
    const code = flatSegment(cs);
    if (code === null || (code.selector & ~3) !== (FlatSelector.RING1_CS & ~3) || addr >>> 0 >= HOLE_BASE) {
      this.crash(`${what}: handler ${hex(cs)}:${hex(addr)} is not ring-1 flat code below the hole`);
      return;
    }
    const fromUser = cpu.cpl === 3;
    const flags = (cpu.getEflags() & ~(IF | IOPL_MASK)) | (this.host.upcallMask() ? 0 : IF);
    let esp = fromUser ? this.kernelEsp >>> 0 : cpu.regs[ESP]! >>> 0;
    const words = (fromUser ? 5 : 3) + (hasErr ? 1 : 0);
    esp = (esp - words * 4) >>> 0;
    let at = esp;
    let ok = true;
    if (hasErr) {
      ok = this.pushAt(at, err);
      at = (at + 4) >>> 0;
    }
    ok =
      ok &&
      this.pushAt(at, eip) &&
      this.pushAt(at + 4, cpu.segSel[CS]! & 0xffff) &&
      this.pushAt(at + 8, flags);
    if (ok && fromUser)
      ok = this.pushAt(at + 12, cpu.regs[ESP]!) && this.pushAt(at + 16, cpu.segSel[SS]! & 0xffff);
    if (!ok) {
      this.crash(`${what}: the guest kernel stack at ${hex(esp)} is not mapped writable`);
      return;
    }
    if (fromUser) cpu.setSegment(SS, flatSegment(this.kernelSs | 1)! as x86.SegmentCache);
    cpu.regs[ESP] = esp | 0;
    cpu.setSegment(CS, flatSegment((code.selector & ~3) | 1)! as x86.SegmentCache);
    cpu.eip = addr >>> 0;
    cpu.setEflags((flags & ~(TF | NT | RF | IOPL_MASK)) | IF);
    if (setMask) this.host.setUpcallMask(true);
  }

  /** Writes one dword of a bounce frame at guest virtual `at` with ring-1 rights; false on a fault. */
  private pushAt(at: number, v: number): boolean {
    const a = at >>> 0;
    const ma = this.translate(a, true);
    if (ma < 0) return false;
    if ((a & 4095) <= 4092) {
      this.mem.write32(ma, v >>> 0);
      return true;
    }
    return this.writeGuest32(a, v); // a dword straddling two pages
  }

  /** Makes the domain crash with a diagnostic (EIP, CPL, recent instructions). */
  crash(why: string): void {
    if (this.state === "halted") return;
    const cpu = this.machine.cpu;
    this.state = "halted";
    const recent = this.machine.current === this ? cpu.recentInstructions(8).join("; ") : "";
    this.host.crash(`${this.host.name}: ${why} (EIP ${hex(cpu.eip)}, CPL ${cpu.cpl}; recent: ${recent})`);
  }

  // --- guest memory ---------------------------------------------------------------------------

  /**
   * Machine address of guest virtual `lin` through the current page tables with ring-1 rights
   * (CR0.WP: a write needs RW at both levels), or -1. Never inside the hole. This is the domain's
   * addressTranslator: hypercall arguments are guest virtual addresses, as in Xen.
   */
  translate(lin: number, write: boolean): number {
    const u = lin >>> 0;
    if (u >= HOLE_BASE || this.baseptr < 0) return -1;
    const mem = this.mem;
    const pde = mem.read32(this.baseptr * 4096 + (u >>> 22) * 4);
    if ((pde & P) === 0 || (write && (pde & RW) === 0)) return -1;
    const pte = mem.read32((pde >>> 12) * 4096 + ((u >>> 12) & 1023) * 4);
    if ((pte & P) === 0 || (write && (pte & RW) === 0)) return -1;
    return (pte >>> 12) * 4096 + (u & 4095);
  }

  /** Copies `n` bytes (≤ 64) of guest virtual memory into the scratch buffer; false on a fault. */
  private copyIn(lin: number, n: number): boolean {
    for (let i = 0; i < n; ) {
      const ma = this.translate((lin + i) >>> 0, false);
      if (ma < 0) return false;
      const k = Math.min(n - i, 4096 - (ma & 4095));
      this.scratchU8.set(this.mem.u8.subarray(ma, ma + k), i);
      i += k;
    }
    return true;
  }

  /** Writes a u32 to guest virtual memory; false on a fault. */
  private writeGuest32(lin: number, v: number): boolean {
    for (let i = 0; i < 4; i++) {
      if (this.translate((lin + i) >>> 0, true) < 0) return false;
    }
    for (let i = 0; i < 4; i++)
      this.mem.write8(this.translate((lin + i) >>> 0, true), (v >>> (8 * i)) & 0xff);
    return true;
  }

  // --- CPU hypercalls (docs/x86-pv-abi.md "Hypercalls") ---------------------------------------

  /**
   * set_trap_table(table): reads trap_info entries until a zero address (or 256); each sets its
   * vector's handler (cs RPL 0 is fixed up to 1, as Xen's fixup_guest_code_selector). A null
   * table clears every handler. -EFAULT for an unreadable entry, -EPERM for a code selector other
   * than FLAT_RING1_CS, -EINVAL for a handler in the hole; entries before a bad one stay set (Xen).
   */
  setTrapTable(table: number): number {
    if (table === 0) {
      this.trapAddress.fill(0);
      return 0;
    }
    const T = this.host.layouts.trapInfo!;
    const o = T.offsets;
    for (let i = 0; i < TRAP_TABLE_MAX; i++) {
      if (!this.copyIn((table + i * T.size) >>> 0, T.size)) return Errno.EFAULT;
      const d = this.scratch;
      const address = d.getUint32(o.address!, true);
      if (address === 0) break;
      const vector = d.getUint8(o.vector!);
      const flags = d.getUint8(o.flags!);
      let cs = d.getUint16(o.cs!, true);
      if ((cs & 3) === 0) cs |= 1;
      if ((cs & ~3) !== (FlatSelector.RING1_CS & ~3) || (cs & 3) !== 1) return Errno.EPERM;
      if (address >= HOLE_BASE) return Errno.EINVAL;
      this.trapAddress[vector] = address;
      this.trapCs[vector] = cs;
      this.trapFlags[vector] = flags;
    }
    return 0;
  }

  /** stack_switch(ss, esp): the ring-1 stack for bounces from ring 3. -EPERM unless ss is FLAT_RING1_SS. */
  stackSwitch(ss: number, esp: number): number {
    let s = ss & 0xffff;
    if ((s & 3) === 0) s |= 1;
    if (s !== FlatSelector.RING1_SS) return Errno.EPERM;
    this.kernelSs = s;
    this.kernelEsp = esp >>> 0;
    return 0;
  }

  /**
   * HYPERVISOR_iret (Xen's x86_32 do_iret): pops EAX, EIP, CS, EFLAGS and — returning to ring 3 —
   * ESP, SS from the guest kernel stack; EFLAGS gets IF = 1, IOPL 0; the upcall mask becomes
   * !EFLAGS.IF. Returns the popped EAX (the dispatcher writes it back). A frame that cannot be
   * read or names a selector other than the flat ring-1/ring-3 ones crashes the domain, as Xen's
   * does ("exit_and_crash"). Ring-3 returns null DS/ES/FS/GS holding ring-1 selectors, as IRET does.
   */
  iret(): number {
    const cpu = this.machine.cpu;
    const F = this.host.layouts.iretFrame!;
    const o = F.offsets;
    const sp = cpu.regs[ESP]! >>> 0;
    if (!this.copyIn(sp, 16)) {
      this.crash(`iret: the frame at ${hex(sp)} is not mapped`);
      return 0;
    }
    const d = this.scratch;
    const eax = d.getUint32(o.eax!, true);
    const eip = d.getUint32(o.eip!, true);
    const cs = d.getUint32(o.cs!, true) & 0xffff;
    const eflags = d.getUint32(o.eflags!, true);
    const rpl = cs & 3;
    const code = flatSegment(cs);
    const wantCs = rpl === 1 ? FlatSelector.RING1_CS : FlatSelector.RING3_CS;
    if (rpl === 0 || rpl === 2 || code === null || (cs & ~3) !== (wantCs & ~3)) {
      this.crash(`iret: bad code selector ${hex(cs)}`);
      return 0;
    }
    let esp = (sp + 16) >>> 0;
    if (rpl === 3) {
      if (!this.copyIn(sp, F.size)) {
        this.crash(`iret: the ring-3 frame at ${hex(sp)} is not mapped`);
        return 0;
      }
      esp = d.getUint32(o.esp!, true);
      const ss = d.getUint32(o.ss!, true) & 0xffff;
      if (ss !== FlatSelector.RING3_SS) {
        this.crash(`iret: bad ring-3 stack selector ${hex(ss)}`);
        return 0;
      }
      cpu.setSegment(SS, flatSegment(ss)! as x86.SegmentCache);
      for (let k = 0; k < DATA_SEGS.length; k++) {
        const seg = DATA_SEGS[k]!;
        const sel = cpu.segSel[seg]!;
        if ((sel & 3) !== 3 || ((sel & ~3) !== (FlatSelector.RING3_DS & ~3) && (sel & ~3) !== 0))
          cpu.setSegment(seg, NULL_SEGMENT);
      }
    }
    cpu.setSegment(CS, code as x86.SegmentCache);
    cpu.eip = eip;
    cpu.regs[ESP] = esp | 0;
    cpu.setEflags((eflags & ~(IOPL_MASK | NT)) | IF);
    this.host.setUpcallMask((eflags & IF) === 0);
    this.stats.irets++;
    this.charge(this.machine.costs.exceptionReturn);
    return eax | 0;
  }

  /**
   * mmu_update(reqs, count, pdone, foreigndom): each request {u64 ptr, u64 val} copied in once.
   * MMU_NORMAL_PT_UPDATE / MMU_PT_UPDATE_PRESERVE_AD write the PTE at machine address ptr: into a
   * validated L1 or L2 table the new entry is validated (page-types.ts) and the old one released;
   * into any other own frame it is a plain write (the frame takes the writable type meanwhile).
   * MMU_MACHPHYS_UPDATE sets the M2P entry of an own frame. Stops at the first bad request with
   * its errno; *pdone = requests done.
   */
  mmuUpdate(
    reqs: number,
    count: number,
    pdone: number,
    foreignDom: number,
    setPfn: (mfn: number, pfn: number) => void,
  ): number {
    const fd = this.foreignCheck(foreignDom);
    if (fd < 0) return fd;
    if (count > PV_MMU_BATCH_MAX) return Errno.EINVAL;
    const size = this.host.layouts.mmuUpdate.size;
    let done = 0;
    let rc = 0;
    let touched = false;
    for (; done < count; done++) {
      if (!this.copyIn((reqs + done * size) >>> 0, 16)) {
        rc = Errno.EFAULT;
        break;
      }
      const lo = this.scratch.getUint32(0, true);
      const hi = this.scratch.getUint32(4, true);
      const vlo = this.scratch.getUint32(8, true);
      const vhi = this.scratch.getUint32(12, true);
      const cmd = lo & 3;
      if (hi !== 0) {
        rc = Errno.EINVAL;
        break;
      }
      if (cmd === MmuCmd.machphys_update) {
        const mfn = lo >>> 12;
        if (!this.types.owns(mfn)) {
          rc = Errno.EPERM;
          break;
        }
        setPfn(mfn, vlo);
        continue;
      }
      if (cmd !== MmuCmd.normal_pt_update && cmd !== MmuCmd.pt_update_preserve_ad) {
        rc = Errno.ENOSYS;
        break;
      }
      if (vhi !== 0) {
        rc = Errno.EINVAL;
        break;
      }
      rc = this.writeEntry(lo >>> 12, (lo & 0xffc) >>> 2, vlo, cmd === MmuCmd.pt_update_preserve_ad);
      if (rc < 0) break;
      touched = true;
      this.stats.mmuUpdates++;
      this.charge(this.machine.costs.ptUpdate);
    }
    if (rc < 0) this.stats.mmuUpdateErrors++;
    // Conservative: any page-table change flushes this vCPU's TLB, so no stale translation can
    // outlive the type reference that allowed it (Xen tracks this with TLB-flush timestamps).
    if (touched) this.flushTlb();
    this.syncTypeStats();
    if (pdone !== 0 && !this.writeGuest32(pdone, done)) return Errno.EFAULT;
    return rc;
  }

  /**
   * update_va_mapping(va, val, flags) — 2-level x86_32 form (EBX va, ECX val, EDX flags): writes
   * the L1 entry mapping `va` in the current address space, validated as mmu_update does, then
   * UVMF_INVLPG invalidates `va` or UVMF_TLB_FLUSH flushes. -EINVAL for a `va` in the hole or
   * without an L1 table.
   */
  updateVaMapping(va: number, val: number, flags: number): number {
    const u = va >>> 0;
    let rc = 0;
    if (u >= HOLE_BASE || this.baseptr < 0) rc = Errno.EINVAL;
    else {
      const pde = this.mem.read32(this.baseptr * 4096 + (u >>> 22) * 4);
      if ((pde & P) === 0) rc = Errno.EINVAL;
      else rc = this.writeEntry(pde >>> 12, (u >>> 12) & 1023, val >>> 0, false);
    }
    if (rc < 0) {
      this.stats.vaMappingErrors++;
      return rc;
    }
    this.stats.vaMappings++;
    this.syncTypeStats();
    this.charge(this.machine.costs.ptUpdate);
    // Flush regardless of flags (see mmuUpdate); the flags are still checked as Xen reads them.
    const type = flags & Uvmf.FLUSHTYPE_MASK;
    if (type === Uvmf.INVLPG && this.machine.current === this) this.machine.cpu.paging.invalidate(u);
    this.flushTlb();
    return 0;
  }

  /**
   * Writes entry `index` of own frame `mfn`: validated if the frame is an L1 or L2 table (the hole
   * slot of an L2 is refused), plain otherwise (the frame takes the writable type for the write).
   */
  private writeEntry(mfn: number, index: number, val: number, preserveAd: boolean): number {
    const t = this.types;
    if (!t.owns(mfn)) return Errno.EPERM;
    const at = mfn * 4096 + index * 4;
    const old = this.mem.read32(at);
    if (t.isTable(mfn, PageType.l1)) {
      const nv = preserveAd ? ((val & ~(A | D)) | (old & (A | D))) >>> 0 : val;
      const r = t.getL1e(nv);
      if (r < 0) return r;
      this.mem.write32(at, nv);
      t.putL1e(old);
      return 0;
    }
    if (t.isTable(mfn, PageType.l2)) {
      if (index >= HOLE_SLOT) return Errno.EINVAL;
      const r = t.getL2e(val);
      if (r < 0) return r;
      this.mem.write32(at, val);
      t.putL2e(old);
      return 0;
    }
    const r = t.getType(mfn, PageType.writable);
    if (r < 0) return r;
    this.mem.write32(at, val);
    t.putType(mfn);
    return 0;
  }

  /**
   * mmuext_op(ops, count, pdone, foreigndom): PIN_L1_TABLE / PIN_L2_TABLE (validate and hold),
   * UNPIN_TABLE, NEW_BASEPTR (validate as L2, load CR3), TLB_FLUSH_LOCAL/MULTI/ALL,
   * INVLPG_LOCAL/MULTI/ALL, FLUSH_CACHE. -EPERM for a frame not the domain's, -EINVAL for a
   * type conflict, a failed validation, pinning twice or unpinning an unpinned frame, -ENOSYS
   * for other commands (PAE/64-bit pins, SET_LDT: pvkit guests have no LDT).
   */
  mmuextOp(ops: number, count: number, pdone: number, foreignDom: number): number {
    const fd = this.foreignCheck(foreignDom);
    if (fd < 0) return fd;
    if (count > PV_MMU_BATCH_MAX) return Errno.EINVAL;
    const size = this.host.layouts.mmuextOp.size;
    const o = this.host.layouts.mmuextOp.offsets;
    let done = 0;
    let rc = 0;
    for (; done < count; done++) {
      if (!this.copyIn((ops + done * size) >>> 0, size)) {
        rc = Errno.EFAULT;
        break;
      }
      const cmd = this.scratch.getUint32(o.cmd!, true);
      const arg1 = this.scratch.getUint32(o.arg1!, true);
      rc = this.mmuextOne(cmd, arg1);
      if (rc < 0) break;
      this.stats.mmuextOps[cmd & 15]! += 1;
      this.charge(this.machine.costs.ptUpdate);
    }
    if (rc < 0) this.stats.mmuextErrors++;
    if (pdone !== 0 && !this.writeGuest32(pdone, done)) return Errno.EFAULT;
    return rc;
  }

  private mmuextOne(cmd: number, arg1: number): number {
    const t = this.types;
    switch (cmd) {
      case MmuextOp.pin_l1_table:
      case MmuextOp.pin_l2_table: {
        const mfn = arg1;
        if (!t.owns(mfn)) return Errno.EPERM;
        if (t.pinned[mfn]) return Errno.EINVAL;
        const r = t.getType(mfn, cmd === MmuextOp.pin_l1_table ? PageType.l1 : PageType.l2);
        if (r < 0) return r;
        t.pinned[mfn] = 1;
        this.syncTypeStats();
        return 0;
      }
      case MmuextOp.unpin_table: {
        const mfn = arg1;
        if (!t.owns(mfn)) return Errno.EPERM;
        if (!t.pinned[mfn]) return Errno.EINVAL;
        t.pinned[mfn] = 0;
        t.putType(mfn);
        this.syncTypeStats();
        this.flushTlb();
        return 0;
      }
      case MmuextOp.new_baseptr: {
        const mfn = arg1;
        if (!t.owns(mfn)) return Errno.EPERM;
        const r = t.getType(mfn, PageType.l2);
        if (r < 0) return r;
        const old = this.baseptr;
        this.baseptr = mfn;
        if (old >= 0) t.putType(old);
        this.syncTypeStats();
        if (this.machine.current === this) this.machine.cpu.cr3 = mfn * 4096;
        return 0;
      }
      case MmuextOp.tlb_flush_local:
      case MmuextOp.tlb_flush_multi:
      case MmuextOp.tlb_flush_all:
        this.flushTlb();
        return 0;
      case MmuextOp.invlpg_local:
      case MmuextOp.invlpg_multi:
      case MmuextOp.invlpg_all:
        if (this.machine.current === this) this.machine.cpu.paging.invalidate(arg1 >>> 0);
        return 0;
      case MmuextOp.flush_cache:
        return 0;
      default:
        return Errno.ENOSYS;
    }
  }

  private syncTypeStats(): void {
    this.stats.tablesValidated = this.types.counts.validations;
    this.stats.tablesDevalidated = this.types.counts.devalidations;
  }

  /** DOMID_SELF or the domain itself; pvkit PV guests never act on another domain's tables. */
  private foreignCheck(dom: number): number {
    const d = dom & 0xffff;
    return d === 0x7ff0 || d === this.host.domid ? 0 : Errno.EPERM;
  }

  flushTlb(): void {
    if (this.machine.current === this) {
      const cpu = this.machine.cpu;
      const cr3 = cpu.cr3;
      cpu.cr3 = cr3;
    }
  }

  /** Releases the monitor's frames (VcpuBackend.dispose); guest memory is the hypervisor's to free. */
  dispose(): void {
    if (this.machine.current === this) this.machine.current = null;
    this.state = "halted";
    for (const m of this.monitorFrames) this.host.allocator.free(m);
    this.stats.monitorFrames -= this.monitorFrames.size;
    this.monitorFrames.clear();
  }
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}
