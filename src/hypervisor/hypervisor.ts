/**
 * The monitor: machine memory, domains, the scheduler, hypercall dispatch, event channels,
 * consoles and statistics, composed once. Everything above (grant tables, the store, the CPU
 * back ends, the runner) reaches the core through this class.
 */
import "reflect-metadata";
import { BehaviorSubject, type Observable, Subject } from "rxjs";
import { type DependencyContainer, container as rootContainer } from "tsyringe";
import { INVALID_MFN } from "../full-virt/index.js";
import {
  type AbiLayouts,
  Layouts,
  NS_PER_CYCLE,
  ShutdownReason,
  StartInfoFlags,
  TSC_SHIFT,
  TSC_TO_SYSTEM_MUL,
  writeStruct,
} from "../hypercalls/index.js";
import {
  type Arch,
  type CostName,
  CostTable,
  PAGE_SHIFT,
  PAGE_SIZE,
  PhysicalMemory,
  SimClock,
} from "../machine/index.js";
import { DomainConsole } from "./console.js";
import { registerCoreHypercalls } from "./core-hypercalls.js";
import { HypercallDispatcher } from "./dispatcher.js";
import { BootPfn, Domain, type DomainState } from "./domain.js";
import { HypervisorError, IsolationViolation } from "./errors.js";
import { EventChannels } from "./event-channels.js";
import { EvtchnTable } from "./evtchn-table.js";
import { GuestMemoryCopier } from "./guest-memory.js";
import { MachineMemory } from "./machine-memory.js";
import { P2mTable } from "./p2m.js";
import { type RunEnd, Scheduler } from "./scheduler.js";
import { DomainStats, type DomainStatsSnapshot } from "./stats.js";
import { DomainToken, HypervisorToken } from "./tokens.js";
import type { VcpuBackend } from "./vcpu-backend.js";

export interface HypervisorOptions {
  /** Machine memory; default a fresh 64 MiB. */
  readonly memory?: PhysicalMemory;
  readonly clock?: SimClock;
  readonly costs?: Readonly<Record<CostName, number>>;
  /** Scheduler slice in simulated cycles. */
  readonly sliceCycles?: number;
  /** Installs the isolation oracle on the machine memory (test mode). */
  readonly oracle?: boolean;
  /** Parent DI container; default tsyringe's root container. */
  readonly container?: DependencyContainer;
}

export interface CreateDomainOptions {
  readonly name?: string;
  readonly arch?: Arch;
  /** Pseudo-physical pages populated at creation (≥ 4: start_info, shared_info, store, console). */
  readonly pages: number;
  /** Page limit of the domain's account (≥ pages); default = pages. */
  readonly maxPages?: number;
  /** Privileged (dom0-like). Default: true for domain 0 only. */
  readonly privileged?: boolean;
  readonly cmdline?: string;
  /**
   * Frames named by pfn (default true: TS guests, MIPS PV). An x86 PV back end passes false and
   * installs `domain.addressTranslator`; start_info then carries machine frames.
   */
  readonly autoTranslated?: boolean;
  /**
   * A PV domain (default true) boots with start_info in pfn 0, shared_info in pfn 1 and console
   * and store ports bound to the hypervisor. A fully virtualized domain (false: Disco, the x86
   * monitor) gets none of these: its pages are plain zeroed RAM, it has no shared_info (event
   * bits and vcpu time are never written into its memory) and `pages` may be any number ≥ 1.
   */
  readonly paravirtualized?: boolean;
}

/** Lifecycle notifications (for the runner, the toolstack and tests). */
export interface DomainEvent {
  readonly domid: number;
  readonly name: string;
  readonly state: DomainState | "created" | "destroyed";
  readonly reason?: number;
  readonly diagnostic?: string;
}

