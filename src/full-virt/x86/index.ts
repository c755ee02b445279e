/**
 * Full virtualization of the i386 machine, VMware-style (DESIGN.md "Full virtualization / x86";
 * the seed's VMware section): ring compression, reflection through the guest's virtual IDT,
 * trap-and-emulate of privileged instructions and I/O, the monitor hole, shadow GDT and shadow
 * page tables, and scan_for_nonvirtualizable with patched copies behind a private CS base.
 */
export { emulateGp, emulatePatched, type Fault } from "./emulate.js";
export { GuestMmu } from "./guest-mmu.js";
export * from "./layout.js";
export { type CodeCopy, CodeScanner, type Patch } from "./scanner.js";
export { ShadowGdt } from "./shadow-gdt.js";
export { FillResult, ShadowMmu, type ShadowSpace } from "./shadow-paging.js";
export { X86FullStats } from "./stats.js";
export {
  X86Exit,
  type X86FullHost,
  X86FullMachine,
  type X86FullMachineOptions,
  X86FullVcpu,
  type X86FullVcpuOptions,
} from "./vcpu.js";
