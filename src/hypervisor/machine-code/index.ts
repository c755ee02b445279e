/** Machine-code guests (ELF images) run natively or as full/PV domains on the hypervisor. */
export { formatMonitorStats, type MonitorRunStats } from "./format-stats.js";
export * from "./mips-domains.js";
export * from "./x86-domains.js";
