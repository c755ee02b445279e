/**
 * Runs a TypeScript guest as a domain's vCPU. The guest is async code; every `ctx.hypercall`
 * queues a request and parks the calling async chain. The scheduler calls `run(budget)`: the
 * back end resumes the guest, lets it run until every chain is parked again (a macrotask turn:
 * deterministic, no host timers), dispatches the queued hypercalls one at a time through the
 * same dispatcher and costs as a trapping guest, and returns when the guest blocks, yields, has
 * spent its budget or dies. A guest with no outstanding hypercall is idle: its vCPU blocks until
 * an event arrives, and the upcall handler runs at the next resumption.
 *
 * Limits (documented in docs): a guest that loops forever without touching its context cannot
 * be preempted in-process; a guest that awaits host promises (timers, I/O) runs those
 * continuations outside its slice.
 */
import { type GuestContext, GuestFault, type TsGuest, type UpcallHandler } from "../../hypercalls/index.js";
import { PAGE_SHIFT, PAGE_SIZE } from "../../machine/index.js";
import { BootPfn, type Domain } from "../domain.js";
import type { Hypervisor } from "../hypervisor.js";
import { GuestContextToken } from "../tokens.js";
import { type VcpuBackend, VcpuExitReason } from "../vcpu-backend.js";
import { TsGuestMemory } from "./guest-memory-accessor.js";
import { type TsDmaMemory, TsGuestPortIo, type TsPortIoOptions } from "./port-io.js";

interface PendingCall {
  readonly nr: number;
  readonly args: Uint32Array;
  readonly resolve: (result: number) => void;
  /** Nonzero: not a hypercall but a wait for a virtual interrupt on these lines. */
  readonly irqMask: number;
}

export interface TsGuestOptions {
  /** Cycles a guest may run between two yield points before the watchdog crashes it. */
  readonly watchdogCycles?: number;
  /** Emulated devices reached through `ctx.io` (port-io.ts); none by default. */
  readonly devices?: TsPortIoOptions;
}

