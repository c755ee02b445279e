/**
 * DI tokens of the comparison harness (DESIGN.md "Dependency injection"): explicit symbols, never
 * emitted decorator metadata. A workload resolves roles; a profile registers the providers.
 */

/** The cost table of this run (CostTable or `scaledCostTable(s)`). */
export const CostsToken = Symbol.for("pvkit.compare.Costs");
/** The architecture of this run's machine-code guests. */
export const ArchToken = Symbol.for("pvkit.compare.Arch");
/** Role: runs a machine-code guest image under this profile (a `GuestRunner` or `Unavailable`). */
export const GuestRunnerToken = Symbol.for("pvkit.compare.GuestRunner");
/** Role: runs a block workload against a disk image under this profile (`DiskPath` or `Unavailable`). */
export const DiskPathToken = Symbol.for("pvkit.compare.DiskPath");
/** Which sample guest files this profile runs (`GuestFiles`): a PV profile needs PV builds. */
export const GuestFilesToken = Symbol.for("pvkit.compare.GuestFiles");
/** Role: runs a network job between two guests under this profile (`NetPath` or `Unavailable`). */
export const NetPathToken = Symbol.for("pvkit.compare.NetPath");
/** Role: runs an NFS job (N guests on one export) under this profile (`NfsPath` or `Unavailable`). */
export const NfsPathToken = Symbol.for("pvkit.compare.NfsPath");
