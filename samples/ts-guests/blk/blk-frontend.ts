/** A TS guest with a blkfront disk: connect, run a workload on the BlockDevice, disconnect. */

import { createPvEnv, type GuestContext, type TsGuest } from "../../../src/guest-sdk/index.js";
import { BlkFrontend, type BlkFrontendOptions } from "../../../src/pv-drivers/index.js";

/** What a workload gets: the connected device and the guest context (clock, charges). */
export type BlkWorkload = (disk: BlkFrontend, ctx: GuestContext) => Promise<void>;

export class BlkFrontGuest implements TsGuest {
  readonly name = "blkfront";
  front: BlkFrontend | null = null;
  /** The workload's error, if it threw (the guest still disconnects cleanly). */
  failure: unknown = null;
  /** Wall-clock milliseconds and simulated cycles of the workload (after connect, before close). */
  readonly timing = { wallMs: 0, cycles: 0 };

  constructor(
    private readonly workload: BlkWorkload,
    private readonly opts: BlkFrontendOptions = {},
  ) {}

  async main(ctx: GuestContext): Promise<void> {
    const env = await createPvEnv(ctx);
    const front = new BlkFrontend(env, this.opts);
    this.front = front;
    await front.connect();
    const t0 = performance.now();
    const c0 = ctx.now();
    try {
      await this.workload(front, ctx);
    } catch (err) {
      this.failure = err;
    }
    this.timing.wallMs = performance.now() - t0;
    this.timing.cycles = ctx.now() - c0;
    await front.disconnect();
  }
}

/** The sample's workload: write a pattern, read it back, flush; prints what it saw. */
export const demoWorkload: BlkWorkload = async (disk, _ctx) => {
  const data = new Uint8Array(16 * 512);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
  await disk.write(100, data);
  const back = await disk.read(100, 16);
  const same = back.every((b, i) => b === data[i]);
  await disk.flush();
  console.log(
    `blkfront: ${disk.sectors} sectors; wrote 16 at 100, read back ${same ? "identical" : "DIFFERENT"}; flushed`,
  );
};