export class Hypervisor {
  readonly memory: PhysicalMemory;
  readonly clock: SimClock;
  readonly costs: Readonly<Record<CostName, number>>;
  readonly machineMemory: MachineMemory;
  readonly copier: GuestMemoryCopier;
  readonly dispatcher: HypercallDispatcher;
  readonly events: EventChannels;
  readonly scheduler: Scheduler;
  readonly container: DependencyContainer;
  /** Lifecycle events of every domain. */
  readonly domainEvents$ = new Subject<DomainEvent>();
  /** Accesses the oracle refused (each also threw into the offending guest). */
  oracleViolations: IsolationViolation[] = [];
  private readonly domains = new Map<number, Domain>();
  private readonly statsSubjects = new Map<number, BehaviorSubject<DomainStatsSnapshot>>();
  private readonly destroyHooks: ((domain: Domain) => void)[] = [];
  private storeHandler: ((domain: Domain) => void) | null = null;
  private nextDomid = 0;

  constructor(opts: HypervisorOptions = {}) {
    this.memory = opts.memory ?? new PhysicalMemory(64 << 20);
    this.clock = opts.clock ?? new SimClock();
    this.costs = opts.costs ?? CostTable;
    this.machineMemory = new MachineMemory(this.memory);
    this.copier = new GuestMemoryCopier(this.machineMemory);
    this.container = (opts.container ?? rootContainer).createChildContainer();
    this.container.registerInstance(HypervisorToken, this);
    this.dispatcher = new HypercallDispatcher({
      chargeMonitor: (d, c) => this.chargeMonitor(d, c),
      crash: (d, msg) => this.crash(d.domid, msg),
      hypercallCost: this.costs.hypercall,
    });
    this.events = new EventChannels({
      domain: (id) => this.domains.get(id),
      kick: (d) => this.scheduler.wake(d.vcpu),
      memory: this.memory,
      copier: this.copier,
    });
    this.scheduler = new Scheduler(
      this.clock,
      {
        onSwitch: (_from, to) => {
          to.stats.domainSwitches++;
          this.chargeMonitor(to, this.costs.domainSwitch);
        },
        beforeSlice: (v) => this.updateTime(v.domain),
        afterSlice: (v) => this.publishStats(v.domain),
      },
      opts.sliceCycles,
    );
    registerCoreHypercalls(this);
    if (opts.oracle) this.installOracle();
  }

  // --- domains ------------------------------------------------------------------------------

  /** Creates a domain, paused, with its memory populated and start_info/shared_info written. */
  createDomain(opts: CreateDomainOptions): Domain {
    const domid = this.nextDomid;
    const arch = opts.arch ?? "x86";
    const layouts: AbiLayouts = Layouts[arch];
    const pages = opts.pages;
    const maxPages = opts.maxPages ?? pages;
    const pv = opts.paravirtualized ?? true;
    const minPages = pv ? BootPfn.firstFree : 1;
    if (!Number.isInteger(pages) || pages < minPages || maxPages < pages) {
      throw new HypervisorError(
        `a ${pv ? "PV " : ""}domain needs at least ${minPages} pages and maxPages ≥ pages`,
      );
    }
    if (pages > this.machineMemory.freePages) {
      throw new HypervisorError(
        `not enough machine memory for ${pages} pages (${this.machineMemory.freePages} free): give the machine more memory or the domain fewer pages`,
      );
    }
    this.nextDomid++;
    const name = opts.name ?? `dom${domid}`;
    const stats = new DomainStats();
    const domain = new Domain({
      domid,
      name,
      arch,
      layouts,
      privileged: opts.privileged ?? domid === 0,
      autoTranslated: opts.autoTranslated ?? true,
      p2m: new P2mTable(maxPages),
      console: new DomainConsole(domid, name),
      stats,
      evtchn: new EvtchnTable(),
      container: this.container.createChildContainer(),
    });
    domain.container.registerInstance(DomainToken, domain);
    this.machineMemory.addDomain(domid, maxPages);
    for (let pfn = 0; pfn < pages; pfn++) {
      const mfn = this.machineMemory.allocate(domid);
      if (mfn === INVALID_MFN) throw new HypervisorError("machine memory exhausted while creating a domain");
      domain.p2m.set(pfn, mfn);
      this.machineMemory.setPfn(mfn, pfn);
    }
    this.domains.set(domid, domain);
    this.statsSubjects.set(domid, new BehaviorSubject(stats.snapshot(domid, name, this.clock.cycles)));
    if (pv) {
      domain.sharedInfoMfn = domain.p2m.lookup(BootPfn.sharedInfo);
      domain.consoleEvtchn = this.events.bindXen(domain, () => this.drainConsoleRing(domain));
      domain.storeEvtchn = this.events.bindXen(domain, () => this.storeHandler?.(domain));
      this.writeStartInfo(domain, opts.cmdline ?? "");
      this.updateTime(domain);
    }
    this.domainEvents$.next({ domid, name, state: "created" });
    return domain;
  }

