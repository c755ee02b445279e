/**
 * The hook through which a vCPU's execution engine plugs into the scheduler: the TS-guest
 * runtime now, Disco (MIPS) and the x86 monitor later.
 *
 * Contract: `run(budget)` executes the guest for at most about `budget` simulated cycles,
 * adding what it spends to the machine clock (`clock.cycles`) and to the domain's
 * `stats.guestCycles` / `stats.monitorCycles`, and returns why it stopped. Traps are handed to
 * the hypervisor while it runs: a hypercall goes to `hypervisor.hypercall(domain, nr, args)`
 * (the result goes back in EAX / v0), other traps are counted with
 * `hypervisor.recordTrap(domain, cause)` and emulated or reflected by the back end itself.
 * A back end that finds the vCPU blocked (SCHEDOP_block), the domain shut down or crashed
 * after a hypercall returns the matching reason at once.
 */
export const VcpuExitReason = {
  /** The budget ran out; the vCPU stays runnable. */
  budget: 0,
  /** The guest yielded (SCHEDOP_yield); runnable, goes to the back of the queue. */
  yield: 1,
  /** The vCPU blocked waiting for an event. */
  blocked: 2,
  /** The domain shut down, crashed or was destroyed: never run it again. */
  halted: 3,
} as const;
export type VcpuExitReason = (typeof VcpuExitReason)[keyof typeof VcpuExitReason];

export interface VcpuBackend {
  run(budget: number): VcpuExitReason | Promise<VcpuExitReason>;
  /** Called once when the domain is destroyed (release host resources, reject waiters). */
  dispose?(): void;
}
