/**
 * Installs the paravirtual core on a Hypervisor: grant tables (grant_table_op), the extra
 * event-channel ops (bind_ipi, reset), and the store daemon served over every domain's store
 * ring. One call, after constructing the Hypervisor and before creating domains.
 */
import { type GrantLimits, GrantTables } from "../grant-table/grant-table.js";
import type { Hypervisor } from "../hypervisor.js";
import { type StoreQuotas, XenStore } from "../store/xenstored.js";
import { registerEvtchnExtraOps } from "./evtchn-extra-ops.js";
import { StoreService } from "./store-service.js";
import { registerPvTraceProviders } from "./trace.js";

const pvCores = new WeakMap<Hypervisor, PvCore>();
registerPvTraceProviders((hv) => pvCores.get(hv));

export interface PvCore {
  readonly grants: GrantTables;
  readonly store: XenStore;
  readonly storeService: StoreService;
}

export function installPvCore(
  hv: Hypervisor,
  opts: { grantLimits?: Partial<GrantLimits>; storeQuotas?: Partial<StoreQuotas> } = {},
): PvCore {
  const grants = new GrantTables(hv, opts.grantLimits);
  registerEvtchnExtraOps(hv);
  const store = new XenStore(opts.storeQuotas);
  const storeService = new StoreService(hv, store);
  const pv = { grants, store, storeService };
  pvCores.set(hv, pv);
  return pv;
}
