/**
 * Round-robin scheduling of vCPUs on the one simulated CPU in time slices of simulated cycles,
 * with block/wake-up and the clock's timers (set_timer_op → VIRQ_TIMER). Deterministic: the
 * order depends only on simulated time and the guests' actions; no host timers.
 *
 * Idle: when no vCPU is runnable the clock skips to the next timer (the CPU halts); with no
 * timer either, the run ends as "idle" (every live domain is blocked for good).
 */
import type { SimClock } from "../machine/index.js";
import type { Domain, Vcpu } from "./domain.js";
import { VcpuExitReason } from "./vcpu-backend.js";

export type RunEnd = "all-halted" | "idle" | "cycle-limit";

export interface SchedulerHost {
  /** Charges a domain switch to the incoming domain. */
  onSwitch(from: Domain | null, to: Domain): void;
  /** Called before each slice (vcpu_time_info refresh). */
  beforeSlice(vcpu: Vcpu): void;
  /** Called after each slice (statistics publication). */
  afterSlice(vcpu: Vcpu): void;
}

export class Scheduler {
  private readonly queue: Vcpu[] = [];
  private readonly members = new Set<Vcpu>();
  /** The vCPU on the CPU now (the oracle's subject), or null while the monitor runs. */
  current: Vcpu | null = null;
  private last: Domain | null = null;

  constructor(
    private readonly clock: SimClock,
    private readonly host: SchedulerHost,
    /** Slice length in simulated cycles (Xen's credit scheduler uses 30 ms; we use 1 M cycles = 1 ms at 1 GHz). */
    public sliceCycles = 1_000_000,
  ) {}

  /** Adds a vCPU (its domain unpaused, a back end attached) as runnable. */
  add(vcpu: Vcpu): void {
    this.members.add(vcpu);
    if (vcpu.state === "offline") vcpu.state = "runnable";
    if (vcpu.state === "runnable" && !this.queue.includes(vcpu)) this.queue.push(vcpu);
  }

  /** Removes a vCPU for good (domain shut down, crashed or destroyed). */
  remove(vcpu: Vcpu): void {
    this.members.delete(vcpu);
    const i = this.queue.indexOf(vcpu);
    if (i >= 0) this.queue.splice(i, 1);
    vcpu.state = "offline";
  }

  /** Blocks a vCPU until `wake`. */
  block(vcpu: Vcpu): void {
    if (vcpu.state === "running" || vcpu.state === "runnable") vcpu.state = "blocked";
    const i = this.queue.indexOf(vcpu);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** Makes a blocked vCPU runnable again (an event, a timer). */
  wake(vcpu: Vcpu): void {
    if (vcpu.state !== "blocked") return;
    vcpu.state = "runnable";
    vcpu.pollPorts = null;
    if (this.members.has(vcpu) && vcpu.domain.pauseCount === 0 && !this.queue.includes(vcpu))
      this.queue.push(vcpu);
  }

  /** Re-queues a runnable vCPU after unpause. */
  requeue(vcpu: Vcpu): void {
    if (this.members.has(vcpu) && vcpu.state === "runnable" && !this.queue.includes(vcpu))
      this.queue.push(vcpu);
  }

  /** Live vCPUs under this scheduler. */
  get size(): number {
    return this.members.size;
  }

  /** Runs until every vCPU halted, all are blocked with no timer pending, or `maxCycles` is reached. */
  async run(maxCycles = Number.POSITIVE_INFINITY): Promise<RunEnd> {
    const clock = this.clock;
    for (;;) {
      if (clock.cycles >= maxCycles) return "cycle-limit";
      clock.runDue();
      if (this.members.size === 0) return "all-halted";
      const vcpu = this.queue.shift();
      if (!vcpu) {
        // Nothing runnable: the CPU idles until the next timer, if any.
        if (clock.nextDeadline === Number.POSITIVE_INFINITY) return "idle";
        if (clock.nextDeadline > maxCycles) {
          clock.cycles = maxCycles;
          return "cycle-limit";
        }
        clock.skipToNextDeadline();
        continue;
      }
      if (vcpu.state !== "runnable" || vcpu.domain.pauseCount > 0 || !vcpu.backend) continue;
      if (this.last !== vcpu.domain) this.host.onSwitch(this.last, vcpu.domain);
      this.last = vcpu.domain;
      const budget = Math.max(
        1,
        Math.min(this.sliceCycles, clock.nextDeadline - clock.cycles, maxCycles - clock.cycles),
      );
      vcpu.state = "running";
      this.host.beforeSlice(vcpu);
      this.current = vcpu;
      let reason: VcpuExitReason;
      try {
        reason = await vcpu.backend.run(budget);
      } finally {
        this.current = null;
      }
      if (vcpu.state === "running") vcpu.state = "runnable";
      if (reason === VcpuExitReason.halted || !this.members.has(vcpu)) {
        // nothing: the hypervisor removed it
      } else if (vcpu.state === "runnable" && !this.queue.includes(vcpu)) {
        this.queue.push(vcpu);
      }
      this.host.afterSlice(vcpu);
    }
  }
}
