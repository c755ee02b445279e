/** A TS guest with a netfront vif: connect, run a workload on the NetDevice, disconnect. */

import { createPvEnv, type GuestContext, type TsGuest } from "../../../src/guest-sdk/index.js";
import { type NetDevice, NetFrontend, type NetFrontendOptions } from "../../../src/pv-drivers/index.js";
import { FrameInbox, isStart } from "./frame.js";

/** What a workload gets: the connected device, its inbox (START already taken) and the context. */
export type NetWorkload = (dev: NetFrontend, inbox: FrameInbox, ctx: GuestContext) => Promise<void>;
/** A workload that needs only the NetDevice role: runs on netfront and on the emulated NE2000. */
export type NetDeviceWorkload = (dev: NetDevice, inbox: FrameInbox, ctx: GuestContext) => Promise<void>;

export class NetFrontGuest implements TsGuest {
  readonly name = "netfront";
  dev: NetFrontend | null = null;
  inbox: FrameInbox | null = null;
  /** The workload's error, if it threw (the guest still disconnects cleanly). */
  failure: unknown = null;
  /** Wall-clock milliseconds and simulated cycles of the workload (after START, before close). */
  readonly timing = { wallMs: 0, cycles: 0 };

  constructor(
    private readonly workload: NetWorkload,
    private readonly opts: NetFrontendOptions = {},
    private readonly waitStart = true,
  ) {}

  async main(ctx: GuestContext): Promise<void> {
    const env = await createPvEnv(ctx);
    const dev = new NetFrontend(env, this.opts);
    this.dev = dev;
    // Subscribe before connecting: frames$ is hot.
    const inbox = new FrameInbox(dev);
    this.inbox = inbox;
    try {
      await dev.connect();
    } catch (err) {
      this.failure = err;
      throw err;
    }
    try {
      if (this.waitStart) await inbox.next(isStart);
      const t0 = performance.now();
      const c0 = ctx.now();
      await this.workload(dev, inbox, ctx);
      this.timing.wallMs = performance.now() - t0;
      this.timing.cycles = ctx.now() - c0;
    } catch (err) {
      this.failure = err;
    }
    inbox.close();
    await dev.disconnect();
  }
}
