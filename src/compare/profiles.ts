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
import { MipsFullRunner, MipsNativeRunner, X86FullRunner, X86NativeRunner } from "./runners.js";
import { ArchToken, CostsToken, DiskPathToken, GuestRunnerToken } from "./tokens.js";
import type { CompareArch, ProfileName, Unavailable } from "./types.js";

type Costs = Readonly<Record<CostName, number>>;

const na = (unavailable: string): Unavailable => ({ unavailable });

/** Why each missing mode is missing (checked at the time of writing; see docs/compare.md). */
export const REASONS = {
  mipsPv:
    "no MIPS PV kernel yet (samples/guests/mips/pv-kernel and the monitor's PV mode are not in the tree)",
  x86Pv: "no x86 PV guest kernel yet",
  fullPvGuest: "no PV drivers for machine-code guests yet (PV-on-HVM needs a PV kernel driver)",
  diskNative: "TS guests run only as domains: there is no native block path to compare",
  diskFull: "no emulated-disk (IDE) driver for TS guests yet: only the PV path exists",
  diskFullPv: "TS guests have no fully virtualized CPU: full+pv equals pv for modelled rows",
} as const;

type Registrar = (c: DependencyContainer, arch: CompareArch, costs: Costs) => void;

const PROFILE_REGISTRARS: Readonly<Record<ProfileName, Registrar>> = {
  native: (c, arch) => {
    c.register(GuestRunnerToken, {
      useFactory: () => (arch === "mips" ? new MipsNativeRunner() : new X86NativeRunner()),
    });
    c.register(DiskPathToken, { useValue: na(REASONS.diskNative) });
  },
  full: (c, arch, costs) => {
    c.register(GuestRunnerToken, {
      useFactory: () => (arch === "mips" ? new MipsFullRunner(costs) : new X86FullRunner(costs)),
    });
    c.register(DiskPathToken, { useValue: na(REASONS.diskFull) });
  },
  pv: (c, arch) => {
    c.register(GuestRunnerToken, { useValue: na(arch === "mips" ? REASONS.mipsPv : REASONS.x86Pv) });
    c.register(DiskPathToken, { useFactory: () => new PvBlkDiskPath() });
  },
  "full+pv": (c) => {
    c.register(GuestRunnerToken, { useValue: na(REASONS.fullPvGuest) });
    c.register(DiskPathToken, { useValue: na(REASONS.diskFullPv) });
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
