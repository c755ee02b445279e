/**
 * x86 machine-code guests as domains on one hypervisor, the x86 counterpart of mips-domains.ts:
 * fully virtualized (the VMware-style monitor of src/full-virt/x86) or, for PV kernels, in the
 * monitor's x86 PV mode (Xen x86_32 PV, src/full-virt/x86/pv, docs/x86-pv-abi.md) — both kinds
 * side by side on the one simulated CPU.
 */
import { vmware } from "../../full-virt/index.js";
import { costTableHash } from "../../machine/index.js";
import type { Domain } from "../domain.js";
import type { Hypervisor } from "../hypervisor.js";
import { hypercallFromRegisters } from "../trap-hypercall.js";
import {
  finishMonitorRun,
  formatMonitorStats,
  type MonitorDomainResult,
  type MonitorRunOptions,
  type MonitorRunResult,
  monitorHost,
  monitorHypervisor,
} from "./monitor-run.js";

export interface X86GuestImage {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly file: string;
  readonly input?: string;
  readonly cmdline?: string;
  /** A PV kernel (docs/x86-pv-abi.md): runs in the monitor's x86 PV mode instead of fully virtualized. */
  readonly pv?: boolean;
}

export interface X86FullOptions extends MonitorRunOptions {
  /** scan_for_nonvirtualizable (default true). */
  readonly scan?: boolean;
}

export type X86FullDomainResult = MonitorDomainResult<vmware.X86FullStats>;

export type X86FullResult = MonitorRunResult<vmware.X86FullStats, vmware.X86FullVcpu>;

/** Frames each domain may take beyond its RAM for the monitor (hole, shadows, patched copies). */
const MONITOR_FRAMES = 4096;

/** Fully virtualized x86 guests only (the typed form of `runX86Domains`). */
export async function runFullVirtX86(
  guests: readonly X86GuestImage[],
  opts: X86FullOptions,
): Promise<X86FullResult> {
  if (guests.some((g) => g.pv))
    throw new Error("runFullVirtX86 runs fully virtualized guests: use runX86Domains");
  return (await runX86Domains(guests, opts)) as X86FullResult;
}

export type X86Vcpu = vmware.X86FullVcpu | vmware.pv.X86PvVcpu;
export type X86Stats = vmware.X86FullStats | vmware.pv.X86PvStats;
export type X86DomainsResult = MonitorRunResult<X86Stats, X86Vcpu>;

/** Guest memory of an x86 PV domain when `ramMib` is not given (populated up front, unlike full). */
export const X86_PV_DEFAULT_RAM_MIB = 32;
/** Frames an x86 PV domain may take beyond its memory (the monitor's hole tables). */
const PV_MONITOR_FRAMES = 16;

/**
 * Runs x86 guests until every one ends (or maxCycles): fully virtualized guests on the
 * VMware-style monitor, `pv` guests in its PV mode. A PV domain's exit value is its
 * SCHEDOP_shutdown reason mapped as for MIPS PV kernels: poweroff 0, anything else 1.
 */
export async function runX86Domains(
  guests: readonly X86GuestImage[],
  opts: X86FullOptions,
): Promise<X86DomainsResult> {
  const { hv, stopTraces } = monitorHypervisor(opts, 256);
  const machine = new vmware.X86FullMachine({ memory: hv.memory, clock: hv.clock, costs: hv.costs });
  const ramBytes = (opts.ramMib ?? 128) << 20;
  const prefix = opts.prefix ?? guests.length > 1;
  const domains: Domain[] = [];
  const vcpus: X86Vcpu[] = [];
  const exits = new Map<number, number>();
  const pvVcpus = new Map<number, vmware.pv.X86PvVcpu>();
  if (guests.some((g) => g.pv)) registerX86Pv(hv, pvVcpus);
  for (const g of guests) {
    if (g.pv) {
      const { domain, vcpu } = createX86PvDomain(hv, machine, g, opts.ramMib);
      pvVcpus.set(domain.domid, vcpu);
      domain.console.lines.subscribe((l) => opts.out(prefix ? `[${l.name}] ${l.text}` : l.text));
      hv.attachBackend(domain, vcpu);
      domains.push(domain);
      vcpus.push(vcpu);
      continue;
    }
    const domain = hv.createDomain({
      name: g.name,
      arch: "x86",
      pages: 1,
      maxPages: (ramBytes >>> 12) + MONITOR_FRAMES,
      paravirtualized: false,
    });
    domain.console.lines.subscribe((l) => opts.out(prefix ? `[${l.name}] ${l.text}` : l.text));
    const host: vmware.X86FullHost = {
      ...monitorHost(hv, domain, exits),
    };
    const vcpu = new vmware.X86FullVcpu(machine, host, {
      ramBytes,
      ...(g.input !== undefined ? { input: g.input } : {}),
      ...(opts.scan !== undefined ? { scan: opts.scan } : {}),
    });
    vcpu.load(g.bytes, g.file, g.cmdline ?? "");
    hv.attachBackend(domain, vcpu);
    domains.push(domain);
    vcpus.push(vcpu);
  }
  return finishMonitorRun(
    hv,
    domains,
    vcpus,
    guests.map((g) => g.pv === true),
    exits,
    opts.maxCycles,
    stopTraces,
  );
}

