/** The blkback driver domain as a TypeScript guest: one BlkBackend per front end, each on its own store. */

import { createPvEnv, type GuestContext, type TsGuest } from "../../../src/guest-sdk/index.js";
import { BlkBackend, type BlkBackendOptions, type BlockStore } from "../../../src/pv-drivers/index.js";

export class BlkBackGuest implements TsGuest {
  readonly name = "blkback";
  /** The drivers, by front-end domain id (counters, errors). */
  readonly backs = new Map<number, BlkBackend>();

  constructor(
    /** Front-end domain id → the store its disk lives on. */
    private readonly disks: ReadonlyMap<number, BlockStore>,
    private readonly opts: BlkBackendOptions = {},
  ) {}

  async main(ctx: GuestContext): Promise<void> {
    const env = await createPvEnv(ctx);
    for (const [fe, store] of this.disks) this.backs.set(fe, new BlkBackend(env, fe, store, this.opts));
    const backs = [...this.backs.values()];
    // A front end that fails the handshake must not stop the others.
    await Promise.allSettled(backs.map((b) => b.connect()));
    await Promise.allSettled(backs.map((b) => b.closed));
  }
}
