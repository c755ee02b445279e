/**
 * Full virtualization of the i386 machine, VMware-style (DESIGN.md "Full virtualization / x86";
 * the seed's VMware section): ring compression, reflection through the guest's virtual IDT,
 * trap-and-emulate of privileged instructions and I/O, the monitor hole, shadow GDT/LDT and shadow
 * page tables, and scan_for_nonvirtualizable with patched copies behind a private CS base.
 *
 * Use: `new X86FullMachine({ memory, clock, costs })` (one i386 CPU in intercept mode, shared by
 * every x86 domain), then per domain `new X86FullVcpu(machine, host, { ramBytes, input, scan })`,
 * `vcpu.load(elfBytes, file)` (multiboot, as QEMU -kernel) and `vcpu.run(budgetCycles)` (the
 * hypervisor's VcpuBackend contract; `dispose()` returns the monitor's frames). The host is the
 * same `DiscoHost` shape the MIPS monitor uses (P2M, allocator, console, shutdown, crash, block,
 * wake). `src/cli/commands/run-full-x86.ts` is the hypervisor adapter.
 *
 * Policies (counted in X86FullStats):
 * - Returns and indirect branches run natively; a patched copy starts as all INT3, so the first
 *   arrival at an entry the scan has not seen traps and is scanned (`lazyEntryScans`).
 * - Ring-3 code is not scanned: user-mode SGDT/SIDT/SLDT/STR/SMSW/PUSHF see the real state (the
 *   monitor's GDT at HOLE_GDT, IDT at HOLE_IDT, IF = 1, IOPL = 0), as under VMware.
 * - Guest page-table writes: the shadow maps tracked frames read-only; a write faults, the
 *   monitor lets that one instruction run with the entry writable (interrupts held), restores it
 *   and drops the shadow entries derived from what was written (`trackedPtWrites`).
 * - Flat data segments are truncated below the hole; guest accesses there #GP and MOVs are
 *   emulated against the guest's own mapping (`holeEmulations`).
 *
 * Limits (each crashes the domain with a diagnostic, never the monitor): ring-0 code above the
 * 3 MiB code window (with scanning on), 16-bit IRET, task gates and task switches, far transfers
 * through call gates, IDT gates other than 32-bit interrupt/trap gates, faults while delivering
 * an exception (no #DF reflection), instructions other than MOV touching a guest mapping in the
 * hole. Guest rings 1 and 2 are not distinguished from ring 0. The guest TSS I/O bitmap is not
 * consulted (ring-3 I/O is allowed only with virtual IOPL 3). Ring-1 code runs interpreted (the
 * CPU compiles blocks only for CS base 0), so full virtualization costs wall time beyond the
 * simulated cycles the cost table charges.
 *
 * `pv` is the monitor's x86 PV mode (Xen x86_32 PV, docs/x86-pv-abi.md): `pv.X86PvVcpu` runs a
 * PV kernel in ring 1 on the same `X86FullMachine` (direct paging validated with Xen's page
 * types, trap bouncing, event upcalls); `pv.registerX86PvHypercalls` plugs in its hypercalls.
 */
export { emulateGp, emulatePatched, type Fault } from "./emulate.js";
export { GuestMmu } from "./guest-mmu.js";
export * from "./layout.js";
export * as pv from "./pv/index.js";
export { type CodeCopy, CodeScanner, type Patch } from "./scanner.js";
export { ShadowGdt } from "./shadow-gdt.js";
export { FillResult, ShadowMmu, type ShadowSpace } from "./shadow-paging.js";
export { X86FullStats } from "./stats.js";
export {
  type MonitorCpuOwner,
  X86Exit,
  type X86FullHost,
  X86FullMachine,
  type X86FullMachineOptions,
  X86FullVcpu,
  type X86FullVcpuOptions,
} from "./vcpu.js";
