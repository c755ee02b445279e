/**
 * x86 machine-code guests as fully virtualized domains (the VMware-style monitor of
 * src/full-virt/x86) on one hypervisor; the x86 counterpart of mips-domains.ts.
 */
import { vmware } from "../../full-virt/index.js";
import { costTableHash } from "../../machine/index.js";
import type { Domain } from "../domain.js";
import {
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
}

export interface X86FullOptions extends MonitorRunOptions {
  /** scan_for_nonvirtualizable (default true). */
  readonly scan?: boolean;
}

export type X86FullDomainResult = MonitorDomainResult<vmware.X86FullStats>;

export type X86FullResult = MonitorRunResult<vmware.X86FullStats, vmware.X86FullVcpu>;

/** Frames each domain may take beyond its RAM for the monitor (hole, shadows, patched copies). */
const MONITOR_FRAMES = 4096;

export async function runFullVirtX86(
  guests: readonly X86GuestImage[],
  opts: X86FullOptions,
): Promise<X86FullResult> {
  const { hv, stopTraces } = monitorHypervisor(opts, 256);
  const machine = new vmware.X86FullMachine({ memory: hv.memory, clock: hv.clock, costs: hv.costs });
  const ramBytes = (opts.ramMib ?? 128) << 20;
  const prefix = opts.prefix ?? guests.length > 1;
  const domains: Domain[] = [];
  const vcpus: vmware.X86FullVcpu[] = [];
  const exits = new Map<number, number>();
  for (const g of guests) {
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
  const t0 = performance.now();
  for (const d of domains) hv.unpause(d.domid);
  const end = await hv.run(opts.maxCycles);
  const wallMs = performance.now() - t0;
  const results = domains.map((d, i) => {
    d.console.flush();
    return {
      name: d.name,
      state: d.state,
      exitValue: exits.get(d.domid) ?? null,
      diagnostic: d.crashDiagnostic,
      output: d.console.output,
      stats: vcpus[i]!.stats,
      guestCycles: d.stats.guestCycles,
      monitorCycles: d.stats.monitorCycles,
    };
  });
  stopTraces();
  return { end, domains: results, cycles: hv.clock.cycles, wallMs, hypervisor: hv, vcpus };
}

/** The per-domain statistics block for `--stats`. */
export function formatX86FullStats(res: X86FullResult): string {
  return formatMonitorStats(`x86, full virtualization (VMware-style), cost table ${costTableHash()}`, res);
}