  domain(domid: number): Domain | undefined {
    return this.domains.get(domid);
  }

  /** Live domains in domid order. */
  listDomains(): Domain[] {
    return [...this.domains.values()].sort((a, b) => a.domid - b.domid);
  }

  /** Attaches the execution engine of a domain's vCPU. */
  attachBackend(domain: Domain, backend: VcpuBackend): void {
    domain.vcpu.backend = backend;
  }

  /** Unpauses (the toolstack's `xl unpause`); a domain runs once its pause count reaches 0. */
  unpause(domid: number): void {
    const d = this.mustGet(domid);
    if (!d.alive || d.pauseCount === 0) return;
    d.pauseCount--;
    if (d.pauseCount === 0) {
      d.state = "running";
      this.scheduler.add(d.vcpu);
      this.scheduler.requeue(d.vcpu);
      this.domainEvents$.next({ domid, name: d.name, state: "running" });
    }
  }

  pause(domid: number): void {
    const d = this.mustGet(domid);
    if (!d.alive) return;
    d.pauseCount++;
    d.state = "paused";
    this.domainEvents$.next({ domid, name: d.name, state: "paused" });
  }

  /** Shuts a domain down with a SHUTDOWN_* reason (SCHEDOP_shutdown). */
  shutdown(domid: number, reason: number): void {
    const d = this.domains.get(domid);
    if (!d?.alive) return;
    d.state = reason === ShutdownReason.crash ? "crashed" : "shutdown";
    d.shutdownReason = reason;
    this.stopVcpu(d);
    d.console.flush();
    this.domainEvents$.next({ domid, name: d.name, state: d.state, reason });
  }

  /** Crashes a domain with a diagnostic (a guest fault, the watchdog, a hypervisor bug on its behalf). */
  crash(domid: number, diagnostic: string): void {
    const d = this.domains.get(domid);
    if (!d?.alive) return;
    d.crashDiagnostic = diagnostic;
    d.state = "crashed";
    d.shutdownReason = ShutdownReason.crash;
    this.stopVcpu(d);
    d.console.flush();
    this.domainEvents$.next({
      domid,
      name: d.name,
      state: "crashed",
      reason: ShutdownReason.crash,
      diagnostic,
    });
  }

  /** Destroys a domain: closes its ports, runs destroy hooks (grant table), frees every page. */
  destroy(domid: number): void {
    const d = this.domains.get(domid);
    if (!d) return;
    if (d.alive) this.shutdown(domid, ShutdownReason.poweroff);
    this.events.closeAll(d);
    for (const hook of this.destroyHooks) hook(d);
    d.vcpu.backend?.dispose?.();
    d.vcpu.backend = null;
    for (let pfn = 0; pfn < d.p2m.nrPfns; pfn++) {
      const writable = d.p2m.writable(pfn);
      const mfn = d.p2m.clear(pfn);
      if (mfn === INVALID_MFN) continue;
      if (this.machineMemory.owner(mfn) === domid) this.machineMemory.free(mfn);
      else this.machineMemory.unmapForeign(domid, mfn, writable);
    }
    this.machineMemory.removeDomain(domid);
    d.state = "dead";
    d.console.close();
    this.domains.delete(domid);
    this.publishStats(d);
    this.statsSubjects.get(domid)?.complete();
    this.statsSubjects.delete(domid);
    this.domainEvents$.next({ domid, name: d.name, state: "destroyed" });
  }

  /** Runs `hook` for every domain being destroyed, before its pages are freed (grant tables). */
  onDomainDestroy(hook: (domain: Domain) => void): void {
    this.destroyHooks.push(hook);
  }

  /** Called when a guest notifies its store event channel (the store daemon plugs in here). */
  setStoreHandler(handler: ((domain: Domain) => void) | null): void {
    this.storeHandler = handler;
  }

