/**
 * pvkit/machine — the simulated hardware: memory, buses, CPUs, devices, loaders, the clock and
 * the cost table. Knows nothing of virtualization and imports nothing else of pvkit.
 */

export type { Arch, Board, BoardStats } from "./board.js";
export {
  archOfElf,
  BOARD_FACTORIES,
  type BoardFactory,
  type BoardOptions,
  createBoard,
  type GuestBoard,
  MIPSSIM_RAM_BYTES,
  MipssimBoard,
} from "./boards/index.js";
export { COM1_BASE, MULTIBOOT_GDT, MULTIBOOT_GDT_BASE, PIT_IRQ } from "./boards/pc.js";
export { SimClock, type TimerHandle } from "./clock.js";
export { type CostName, CostTable, costTableHash, scaledCostTable } from "./cost.js";
export { type CpuStats, type IrqLine, NO_IRQ, StopReason, StopSignal } from "./cpu.js";
// The TS-guest runtime's emulated devices (per-domain IDE and NE2000 models on a private bus).
export {
  ATA_SECTOR_SIZE,
  type DiskImage,
  ETH_MAX_FRAME,
  EXIT_PORT,
  ExitPort,
  FileDiskImage,
  IDE_PRIMARY_BASE,
  IDE_PRIMARY_CTL,
  IDE_PRIMARY_IRQ,
  IdeBusMaster,
  IdeChannel,
  MemoryDiskImage,
  NE2000_BASE,
  NE2000_IRQ,
  Ne2000,
  Uart16550,
  type Uart16550Options,
  type Uart16550State,
} from "./devices/index.js";
// Full-virt monitors build per-domain PC device models and load multiboot images into guest RAM.
export { PicPair } from "./devices/pic-8259.js";
export { Pit8254 } from "./devices/pit-8254.js";
export { LoaderError, MachineError, PvkitError } from "./errors.js";
export { PortBus, type PortHandler, type PortSize } from "./io-ports.js";
export {
  type ElfImage,
  type ElfSymbol,
  EM_386,
  EM_MIPS,
  type LoadedElf,
  loadElf32,
  mipsKseg0ToPhys,
  PF_X,
  parseElf32,
  SHF_EXECINSTR,
} from "./loader/index.js";
export { type LoadedMultiboot, loadMultiboot } from "./loader/multiboot.js";
export {
  type AccessOracle,
  PAGE_SHIFT,
  PAGE_SIZE,
  PhysicalMemory,
  type WatchedWriteHandler,
} from "./memory.js";
export * as mips from "./mips/index.js";
export * as x86 from "./x86/index.js";
