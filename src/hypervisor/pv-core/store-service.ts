/**
 * Connects the store daemon to the hypervisor: every domain's store ring page (pfn 2 of its
 * pseudo-physical memory, start_info.store_mfn) is served by a StoreRingServer; the guest's
 * notifications on start_info.store_evtchn reach the server through the core's store handler,
 * and the server notifies back on the same port. Domains are introduced to the store and given
 * a home by the toolstack when created, and released when destroyed.
 */

import type { SharedPage } from "../../hypercalls/index.js";
import { PAGE_SIZE } from "../../machine/index.js";
import { BootPfn, type Domain } from "../domain.js";
import type { Hypervisor } from "../hypervisor.js";
import { StoreRingServer } from "../store/store-ring-server.js";
import { StoreToolstack } from "../store/toolstack.js";
import type { XenStore } from "../store/xenstored.js";

/** The monitor's view of a domain's page in machine memory (the daemon runs in the monitor). */
class MachinePage implements SharedPage {
  readonly size = PAGE_SIZE;
  constructor(
    private readonly hv: Hypervisor,
    private readonly domain: Domain,
    private readonly pfn: number,
  ) {}
  private base(): number {
    return this.domain.p2m.lookup(this.pfn) * PAGE_SIZE;
  }
  read8(o: number): number {
    return this.hv.memory.read8(this.base() + o);
  }
  read16(o: number): number {
    return this.hv.memory.read16(this.base() + o);
  }
  read32(o: number): number {
    return this.hv.memory.read32(this.base() + o);
  }
  write8(o: number, v: number): void {
    this.hv.memory.write8(this.base() + o, v);
  }
  write16(o: number, v: number): void {
    this.hv.memory.write16(this.base() + o, v);
  }
  write32(o: number, v: number): void {
    this.hv.memory.write32(this.base() + o, v);
  }
}

export class StoreService {
  readonly toolstack: StoreToolstack;
  private readonly servers = new Map<number, StoreRingServer>();

  constructor(
    private readonly hv: Hypervisor,
    readonly store: XenStore,
  ) {
    this.toolstack = new StoreToolstack(store);
    hv.setStoreHandler((d) => this.servers.get(d.domid)?.onNotification());
    hv.domainEvents$.subscribe((e) => {
      if (e.state === "created") this.attach(e.domid);
    });
    hv.onDomainDestroy((d) => this.detach(d));
    for (const d of hv.listDomains()) this.attach(d.domid);
  }

  /** The ring server of a domain (statistics, tests). */
  server(domid: number): StoreRingServer | undefined {
    return this.servers.get(domid);
  }

  private attach(domid: number): void {
    const d = this.hv.domain(domid);
    if (!d || this.servers.has(domid)) return;
    this.toolstack.createDomain(domid, d.name);
    const server = new StoreRingServer(this.store, domid, new MachinePage(this.hv, d, BootPfn.store), () =>
      this.hv.events.notifyFromXen(d, d.storeEvtchn),
    );
    this.servers.set(domid, server);
  }

  private detach(d: Domain): void {
    this.servers.get(d.domid)?.close();
    this.servers.delete(d.domid);
    this.toolstack.destroyDomain(d.domid);
  }
}
