/**
 * A domain: one guest with its pseudo-physical memory (P2M), one vCPU, event-channel table,
 * console, statistics and DI container. Lifecycle (Xen's): created paused → running ⇄ paused →
 * shutdown (with reason) or crashed (with diagnostic) → destroyed (pages freed).
 */
import type { DependencyContainer } from "tsyringe";
import type { AbiLayouts } from "../hypercalls/index.js";
import type { Arch, TimerHandle } from "../machine/index.js";
import type { DomainConsole } from "./console.js";
import type { EvtchnTable } from "./evtchn-table.js";
import type { P2mTable } from "./p2m.js";
import type { DomainStats } from "./stats.js";
import type { VcpuBackend } from "./vcpu-backend.js";

export type DomainState = "running" | "paused" | "shutdown" | "crashed" | "dead";
export type VcpuState = "runnable" | "running" | "blocked" | "offline";

/** Fixed pseudo-physical frames every pvkit domain starts with (docs/mips-pv-abi.md). */
export const BootPfn = { startInfo: 0, sharedInfo: 1, store: 2, console: 3, firstFree: 4 } as const;

export class Vcpu {
  readonly id = 0;
  state: VcpuState = "offline";
  backend: VcpuBackend | null = null;
  /** Ports a SCHEDOP_poll waits on (null when not polling). */
  pollPorts: number[] | null = null;
  /** The single-shot timer of set_timer_op. */
  timer: TimerHandle | null = null;
  /**
   * Upcall entry points registered by set_callbacks (x86_32: selector:address pairs; MIPS:
   * addresses, selectors 0 — docs/mips-pv-abi.md). CPU back ends deliver upcalls there.
   */
  readonly callbacks = { eventSelector: 0, eventAddress: 0, failsafeSelector: 0, failsafeAddress: 0 };
  /** Set by SCHEDOP_yield; the back end returns VcpuExitReason.yield and clears it. */
  yieldRequested = false;
  constructor(readonly domain: Domain) {}
}

/**
 * Translates a guest address as a hypercall argument carries it to a machine address, or -1.
 * Auto-translated guests (TS, MIPS PV) use guest-physical addresses and need none; an x86 PV
 * back end installs one that walks the guest's page tables.
 */
export type GuestAddressTranslator = (addr: number, write: boolean) => number;

export interface DomainInit {
  readonly domid: number;
  readonly name: string;
  readonly arch: Arch;
  readonly layouts: AbiLayouts;
  readonly privileged: boolean;
  readonly autoTranslated: boolean;
  readonly p2m: P2mTable;
  readonly console: DomainConsole;
  readonly stats: DomainStats;
  readonly evtchn: EvtchnTable;
  readonly container: DependencyContainer;
}

export class Domain {
  readonly domid: number;
  readonly name: string;
  readonly arch: Arch;
  readonly layouts: AbiLayouts;
  /** Domain 0: may act on other domains (status of their ports, remote shutdown, toolstack). */
  readonly privileged: boolean;
  /**
   * True if the guest names its memory by pseudo-physical frames (TS guests, MIPS PV, anything
   * without an addressTranslator): start_info and grant entries carry pfns. False for x86 PV
   * guests, which see machine frames (docs/mips-pv-abi.md "gfn vs mfn").
   */
  readonly autoTranslated: boolean;
  readonly p2m: P2mTable;
  readonly console: DomainConsole;
  readonly stats: DomainStats;
  readonly evtchn: EvtchnTable;
  /** Child of the monitor's container: per-domain providers (DESIGN.md "Dependency injection"). */
  readonly container: DependencyContainer;
  readonly vcpu: Vcpu;
  state: DomainState = "paused";
  pauseCount = 1;
  /** SHUTDOWN_* code once shut down (crash sets ShutdownReason.crash). */
  shutdownReason: number | null = null;
  /** Why the hypervisor crashed the domain. */
  crashDiagnostic: string | null = null;
  /** Machine frame of shared_info (the monitor writes event bits there). */
  sharedInfoMfn = -1;
  storeEvtchn = 0;
  consoleEvtchn = 0;
  addressTranslator: GuestAddressTranslator | null = null;

  constructor(init: DomainInit) {
    this.domid = init.domid;
    this.name = init.name;
    this.arch = init.arch;
    this.layouts = init.layouts;
    this.privileged = init.privileged;
    this.autoTranslated = init.autoTranslated;
    this.p2m = init.p2m;
    this.console = init.console;
    this.stats = init.stats;
    this.evtchn = init.evtchn;
    this.container = init.container;
    this.vcpu = new Vcpu(this);
  }

  /** Pages of pseudo-physical memory. */
  get nrPages(): number {
    return this.p2m.nrPfns;
  }

  /** True while the domain can still run (not shut down, crashed or destroyed). */
  get alive(): boolean {
    return this.state === "running" || this.state === "paused";
  }
}
