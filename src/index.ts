/**
 * pvkit — the package root re-exports the hypercall ABI and the guest SDK, what most programs
 * import; the other layers are subpaths (pvkit/machine, pvkit/hypervisor, …).
 */
export * from "./guest-sdk/index.js";
export * from "./hypercalls/index.js";
