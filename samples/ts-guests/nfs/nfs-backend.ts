/**
 * The NFS driver domain as a TypeScript guest: one buffer cache in its own frames, shared by
 * one NfsBackend per front end, all answering through the real NFS server.
 */
import { createPvEnv, type GuestContext, type PvEnv, type TsGuest } from "../../../src/guest-sdk/index.js";
import {
  BufferCache,
  type CacheFrames,
  NfsBackend,
  type NfsBackendOptions,
  type SyncRecordHandler,
} from "../../../src/pv-drivers/index.js";

const PAGE_SIZE = 4096;

/** The cache's frames are the driver domain's own pages; grants are its grant table's. */
export function domainFrames(env: PvEnv): CacheFrames {
  const zeros = new Uint8Array(PAGE_SIZE);
  return {
    allocFrame: () => env.ctx.allocPage(),
    fill: (pfn, data) => {
      env.ctx.mem.writeBytes(pfn * PAGE_SIZE, data);
      if (data.length < PAGE_SIZE)
        env.ctx.mem.writeBytes(pfn * PAGE_SIZE + data.length, zeros.subarray(data.length));
    },
    grantReadOnly: (domid, pfn) => env.grants.grantAccess(domid, pfn, true),
    inUse: (ref) => env.grants.inUse(ref),
    endAccess: (ref) => env.grants.endAccess(ref),
  };
}

export class NfsBackGuest implements TsGuest {
  readonly name = "nfsback";
  readonly backs = new Map<number, NfsBackend>();
  cache: BufferCache | null = null;

  constructor(
    private readonly server: SyncRecordHandler,
    private readonly exportPath: string,
    private readonly frontends: readonly number[],
    private readonly cacheFrames = 256,
    private readonly opts: NfsBackendOptions = {},
  ) {}

  async main(ctx: GuestContext): Promise<void> {
    // Grant refs: one per cache page and front end that reads it, plus rings.
    const env = await createPvEnv(ctx, { grantFrames: 4 });
    const cache = new BufferCache(domainFrames(env), this.cacheFrames);
    this.cache = cache;
    for (const fe of this.frontends)
      this.backs.set(fe, new NfsBackend(env, fe, this.server, cache, this.exportPath, this.opts));
    const backs = [...this.backs.values()];
    // A front end that fails the handshake must not stop the others.
    await Promise.allSettled(backs.map((b) => b.connect()));
    await Promise.allSettled(backs.map((b) => b.closed));
  }
}
