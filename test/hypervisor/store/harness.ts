/** Wires TS-side store clients to the daemon over real ring pages, notifications as microtasks. */
import { LocalSharedPage } from "../../../src/guest-sdk/ring/index.js";
import { StoreClient } from "../../../src/guest-sdk/store/index.js";
import {
  type StoreQuotas,
  StoreRingServer,
  StoreToolstack,
  XenStore,
} from "../../../src/hypervisor/store/index.js";

export interface Guest {
  domid: number;
  page: LocalSharedPage;
  client: StoreClient;
  server: StoreRingServer;
}

export function setup(domids: number[], quotas: Partial<StoreQuotas> = {}) {
  const store = new XenStore(quotas);
  const toolstack = new StoreToolstack(store);
  const guests = new Map<number, Guest>();
  for (const domid of domids) {
    toolstack.createDomain(domid, `guest${domid}`);
    const page = new LocalSharedPage();
    let client!: StoreClient;
    const server = new StoreRingServer(store, domid, page, () =>
      queueMicrotask(() => client.onNotification()),
    );
    client = new StoreClient({ page, notify: () => queueMicrotask(() => server.onNotification()) });
    guests.set(domid, { domid, page, client, server });
  }
  return { store, toolstack, g: (d: number) => guests.get(d)! };
}

/** Lets queued notifications run to completion. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}