/** Lets every parked async chain of the guest run until it parks again. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export class TsGuestBackend implements VcpuBackend {
  readonly ctx: GuestContext;
  private readonly queue: PendingCall[] = [];
  private deferred: { call: PendingCall; result: number } | null = null;
  private started = false;
  private finished = false;
  private failure: unknown = null;
  private upcall: UpcallHandler | null = null;
  private sinceYield = 0;
  private nextPfn: number = BootPfn.firstFree;
  private readonly watchdogCycles: number;
  /** Resolves the run loop's wait as soon as the guest queues a call or finishes. */
  private wakeRun: (() => void) | null = null;
  private parkDetectorArmed = false;
  /** The domain's port I/O and devices, when it has any. */
  readonly io: TsGuestPortIo | null = null;
  /** Chains waiting for a virtual interrupt, in arrival order. */
  private readonly irqWaiters: PendingCall[] = [];

  constructor(
    private readonly hv: Hypervisor,
    private readonly domain: Domain,
    private readonly guest: TsGuest,
    opts: TsGuestOptions = {},
  ) {
    this.watchdogCycles = opts.watchdogCycles ?? 50_000_000;
    const mem = new TsGuestMemory(domain, {
      memory: hv.memory,
      charge: (c) => this.charge(c),
      fault: (msg) => this.fault(msg),
      canAccess: (mfn, write) => hv.machineMemory.canAccess(domain.domid, mfn, write),
    });
    if (opts.devices) {
      const dma = guestPhysicalDma(hv, domain);
      const io = new TsGuestPortIo(
        {
          clock: hv.clock,
          costs: hv.costs,
          mem,
          dma,
          chargeGuest: (c) => this.charge(c),
          trap: (c) => this.trap(c),
          chargeMonitor: (c) => this.chargeTrap(c),
          fault: (msg) => this.fault(msg),
          lineRaised: () => this.lineRaised(),
          waitIrq: (mask) => this.enqueueIrqWait(mask),
        },
        opts.devices.mode,
        opts.devices.warn,
      );
      this.io = io;
      opts.devices.attach({ bus: io.bus, clock: hv.clock, irq: (n) => io.irq(n), dma });
    }
    this.ctx = {
      io: this.io,
      domid: domain.domid,
      arch: domain.arch,
      layouts: domain.layouts,
      nrPages: domain.nrPages,
      startInfoAddress: BootPfn.startInfo * PAGE_SIZE,
      sharedInfoAddress: BootPfn.sharedInfo * PAGE_SIZE,
      mem,
      charge: (cycles: number) => this.charge(cycles),
      now: () => hv.clock.cycles,
      hypercall: (nr, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0) => this.enqueue(nr, [a1, a2, a3, a4, a5]),
      setUpcallHandler: (h) => {
        this.upcall = h;
      },
      allocPage: () => (this.nextPfn < domain.nrPages ? this.nextPfn++ : -1),
    };
    domain.container.registerInstance(GuestContextToken, this.ctx);
  }

  /** Charges modelled guest computation; the watchdog crashes a guest that never yields. */
  charge(cycles: number): void {
    if (!this.domain.alive) throw new GuestFault(this.domain.domid, "domain is no longer running");
    if (!(cycles >= 0)) throw this.fault(`charge(${cycles}): cycles must be a non-negative number`);
    this.hv.chargeGuest(this.domain, cycles);
    this.sinceYield += cycles;
    if (this.sinceYield > this.watchdogCycles) {
      throw this.fault(
        `watchdog: ran ${this.sinceYield} cycles without yielding (limit ${this.watchdogCycles})`,
      );
    }
  }

  /** A trap into the monitor on the guest's behalf: a world switch plus `cycles` of emulation. */
  private trap(cycles: number): void {
    this.domain.stats.worldSwitches++;
    this.chargeTrap(this.hv.costs.worldSwitch + cycles);
  }

  /** Monitor cycles spent for the guest inside a trap (watchdog-checked like guest cycles). */
  private chargeTrap(cycles: number): void {
    if (!this.domain.alive) throw new GuestFault(this.domain.domid, "domain is no longer running");
    this.hv.chargeMonitor(this.domain, cycles);
    this.sinceYield += cycles;
    if (this.sinceYield > this.watchdogCycles) {
      throw this.fault(
        `watchdog: ran ${this.sinceYield} cycles without yielding (limit ${this.watchdogCycles})`,
      );
    }
  }

  /** A device line went high: a vCPU blocked waiting for it becomes runnable. */
  private lineRaised(): void {
    const io = this.io!;
    const vcpu = this.domain.vcpu;
    if (vcpu.state !== "blocked") return;
    for (const w of this.irqWaiters) {
      if (io.asserted & w.irqMask) {
        this.hv.scheduler.wake(vcpu);
        return;
      }
    }
  }

  private enqueueIrqWait(mask: number): Promise<number> {
    if (!this.domain.alive) return new Promise<number>(() => {});
    return new Promise<number>((resolve) => {
      this.queue.push({ nr: 0xffffffff, args: NO_ARGS, resolve, irqMask: mask });
      this.signal();
    });
  }

  /** The first waiter whose lines are asserted, removed from the list; null if none. */
  private takeDeliverable(): PendingCall | null {
    const io = this.io;
    if (!io || io.asserted === 0) return null;
    for (let i = 0; i < this.irqWaiters.length; i++) {
      const w = this.irqWaiters[i]!;
      if (io.asserted & w.irqMask) {
        this.irqWaiters.splice(i, 1);
        return w;
      }
    }
    return null;
  }

  /** Crashes the domain and returns the fault to throw into guest code. */
  private fault(message: string): GuestFault {
    this.hv.crash(this.domain.domid, message);
    return new GuestFault(this.domain.domid, message);
  }

  private enqueue(nr: number, raw: number[]): Promise<number> {
    if (!this.domain.alive) return new Promise<number>(() => {}); // a dead guest never resumes
    const args = new Uint32Array(5);
    for (let i = 0; i < 5; i++) {
      const v = raw[i];
      args[i] = typeof v === "number" && Number.isFinite(v) ? v : 0;
    }
    return new Promise<number>((resolve) => {
      this.queue.push({
        nr: typeof nr === "number" && Number.isFinite(nr) ? nr >>> 0 : 0xffffffff,
        args,
        resolve,
        irqMask: 0,
      });
      // Guest code can run outside the guest's slice when a host-side callback calls into it
      // (a switch port delivering a frame to netback from an emulated NIC's domain): a call
      // queued while the vCPU is blocked is work, so the vCPU becomes runnable to issue it.
      if (this.domain.vcpu.state === "blocked" && this.domain.vcpu.pollPorts === null && !this.deferred)
        this.hv.scheduler.wake(this.domain.vcpu);
      this.signal();
    });
  }

  private start(): void {
    this.started = true;
    let main: Promise<void>;
    try {
      main = this.guest.main(this.ctx);
    } catch (err) {
      main = Promise.reject(err);
    }
    main.then(
      () => {
        this.finished = true;
        this.signal();
      },
      (err: unknown) => {
        this.finished = true;
        this.failure = err;
        this.signal();
      },
    );
  }

  private deliverUpcall(): boolean {
    const handler = this.upcall;
    if (!handler || !this.hv.events.eventsNeedDelivery(this.domain)) return false;
    this.hv.events.upcallDelivered(this.domain);
    this.hv.chargeMonitor(this.domain, this.hv.costs.eventDeliver);
    try {
      handler();
    } catch (err) {
      if (!(err instanceof GuestFault)) this.fault(`upcall handler threw: ${String(err)}`);
    }
    if (this.domain.alive) this.hv.events.setUpcallMask(this.domain, false);
    return true;
  }

  /** The guest's end: return from main powers off; a throw crashes with the error as diagnostic. */
  private finish(): VcpuExitReason {
    if (this.domain.alive) {
      if (this.failure !== null) {
        const f = this.failure;
        this.hv.crash(this.domain.domid, `guest threw: ${f instanceof Error ? f.message : String(f)}`);
      } else {
        this.hv.shutdown(this.domain.domid, 0);
      }
    }
    return VcpuExitReason.halted;
  }

  private signal(): void {
    const w = this.wakeRun;
    if (w) {
      this.wakeRun = null;
      w();
    }
  }

  /**
   * Waits until the resumed guest queues its next call or finishes (a microtask: the fast path)
   * or, failing that, until every chain is parked (a macrotask turn).
   */
  private nextActivity(): Promise<void> {
    if (this.queue.length > 0 || this.finished) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wakeRun = resolve;
      // One armed macrotask at a time: it fires only once the microtask queue has drained, i.e.
      // when every guest chain is parked, and then releases whichever wait is current.
      if (!this.parkDetectorArmed) {
        this.parkDetectorArmed = true;
        setImmediate(() => {
          this.parkDetectorArmed = false;
          this.signal();
        });
      }
    });
  }

  async run(budget: number): Promise<VcpuExitReason> {
    const reason = await this.runSlice(budget);
    // Leave no guest chain mid-flight: the next domain's slice (and the oracle's idea of who
    // runs) must not see this guest's code.
    await settle();
    return reason;
  }

  private async runSlice(budget: number): Promise<VcpuExitReason> {
    const clock = this.hv.clock;
    const end = clock.cycles + budget;
    const vcpu = this.domain.vcpu;
    this.sinceYield = 0;
    if (!this.started) {
      this.start();
      await settle();
    }
    if (this.deferred) {
      const { call, result } = this.deferred;
      this.deferred = null;
      await this.resume(call, result);
    } else if (this.deliverUpcall()) {
      await settle();
    }
    let parked = false;
    for (;;) {
      if (!this.domain.alive) return VcpuExitReason.halted;
      if (this.finished) return this.finish();
      // Timers due inside the slice (set_timer_op) fire at the guest's yield points.
      if (clock.cycles >= clock.nextDeadline) clock.runDue();
      if (clock.cycles >= end) return VcpuExitReason.budget;
      const irq = this.takeDeliverable();
      if (irq) {
        this.sinceYield = 0;
        const lines = this.io!.deliver(irq.irqMask);
        if (!this.domain.alive) return VcpuExitReason.halted;
        await this.resume(irq, lines);
        parked = false;
        continue;
      }
      const call = this.queue.shift();
      if (call && call.irqMask !== 0) {
        this.irqWaiters.push(call);
        continue;
      }
      if (!call && this.irqWaiters.length > 0 && !parked) {
        // A chain parked on an interrupt wait resumed nextActivity while another chain (the one
        // the interrupt completed) still runs: let every chain park before deciding to block.
        parked = true;
        await settle();
        continue;
      }
      if (!call) {
        // Idle guest: block until an event (a pending one wakes it through the next kick).
        this.hv.scheduler.block(vcpu);
        return VcpuExitReason.blocked;
      }
      this.sinceYield = 0;
      const result = this.hv.hypercall(this.domain, call.nr, call.args);
      if (!this.domain.alive) return VcpuExitReason.halted;
      if (vcpu.state === "blocked" || vcpu.yieldRequested || clock.cycles >= end) {
        this.deferred = { call, result };
        if (vcpu.yieldRequested) {
          vcpu.yieldRequested = false;
          return VcpuExitReason.yield;
        }
        return vcpu.state === "blocked" ? VcpuExitReason.blocked : VcpuExitReason.budget;
      }
      await this.resume(call, result);
      parked = false;
    }
  }

  /**
   * Returns to the guest: like Xen's return path, a pending unmasked event is delivered first
   * (the upcall runs before the interrupted code continues), then the call's result.
   */
  private async resume(call: PendingCall, result: number): Promise<void> {
    this.deliverUpcall();
    if (!this.domain.alive) return;
    call.resolve(result);
    await this.nextActivity();
  }

  dispose(): void {
    this.queue.length = 0;
    this.irqWaiters.length = 0;
    this.deferred = null;
    this.upcall = null;
  }
}

