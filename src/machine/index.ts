/**
 * pvkit/machine — the simulated hardware: memory, buses, CPUs, devices, loaders, the clock and
 * the cost table. Knows nothing of virtualization and imports nothing else of pvkit.
 */

export type { Arch, Board, BoardStats } from "./board.js";
export { SimClock, type TimerHandle } from "./clock.js";
export { type CostName, CostTable, costTableHash, scaledCostTable } from "./cost.js";
export { type CpuStats, type IrqLine, NO_IRQ, StopReason, StopSignal } from "./cpu.js";
export { LoaderError, MachineError, PvkitError } from "./errors.js";
export { PortBus, type PortHandler, type PortSize } from "./io-ports.js";
export {
  type AccessOracle,
  PAGE_SHIFT,
  PAGE_SIZE,
  PhysicalMemory,
  type WatchedWriteHandler,
} from "./memory.js";
export * as mips from "./mips/index.js";
