/**
 * Disco on the MIPS machine: trap-and-emulate full virtualization of CP0, the TLB and devices
 * (DESIGN.md "Full virtualization / MIPS (Disco)"; the seed's tlb_miss_handler,
 * emulate_tlbwrite_instruction, emulate_tlbread_instruction and privilege_trap_handler).
 */
export { branchOutcome, emulateDeviceAccess, isDeviceAddress } from "./device-emulation.js";
export {
  DiscoExit,
  type DiscoHost,
  DiscoVcpu,
  type DiscoVcpuOptions,
  type DomainCounters,
  type UpcallHost,
} from "./disco-vcpu.js";
export { L2Tlb } from "./l2tlb.js";
export { DiscoMachine, type DiscoMachineOptions, type HostedVcpu } from "./monitor.js";
export { Pmap, type PmapAllocator, type PmapBacking } from "./pmap.js";
export {
  emulateTlbreadInstruction,
  emulateTlbwriteInstruction,
  PrivResult,
  privilegeTrapHandler,
} from "./privilege-trap.js";
export { MipsPvMode, PRIVREGS_PFN, type PvDispatcher, registerMipsPvHypercalls } from "./pv-mode.js";
export { reflectException, vectorFor } from "./reflect.js";
export { DISCO_ROW_NAMES, DiscoRow, DiscoStats, type DiscoStatsRow } from "./stats.js";
export { machineLo, tlbFault, tlbMissHandler } from "./tlb-miss.js";
export { VirtualCp0 } from "./virtual-cp0.js";
