/** A TS guest with an NFS mount over nfsif: connect, MOUNT, run a workload, disconnect. */
import { createPvEnv, type GuestContext, type TsGuest } from "../../../src/guest-sdk/index.js";
import { NfsFrontend, type NfsFrontendOptions } from "../../../src/pv-drivers/index.js";

/** What a workload gets: the connected, mounted client (root in `nfs.root`) and the context. */
export type NfsWorkload = (nfs: NfsFrontend, ctx: GuestContext) => Promise<void>;

export class NfsFrontGuest implements TsGuest {
  readonly name = "nfsfront";
  front: NfsFrontend | null = null;
  /** The workload's error, if it threw (the guest still disconnects). */
  failure: unknown = null;
  readonly timing = { wallMs: 0, cycles: 0 };

  constructor(
    private readonly workload: NfsWorkload,
    private readonly opts: NfsFrontendOptions = {},
    /** Disconnect after the workload (false: keep mappings, for tests that inspect them). */
    private readonly disconnect = true,
    /** Called after the workload, before disconnecting (runNfs's barrier: all guests measured together). */
    private readonly afterWorkload?: (nfs: NfsFrontend) => Promise<void>,
  ) {}

  async main(ctx: GuestContext): Promise<void> {
    const env = await createPvEnv(ctx);
    const front = new NfsFrontend(env, this.opts);
    this.front = front;
    await front.connect();
    const t0 = performance.now();
    const c0 = ctx.now();
    try {
      await front.mount();
      await this.workload(front, ctx);
    } catch (err) {
      this.failure = err;
    }
    this.timing.wallMs = performance.now() - t0;
    this.timing.cycles = ctx.now() - c0;
    try {
      await this.afterWorkload?.(front);
    } catch (err) {
      this.failure ??= err;
    }
    if (this.disconnect) await front.disconnect();
  }
}

/**
 * Waits in simulated time (SCHEDOP_yield) until `cond` holds: the way guests of one run take
 * turns (a host promise would park the guest outside its slice).
 */
export async function yieldUntil(nfs: NfsFrontend, cond: () => boolean, maxYields = 100_000): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i >= maxYields) throw new Error("yieldUntil: condition never held");
    await nfs.env.hypercalls.schedYield();
  }
}