  // --- execution ----------------------------------------------------------------------------

  /**
   * Runs the scheduler (see Scheduler.run). "all-halted" means every domain ended; a run with
   * paused domains and nothing else to do ends "idle".
   */
  async run(maxCycles?: number): Promise<RunEnd> {
    const end = await this.scheduler.run(maxCycles);
    if (end === "all-halted" && [...this.domains.values()].some((d) => d.alive)) return "idle";
    return end;
  }

  /** A trap-path or TS-guest hypercall: dispatches and returns the value for EAX / v0. */
  hypercall(domain: Domain, nr: number, args: Uint32Array): number {
    domain.stats.worldSwitches++;
    return this.dispatcher.dispatch(domain, nr, args);
  }

  /** Counts a trap of a CPU back end by its arch cause code (and a world switch). */
  recordTrap(domain: Domain, cause: number): void {
    domain.stats.worldSwitches++;
    if (cause >= 0 && cause < domain.stats.trapsByCause.length) domain.stats.trapsByCause[cause]!++;
    this.chargeMonitor(domain, this.costs.worldSwitch);
  }

  /** Cycles the guest itself spent (its instructions, modelled computation). */
  chargeGuest(domain: Domain, cycles: number): void {
    this.clock.cycles += cycles;
    domain.stats.guestCycles += cycles;
  }

  /** Cycles the monitor spent on a domain's behalf. */
  chargeMonitor(domain: Domain, cycles: number): void {
    this.clock.cycles += cycles;
    domain.stats.monitorCycles += cycles;
  }

  // --- statistics ---------------------------------------------------------------------------

  /** Snapshots of a domain's statistics, published after each of its time slices. */
  stats$(domid: number): Observable<DomainStatsSnapshot> {
    const s = this.statsSubjects.get(domid);
    if (!s) throw new HypervisorError(`no domain ${domid}`);
    return s.asObservable();
  }

  /** The current counters of a domain. */
  statsOf(domid: number): DomainStatsSnapshot {
    const d = this.mustGet(domid);
    return d.stats.snapshot(d.domid, d.name, this.clock.cycles);
  }

  private publishStats(d: Domain): void {
    const s = this.statsSubjects.get(d.domid);
    if (s?.observed) s.next(d.stats.snapshot(d.domid, d.name, this.clock.cycles));
  }

  // --- internals ----------------------------------------------------------------------------

  private mustGet(domid: number): Domain {
    const d = this.domains.get(domid);
    if (!d) throw new HypervisorError(`no domain ${domid}`);
    return d;
  }

  private stopVcpu(d: Domain): void {
    this.clock.cancel(d.vcpu.timer);
    d.vcpu.timer = null;
    this.scheduler.remove(d.vcpu);
  }

  /** Fills start_info (page 0) per docs/mips-pv-abi.md and Xen's xen.h. */
  private writeStartInfo(d: Domain, cmdline: string): void {
    const L = d.layouts;
    const frame = (pfn: number) => (d.autoTranslated ? pfn : d.p2m.lookup(pfn));
    const magic = new TextEncoder().encode(L.startInfoMagic);
    const cmd = new TextEncoder().encode(cmdline).subarray(0, 1023);
    const bytes = new Uint8Array(PAGE_SIZE);
    writeStruct(
      L.startInfo,
      {
        magic: [...magic],
        nr_pages: d.nrPages,
        shared_info: frame(BootPfn.sharedInfo) * PAGE_SIZE,
        flags: d.privileged ? StartInfoFlags.privileged | StartInfoFlags.initdomain : 0,
        store_mfn: frame(BootPfn.store),
        store_evtchn: d.storeEvtchn,
        console: { domU: { mfn: frame(BootPfn.console), evtchn: d.consoleEvtchn } },
        cmd_line: [...cmd],
      },
      new DataView(bytes.buffer),
      0,
    );
    this.memory.writeBytes(d.p2m.lookup(BootPfn.startInfo) * PAGE_SIZE, bytes);
    // shared_info.arch.max_pfn
    const base = d.sharedInfoMfn * PAGE_SIZE;
    this.memory.write32(base + L.sharedInfo.offsets["arch.max_pfn"]!, d.nrPages);
  }

