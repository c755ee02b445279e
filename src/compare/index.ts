/** pvkit/compare — the comparison harness (DESIGN.md "Comparison", "Dependency injection"). */
export type { DiskJob, DiskPath, JobDisk } from "./disk-path.js";
export { PvBlkDiskPath, runDiskJob } from "./disk-path.js";
export { EmulatedDiskPath } from "./emulated-disk-path.js";
export { EmulatedNetPath } from "./emulated-net-path.js";
export {
  type CompareOptions,
  type CompareReport,
  type CompareRun,
  keyFigure,
  REPORT_SCHEMA,
  runCompare,
  selectWorkloads,
} from "./harness.js";
export {
  KBENCH_PARTS,
  Kbench,
  type KbenchPart,
  type KernelImage,
  kernelImage,
  type Measured,
  measureFull,
  measureNative,
  Program,
  timed,
} from "./mips-kernel.js";
export { type NetJob, type NetPath, netJobWorkloads, PvNetPath } from "./net-path.js";
export { EmulatedNfsPath, type NfsJob, type NfsPath, type NfsRunFigures, PvNfsPath } from "./nfs-path.js";
export { profileContainer, REASONS } from "./profiles.js";
export { REFERENCE_FIGURES, type ReferenceFigure } from "./reference.js";
export { chartSvg, formatHtml } from "./report-html.js";
export { formatTable } from "./report-table.js";
export {
  type GuestImage,
  type GuestRunner,
  type GuestRunResult,
  MipsFullRunner,
  MipsNativeRunner,
  X86FullRunner,
  X86NativeRunner,
  X86PvRunner,
} from "./runners.js";
export {
  ArchToken,
  CostsToken,
  DiskPathToken,
  GuestFilesToken,
  GuestRunnerToken,
  NetPathToken,
  NfsPathToken,
} from "./tokens.js";
export {
  ARCHES,
  type Cell,
  type CellFigures,
  type CompareArch,
  type GuestFiles,
  isUnavailable,
  PROFILES,
  type ProfileName,
  type Unavailable,
  type WorkloadArch,
} from "./types.js";
export { type Role, WORKLOAD_NAMES, WORKLOADS, type Workload } from "./workloads.js";