/**
 * Creates an x86 PV domain for `g` (memory populated up front: `ramMib`, default
 * X86_PV_DEFAULT_RAM_MIB), its PV vCPU on `machine` and the domain builder's initial state; the
 * caller registers the vCPU with registerX86PvHypercalls' lookup, attaches it and unpauses.
 */
export function createX86PvDomain(
  hv: Hypervisor,
  machine: vmware.X86FullMachine,
  g: X86GuestImage,
  ramMib?: number,
): { domain: Domain; vcpu: vmware.pv.X86PvVcpu } {
  const pages = ((ramMib ?? X86_PV_DEFAULT_RAM_MIB) << 20) >>> 12;
  const domain = hv.createDomain({
    name: g.name,
    arch: "x86",
    pages,
    maxPages: pages + PV_MONITOR_FRAMES,
    autoTranslated: false,
    ...(g.cmdline !== undefined ? { cmdline: g.cmdline } : {}),
  });
  const scratch = new Uint32Array(5);
  const V = domain.layouts.vcpuInfo.offsets;
  const maskAt =
    domain.sharedInfoMfn * 4096 + domain.layouts.sharedInfo.offsets.vcpu_info! + V.evtchn_upcall_mask!;
  const host: vmware.pv.X86PvHost = {
    domid: domain.domid,
    name: domain.name,
    p2m: domain.p2m,
    allocator: hv.machineMemory,
    stats: domain.stats,
    layouts: domain.layouts,
    sharedInfoMfn: domain.sharedInfoMfn,
    callbacks: domain.vcpu.callbacks,
    hypercall: (regs) => {
      hypercallFromRegisters(hv, domain, regs, scratch);
    },
    needDelivery: () => hv.events.eventsNeedDelivery(domain),
    upcallMask: () => hv.memory.read8(maskAt) !== 0,
    setUpcallMask: (masked) => hv.events.setUpcallMask(domain, masked),
    upcallDelivered: () => hv.events.upcallDelivered(domain),
    isBlocked: () => domain.vcpu.state === "blocked",
    isAlive: () => domain.alive,
    takeYield: () => {
      const y = domain.vcpu.yieldRequested;
      domain.vcpu.yieldRequested = false;
      return y;
    },
    crash: (diag) => hv.crash(domain.domid, diag),
  };
  const vcpu = new vmware.pv.X86PvVcpu(machine, host);
  vcpu.load(g.bytes, g.file);
  domain.addressTranslator = (addr, write) => vcpu.translate(addr, write);
  return { domain, vcpu };
}

/** Plugs the x86 PV hypercalls into `hv`'s dispatcher, routed through `vcpus` (domid → vCPU). */
export function registerX86Pv(hv: Hypervisor, vcpus: Map<number, vmware.pv.X86PvVcpu>): void {
  vmware.pv.registerX86PvHypercalls(
    hv.dispatcher,
    (id) => vcpus.get(id),
    (mfn, pfn) => hv.machineMemory.setPfn(mfn, pfn),
  );
}

/** The per-domain statistics block for `--stats`. */
export function formatX86FullStats(res: X86FullResult | X86DomainsResult): string {
  const pv = res.vcpus.some((v) => v instanceof vmware.pv.X86PvVcpu);
  const how = pv ? "VMware-style monitor, x86 PV mode for PV domains" : "full virtualization (VMware-style)";
  return formatMonitorStats(`x86, ${how}, cost table ${costTableHash()}`, res);
}
