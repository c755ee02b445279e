/**
 * The four profiles as tsyringe registrations (DESIGN.md "Dependency injection"): one child
 * container per run, in which a profile registers the providers of each role for one
 * architecture and cost table. A mode that does not exist yet is registered as `Unavailable`
 * with its reason, so workloads never test which profile they run under.
 */
import "reflect-metadata";
import { type DependencyContainer, container as rootContainer } from "tsyringe";
import type { CostName } from "../machine/index.js";
import { PvBlkDiskPath } from "./disk-path.js";
import { EmulatedDiskPath } from "./emulated-disk-path.js";
import { EmulatedNetPath } from "./emulated-net-path.js";
import { PvNetPath } from "./net-path.js";
import { EmulatedNfsPath, PvNfsPath } from "./nfs-path.js";
import { MipsFullRunner, MipsNativeRunner, X86FullRunner, X86NativeRunner, X86PvRunner } from "./runners.js";
import {
  ArchToken,
  CostsToken,
  DiskPathToken,
  GuestFilesToken,
  GuestRunnerToken,
  NetPathToken,
  NfsPathToken,
} from "./tokens.js";
import type { CompareArch, GuestFiles, ProfileName, Unavailable } from "./types.js";

type Costs = Readonly<Record<CostName, number>>;

const na = (unavailable: string): Unavailable => ({ unavailable });

/** Why each missing mode is missing (checked at the time of writing; see docs/compare.md). */
export const REASONS = {
  computeElfPv: "compute.elf is not a PV guest (PV compute is the `compute` workload in the PV kernel)",
  fullPvGuest: "no PV drivers for machine-code guests yet (PV-on-HVM needs a PV kernel driver)",
  netFullPv: "TS guests have no fully virtualized CPU: full+pv equals pv for modelled rows",
  diskFullPv: "TS guests have no fully virtualized CPU: full+pv equals pv for modelled rows",
  nfsFullPv: "TS guests have no fully virtualized CPU: full+pv equals pv for modelled rows",
} as const;

/** The unmodified samples, run natively and fully virtualized. */
const PLAIN_FILES: Readonly<Record<CompareArch, GuestFiles>> = {
  mips: { kernelSample: "mips/kernel/kernel-ksseg.elf", computeElf: "mips/compute.elf" },
  x86: { kernelSample: "x86/kernel/kernel.elf", computeElf: "x86/compute.elf" },
};

/**
 * PV builds: the MIPS PV kernel sample (same sources and `proc_config` as the kernel sample) and
 * the x86 PV kernel (the x86 kernel sample's processes over Xen's x86_32 PV interface).
 */
const PV_FILES: Readonly<Record<CompareArch, GuestFiles>> = {
  mips: { kernelSample: "mips/pv-kernel/pv-kernel.elf", computeElf: na(REASONS.computeElfPv) },
  x86: { kernelSample: "x86/pv-kernel/pv-kernel.elf", computeElf: na(REASONS.computeElfPv) },
};

type Registrar = (c: DependencyContainer, arch: CompareArch, costs: Costs) => void;

const PROFILE_REGISTRARS: Readonly<Record<ProfileName, Registrar>> = {
  native: (c, arch, costs) => {
    c.register(GuestRunnerToken, {
      useFactory: () => (arch === "mips" ? new MipsNativeRunner() : new X86NativeRunner()),
    });
    c.register(GuestFilesToken, { useValue: PLAIN_FILES[arch] });
    // The emulated IDE driver with direct port access: what the same TS guest pays on bare metal.
    c.register(DiskPathToken, { useFactory: () => new EmulatedDiskPath("direct", costs) });
    c.register(NetPathToken, { useFactory: () => new EmulatedNetPath("direct", costs) });
    c.register(NfsPathToken, { useFactory: () => new EmulatedNfsPath("direct", costs) });
  },
  full: (c, arch, costs) => {
    c.register(GuestRunnerToken, {
      useFactory: () => (arch === "mips" ? new MipsFullRunner(costs) : new X86FullRunner(costs)),
    });
    c.register(GuestFilesToken, { useValue: PLAIN_FILES[arch] });
    c.register(DiskPathToken, { useFactory: () => new EmulatedDiskPath("trapped", costs) });
    c.register(NetPathToken, { useFactory: () => new EmulatedNetPath("trapped", costs) });
    c.register(NfsPathToken, { useFactory: () => new EmulatedNfsPath("trapped", costs) });
  },
  pv: (c, arch, costs) => {
    // MIPS: the PV kernel as a PV domain in Disco's PV mode (privileged-register page, TLB and
    // ERET hypercalls). x86: the PV kernel in the VMware-style monitor's x86 PV mode (Xen x86_32).
    c.register(GuestRunnerToken, {
      useFactory: () => (arch === "mips" ? new MipsFullRunner(costs, true) : new X86PvRunner(costs)),
    });
    c.register(GuestFilesToken, { useValue: PV_FILES[arch] });
    c.register(DiskPathToken, { useFactory: () => new PvBlkDiskPath() });
    c.register(NetPathToken, { useFactory: () => new PvNetPath() });
    c.register(NfsPathToken, { useFactory: () => new PvNfsPath() });
  },
  "full+pv": (c) => {
    c.register(GuestRunnerToken, { useValue: na(REASONS.fullPvGuest) });
    c.register(GuestFilesToken, {
      useValue: { kernelSample: na(REASONS.fullPvGuest), computeElf: na(REASONS.fullPvGuest) },
    });
    c.register(DiskPathToken, { useValue: na(REASONS.diskFullPv) });
    c.register(NetPathToken, { useValue: na(REASONS.netFullPv) });
    c.register(NfsPathToken, { useValue: na(REASONS.nfsFullPv) });
  },
};

/**
 * A container for one run of `profile` on `arch` with `costs`: a child of `parent` (default the
 * root container; the hypervisors the runners create take their own children of it).
 */
export function profileContainer(
  profile: ProfileName,
  arch: CompareArch,
  costs: Costs,
  parent: DependencyContainer = rootContainer,
): DependencyContainer {
  const c = parent.createChildContainer();
  c.registerInstance(ArchToken, arch);
  c.registerInstance(CostsToken, costs);
  PROFILE_REGISTRARS[profile](c, arch, costs);
  return c;
}
