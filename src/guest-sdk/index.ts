/** pvkit/guest-sdk — what a paravirtual guest imports: rings, grants, events, the store, XenBus. */
export * from "./errors.js";
export * from "./ring/index.js";
