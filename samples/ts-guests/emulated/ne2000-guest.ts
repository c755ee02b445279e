/**
 * A TS guest with an emulated NE2000: initialise the card, tell the runner it is listening, wait
 * for the START broadcast, run a NetDevice workload, stop the card.
 */
import { type GuestContext, Ne2000Nic, type TsGuest } from "../../../src/guest-sdk/index.js";
import { FrameInbox, isStart } from "../net/frame.js";
import type { NetDeviceWorkload } from "../net/net-frontend.js";

export class Ne2000Guest implements TsGuest {
  readonly name = "ne2000-guest";
  nic: Ne2000Nic | null = null;
  failure: unknown = null;
  /** Wall-clock milliseconds and simulated cycles of the workload (after START). */
  readonly timing = { wallMs: 0, cycles: 0 };

  constructor(
    private readonly workload: NetDeviceWorkload,
    /** Called once the card receives (the runner broadcasts START when every guest is ready). */
    private readonly ready: () => void,
    private readonly waitStart = true,
  ) {}

  async main(ctx: GuestContext): Promise<void> {
    const nic = new Ne2000Nic(ctx);
    this.nic = nic;
    const inbox = new FrameInbox(nic); // before init: frames$ is hot
    try {
      await nic.init();
      this.ready();
      if (this.waitStart) await inbox.next(isStart);
      const t0 = performance.now();
      const c0 = ctx.now();
      await this.workload(nic, inbox, ctx);
      this.timing.wallMs = performance.now() - t0;
      this.timing.cycles = ctx.now() - c0;
    } catch (err) {
      this.failure = err;
    }
    inbox.close();
    nic.close();
  }
}