const NO_ARGS = new Uint32Array(5);

/**
 * Bus-master DMA of a domain's devices: guest-physical addresses resolved page by page through
 * its P2M; a page that is unpopulated or whose frame the domain does not own (a foreign grant
 * mapping, a freed frame) is refused — `contains` says false and the device moves nothing there.
 */
function guestPhysicalDma(hv: Hypervisor, domain: Domain): TsDmaMemory {
  const mm = hv.machineMemory;
  const mem = hv.memory;
  const size = domain.nrPages * PAGE_SIZE;
  const maddr = (gpa: number): number => {
    const mfn = domain.p2m.lookup(gpa >>> PAGE_SHIFT);
    if (mfn < 0 || mm.owner(mfn) !== domain.domid) return -1;
    return mfn * PAGE_SIZE + (gpa & (PAGE_SIZE - 1));
  };
  const contains = (gpa: number, length: number): boolean => {
    if (!Number.isInteger(gpa) || gpa < 0 || length < 0 || gpa + length > size) return false;
    for (let p = gpa >>> PAGE_SHIFT; p <= (gpa + Math.max(1, length) - 1) >>> PAGE_SHIFT; p++)
      if (maddr(p * PAGE_SIZE) < 0) return false;
    return true;
  };
  return {
    contains,
    read32: (gpa) => (contains(gpa, 4) && (gpa & 3) === 0 ? mem.read32(maddr(gpa)) : 0xffffffff),
    readBytes: (gpa, length) => {
      const out = new Uint8Array(length);
      if (!contains(gpa, length)) return out.fill(0xff);
      for (let done = 0; done < length; ) {
        const n = Math.min(length - done, PAGE_SIZE - ((gpa + done) & (PAGE_SIZE - 1)));
        out.set(mem.readBytes(maddr(gpa + done), n), done);
        done += n;
      }
      return out;
    },
    writeBytes: (gpa, data) => {
      if (!contains(gpa, data.length)) return;
      for (let done = 0; done < data.length; ) {
        const n = Math.min(data.length - done, PAGE_SIZE - ((gpa + done) & (PAGE_SIZE - 1)));
        mem.writeBytes(maddr(gpa + done), data.subarray(done, done + n));
        done += n;
      }
    },
  };
}

