/** What both monitors' runners share: options, results, the hypervisor set-up and the `--stats` block. */
import type { disco } from "../../full-virt/index.js";
import { ShutdownReason } from "../../hypercalls/index.js";
import { type CostName, CostTable, PhysicalMemory } from "../../machine/index.js";
import type { Domain } from "../domain.js";
import { Hypervisor } from "../hypervisor.js";
import { startTraces } from "../trace.js";

/** Options both monitors' runners take (`runFullVirt`, `runFullVirtX86`). */
export interface MonitorRunOptions {
  /** Receives every console line, prefixed `[name] ` when several guests run (or `prefix`). */
  readonly out: (line: string) => void;
  readonly prefix?: boolean;
  /** Guest RAM per domain in MiB (default 128, the QEMU board's). */
  readonly ramMib?: number;
  /** Machine memory in MiB (guest frames are taken on demand). */
  readonly machineMib?: number;
  readonly maxCycles?: number;
  /** Install the hypervisor's isolation oracle (tests). */
  readonly oracle?: boolean;
  readonly costs?: Readonly<Record<CostName, number>>;
  /** Scheduler slice in cycles. */
  readonly sliceCycles?: number;
  /** Trace kinds (see `parseTraceKinds`: hypercalls, events, … or all) and where each line goes. */
  readonly trace?: { readonly kinds: string; readonly write: (line: string) => void };
}

/** One domain's outcome; `S` is the monitor's statistics type. */
export interface MonitorDomainResult<S> {
  readonly name: string;
  readonly state: string;
  /** The value the guest wrote to its exit port (null if it did not). */
  readonly exitValue: number | null;
  readonly diagnostic: string | null;
  readonly output: string;
  readonly stats: S;
  readonly guestCycles: number;
  readonly monitorCycles: number;
}

/** A whole run; `V` is the monitor's vCPU type. */
export interface MonitorRunResult<S, V> {
  readonly end: string;
  readonly domains: MonitorDomainResult<S>[];
  readonly cycles: number;
  readonly wallMs: number;
  readonly hypervisor: Hypervisor;
  readonly vcpus: V[];
}

/** The hypervisor a monitor run uses, with the requested traces started; call `stopTraces` at the end. */
export function monitorHypervisor(
  opts: MonitorRunOptions,
  defaultMachineMib: number,
): { hv: Hypervisor; stopTraces: () => void } {
  const hv = new Hypervisor({
    memory: new PhysicalMemory((opts.machineMib ?? defaultMachineMib) << 20),
    costs: opts.costs ?? CostTable,
    ...(opts.oracle ? { oracle: true } : {}),
    ...(opts.sliceCycles ? { sliceCycles: opts.sliceCycles } : {}),
  });
  const stopTraces = opts.trace ? startTraces(hv, opts.trace.kinds, opts.trace.write) : () => {};
  return { hv, stopTraces };
}

/** The `--stats` block both monitors print: one section per domain, then machine totals. */
export interface MonitorRunStats {
  readonly domains: readonly {
    readonly name: string;
    readonly state: string;
    readonly guestCycles: number;
    readonly monitorCycles: number;
    readonly stats: { format(title: string): string };
  }[];
  readonly cycles: number;
  readonly wallMs: number;
}

export function formatMonitorStats(title: string, res: MonitorRunStats): string {
  const parts = [`pvkit stats (${title})`];
  for (const d of res.domains) {
    parts.push(
      d.stats.format(
        `domain ${d.name} (${d.state}): guest ${d.guestCycles} cycles, monitor ${d.monitorCycles} cycles`,
      ),
    );
  }
  parts.push(`  machine: ${res.cycles} cycles, wall time ${(res.wallMs / 1000).toFixed(3)} s`);
  return `${parts.join("\n")}\n`;
}

/**
 * What a monitor's vCPU needs from the hypervisor for one domain (full-virt declares the
 * interface, this layer implements it); `exits` records the exit-port value a guest shuts down with.
 */
export function monitorHost(hv: Hypervisor, domain: Domain, exits: Map<number, number>): disco.DiscoHost {
  return {
    domid: domain.domid,
    name: domain.name,
    p2m: domain.p2m,
    allocator: hv.machineMemory,
    stats: domain.stats,
    console: (b) => domain.console.write(Uint8Array.of(b)),
    shutdown: (code) => {
      exits.set(domain.domid, code);
      hv.shutdown(domain.domid, ShutdownReason.poweroff);
    },
    crash: (diag) => hv.crash(domain.domid, diag),
    block: () => hv.scheduler.block(domain.vcpu),
    wake: () => hv.scheduler.wake(domain.vcpu),
  };
}

/**
 * The end both monitors' runners share: unpause every domain, run the scheduler to the end (or
 * `maxCycles`), and collect each domain's outcome. A PV domain exits by SCHEDOP_shutdown:
 * poweroff is exit value 0, any other reason 1; an exit-port write (`exits`) wins.
 */
export async function finishMonitorRun<S, V extends { readonly stats: S }>(
  hv: Hypervisor,
  domains: readonly Domain[],
  vcpus: V[],
  pv: readonly boolean[],
  exits: ReadonlyMap<number, number>,
  maxCycles: number | undefined,
  stopTraces: () => void,
): Promise<MonitorRunResult<S, V>> {
  const t0 = performance.now();
  for (const d of domains) hv.unpause(d.domid);
  const end = await hv.run(maxCycles);
  const wallMs = performance.now() - t0;
  const results = domains.map((d, i) => {
    d.console.flush();
    const shutdownExit =
      pv[i] && d.shutdownReason !== null ? (d.shutdownReason === ShutdownReason.poweroff ? 0 : 1) : null;
    return {
      name: d.name,
      state: d.state,
      exitValue: exits.get(d.domid) ?? shutdownExit,
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
