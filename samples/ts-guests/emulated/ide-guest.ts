/** A TS guest with an emulated IDE disk: identify it, run a workload on it, power off. */

import {
  type GuestContext,
  IdeDisk,
  type IdeDiskOptions,
  type TsGuest,
} from "../../../src/guest-sdk/index.js";

/** What a workload gets: the identified disk and the guest context (clock, charges). */
export type IdeWorkload = (disk: IdeDisk, ctx: GuestContext) => Promise<void>;

export class IdeGuest implements TsGuest {
  readonly name = "ide-guest";
  disk: IdeDisk | null = null;
  /** The workload's error, if it threw. */
  failure: unknown = null;
  /** Wall-clock milliseconds and simulated cycles of the workload (after init). */
  readonly timing = { wallMs: 0, cycles: 0 };

  constructor(
    private readonly workload: IdeWorkload,
    private readonly opts: IdeDiskOptions = {},
  ) {}

  async main(ctx: GuestContext): Promise<void> {
    const disk = new IdeDisk(ctx, this.opts);
    this.disk = disk;
    await disk.init();
    const t0 = performance.now();
    const c0 = ctx.now();
    try {
      await this.workload(disk, ctx);
    } catch (err) {
      this.failure = err;
    }
    this.timing.wallMs = performance.now() - t0;
    this.timing.cycles = ctx.now() - c0;
  }
}