  /** Writes vcpu_info[0].time with Xen's seqlock protocol (version odd while updating). */
  private updateTime(d: Domain): void {
    if (d.sharedInfoMfn < 0) return;
    const t =
      d.sharedInfoMfn * PAGE_SIZE +
      d.layouts.sharedInfo.offsets.vcpu_info! +
      d.layouts.vcpuInfo.offsets.time!;
    const T = d.layouts.vcpuTimeInfo.offsets;
    const v = this.memory.view;
    const version = v.getUint32(t + T.version!, true);
    v.setUint32(t + T.version!, (version + 1) >>> 0, true);
    v.setBigUint64(t + T.tsc_timestamp!, BigInt(Math.floor(this.clock.cycles)), true);
    v.setBigUint64(t + T.system_time!, BigInt(Math.floor(this.clock.cycles * NS_PER_CYCLE)), true);
    v.setUint32(t + T.tsc_to_system_mul!, TSC_TO_SYSTEM_MUL, true);
    v.setInt8(t + T.tsc_shift!, TSC_SHIFT);
    v.setUint32(t + T.version!, (version + 2) >>> 0, true);
  }

  /**
   * Host input for a domain's console ring (xenconsoled's other half): copies as many bytes as
   * fit into `in[]`, publishes in_prod, notifies the console port. Returns the bytes taken.
   */
  consoleRingInput(domid: number, bytes: Uint8Array): number {
    const d = this.mustGet(domid);
    if (!d.alive || d.sharedInfoMfn < 0) return 0; // no console ring in a fully virtualized domain
    const base = d.p2m.lookup(BootPfn.console) * PAGE_SIZE;
    if (base < 0) return 0;
    const C = d.layouts.xenconsInterface.offsets;
    const m = this.memory;
    const size = 1024;
    const cons = m.read32(base + C.in_cons!);
    let prod = m.read32(base + C.in_prod!);
    // A consumer index the guest ran past prod is its protocol error: treat the ring as full.
    const used = (prod - cons) >>> 0;
    const room = used > size ? 0 : size - used;
    const n = Math.min(room, bytes.length);
    for (let i = 0; i < n; i++) {
      m.write8(base + C.in! + (prod & (size - 1)), bytes[i]!);
      prod = (prod + 1) >>> 0;
    }
    // io/ring.h ordering: the bytes are visible before the producer index (a no-op barrier here).
    m.write32(base + C.in_prod!, prod);
    if (n > 0) this.events.notifyFromXen(d, d.consoleEvtchn);
    return n;
  }

  /** xenconsoled's job: drain the guest's xencons ring `out` side into its console (io/console.h). */
  private drainConsoleRing(d: Domain): void {
    const base = d.p2m.lookup(BootPfn.console) * PAGE_SIZE;
    if (base < 0) return;
    const C = d.layouts.xenconsInterface.offsets;
    const m = this.memory;
    let cons = m.read32(base + C.out_cons!);
    const prod = m.read32(base + C.out_prod!);
    // A producer more than a ring ahead is a protocol error of the guest: take one ring's worth.
    const size = 2048;
    if ((prod - cons) >>> 0 > size) cons = (prod - size) >>> 0;
    const out: number[] = [];
    while (cons !== prod) {
      out.push(m.read8(base + C.out! + (cons & (size - 1))));
      cons = (cons + 1) >>> 0;
    }
    m.write32(base + C.out_cons!, cons);
    if (out.length > 0) d.console.write(Uint8Array.from(out));
    this.events.notifyFromXen(d, d.consoleEvtchn);
  }

  /** Test mode: every guest access through the oracle must hit a frame the running domain may touch. */
  private installOracle(): void {
    this.memory.oracle = (paddr, size, write) => {
      const v = this.scheduler.current;
      if (!v) return;
      const first = paddr >>> PAGE_SHIFT;
      const last = (paddr + Math.max(1, size) - 1) >>> PAGE_SHIFT;
      for (let f = first; f <= last; f++) {
        if (!this.machineMemory.canAccess(v.domain.domid, f, write)) {
          const err = new IsolationViolation(v.domain.domid, paddr, write);
          this.oracleViolations.push(err);
          throw err;
        }
      }
    };
  }
}
