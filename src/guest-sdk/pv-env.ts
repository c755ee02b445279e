/**
 * Everything a paravirtual TypeScript guest needs, built once from its GuestContext: typed
 * hypercalls, event dispatch, its grant table and its store client (on the store ring page
 * and event channel named in start_info).
 */
import type { GuestContext } from "../hypercalls/index.js";
import { EventChannel, EventDispatcher } from "./event-channel.js";
import { GrantTable } from "./grant-table.js";
import { GuestPage } from "./guest-page.js";
import { HypercallClient } from "./hypercall-client.js";
import { StoreClient } from "./store/store-client.js";

/** Guest frame of the store ring page (the runtime's fixed layout: start_info 0, shared_info 1, store 2, console 3). */
export const STORE_PFN = 2;

export interface PvEnv {
  readonly ctx: GuestContext;
  readonly domid: number;
  readonly hypercalls: HypercallClient;
  readonly events: EventDispatcher;
  readonly grants: GrantTable;
  readonly store: StoreClient;
  readonly storeChannel: EventChannel;
}

/** Creates the guest's PV environment (sets up a grant table of `grantFrames` frames). */
export async function createPvEnv(ctx: GuestContext, opts: { grantFrames?: number } = {}): Promise<PvEnv> {
  const hypercalls = new HypercallClient(ctx);
  const events = new EventDispatcher(ctx);
  const port = ctx.mem.read32(ctx.startInfoAddress + ctx.layouts.startInfo.offsets.store_evtchn!);
  const storeChannel = EventChannel.existing(hypercalls, events, port);
  const store = new StoreClient({
    page: new GuestPage(ctx.mem, STORE_PFN),
    notify: () => storeChannel.notify(),
  });
  storeChannel.events$.subscribe(() => store.onNotification());
  const grants = await GrantTable.create(ctx, hypercalls, opts.grantFrames ?? 1);
  return { ctx, domid: ctx.domid, hypercalls, events, grants, store, storeChannel };
}
