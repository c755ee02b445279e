/** pvkit/guest-sdk — what a paravirtual guest imports: rings, grants, events, the store, XenBus. */

/** The runtime contract a TS guest implements and receives (defined by the ABI layer). */
export type { GuestContext, GuestMemoryAccess, TsGuest } from "../hypercalls/index.js";
export * from "./emulated/index.js";
export * from "./errors.js";
export { EventChannel, EventDispatcher } from "./event-channel.js";
export { GNTTAB_NR_RESERVED_ENTRIES, type GrantMapping, GrantTable } from "./grant-table.js";
export { GuestPage } from "./guest-page.js";
export { type CopyPtr, HypercallClient, type MapResult } from "./hypercall-client.js";
export { createPvEnv, type PvEnv, STORE_PFN } from "./pv-env.js";
export * from "./ring/index.js";
export * from "./store/index.js";
export * from "./xenbus/index.js";