/** Creates a domain for `guest`, attaches its runtime and unpauses it. */
export function launchTsGuest(
  hv: Hypervisor,
  guest: TsGuest,
  opts: {
    name?: string;
    arch?: "mips" | "x86";
    pages?: number;
    maxPages?: number;
    privileged?: boolean;
    cmdline?: string;
    watchdogCycles?: number;
    paused?: boolean;
    devices?: TsPortIoOptions;
  } = {},
): { domain: Domain; backend: TsGuestBackend } {
  const domain = hv.createDomain({
    name: opts.name ?? guest.name,
    arch: opts.arch ?? "x86",
    pages: opts.pages ?? 16,
    ...(opts.maxPages !== undefined ? { maxPages: opts.maxPages } : {}),
    ...(opts.privileged !== undefined ? { privileged: opts.privileged } : {}),
    ...(opts.cmdline !== undefined ? { cmdline: opts.cmdline } : {}),
  });
  const backend = new TsGuestBackend(hv, domain, guest, {
    ...(opts.watchdogCycles ? { watchdogCycles: opts.watchdogCycles } : {}),
    ...(opts.devices ? { devices: opts.devices } : {}),
  });
  hv.attachBackend(domain, backend);
  if (!opts.paused) hv.unpause(domain.domid);
  return { domain, backend };
}
