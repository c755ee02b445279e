/** Machine-code guests (ELF images) run natively or as full/PV domains on the hypervisor. */

export * from "./mips-domains.js";
export * from "./monitor-run.js";
export * from "./x86-domains.js";
