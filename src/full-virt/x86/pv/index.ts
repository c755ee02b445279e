/**
 * The x86 PV mode of the monitor (Xen x86_32 PV, docs/x86-pv-abi.md): ring-1 kernels with Xen's
 * flat selectors, direct paging validated with Xen's page types, trap bouncing, event upcalls and
 * the CPU/MMU hypercalls. `X86PvVcpu` shares `X86FullMachine`'s CPU with fully virtualized
 * domains; `registerX86PvHypercalls` plugs its hypercalls into the hypervisor's dispatcher.
 */
export { registerX86PvHypercalls, type X86PvDispatcher } from "./hypercalls.js";
export * from "./layout.js";
export { PageType, type PageTypeCounts, PageTypes } from "./page-types.js";
export {
  PV_MMU_BATCH_MAX,
  type X86PvBootInfo,
  type X86PvCounters,
  type X86PvHost,
  X86PvVcpu,
} from "./pv-vcpu.js";
export { X86PvStats } from "./stats.js";
