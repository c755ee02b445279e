/** pvkit/hypervisor — domains, machine memory, scheduler, hypercall dispatch, event channels, TS guests. */
export { type ConsoleLine, DomainConsole } from "./console.js";
export {
  CONSOLE_IO_MAX,
  MULTICALL_MAX,
  POLL_MAX_PORTS,
  RESERVATION_MAX_EXTENTS,
  XEN_VERSION,
} from "./core-hypercalls.js";
export {
  type DispatcherHost,
  HypercallDispatcher,
  type HypercallHandler,
  type HypercallListener,
  type HypercallRequest,
} from "./dispatcher.js";
export {
  BootPfn,
  Domain,
  type DomainInit,
  type DomainState,
  type GuestAddressTranslator,
  Vcpu,
  type VcpuState,
} from "./domain.js";
export { HypervisorError, IsolationViolation } from "./errors.js";
export {
  type EventChannelHost,
  EventChannels,
  type EvtchnListener,
  type EvtchnOpHandler,
  type EvtchnTraceEvent,
} from "./event-channels.js";
export { EvtchnTable } from "./evtchn-table.js";
export * from "./grant-table/index.js";
export { GuestMemoryCopier } from "./guest-memory.js";
export {
  type CreateDomainOptions,
  type DomainEvent,
  Hypervisor,
  type HypervisorOptions,
} from "./hypervisor.js";
export * from "./machine-code/index.js";
export { Access, MachineMemory, OWNER_XEN } from "./machine-memory.js";
export { P2mFlag, P2mTable } from "./p2m.js";
export * from "./pv-core/index.js";
export {
  type RunnerDomainResult,
  type RunnerGuest,
  type RunnerOptions,
  type RunnerResult,
  runDomains,
} from "./runner.js";
export { type RunEnd, Scheduler } from "./scheduler.js";
export { DomainStats, type DomainStatsSnapshot, NR_TRAP_CAUSES } from "./stats.js";
export * from "./store/index.js";
export { DomainToken, GuestContextToken, HypervisorToken } from "./tokens.js";
export {
  formatHypercall,
  formatResult,
  parseTraceKinds,
  startTraces,
  type TraceProvider,
  traceProviders,
} from "./trace.js";
export { hypercallFromRegisters, type RegisterFile } from "./trap-hypercall.js";
export {
  MAX_STRING_ELEMENTS,
  type PortIoMode,
  TS_IRQ_LINES,
  type TsDeviceHost,
  type TsDmaMemory,
  TsGuestPortIo,
  type TsPortIoOptions,
} from "./ts-guest/port-io.js";
export { launchTsGuest, TsGuestBackend, type TsGuestOptions } from "./ts-guest/ts-guest-backend.js";
export { type VcpuBackend, VcpuExitReason } from "./vcpu-backend.js";
