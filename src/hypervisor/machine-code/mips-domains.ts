/**
 * MIPS machine-code guests as domains: `runFullVirt` is the adapter between the hypervisor
 * (domains, machine memory, P2M, scheduler, statistics, console, hypercall dispatcher) and the
 * full-virt layer's Disco vCPUs (full virtualization, or Disco's PV mode for PV kernels);
 * `runNative` runs the same images each on its own mipssim board. The CLI (`pvkit run --mode`),
 * the comparison harness, tests and benchmarks all run machine-code guests through here.
 */
import { basename } from "node:path";
import { disco } from "../../full-virt/index.js";
import { costTableHash, createBoard, StopReason } from "../../machine/index.js";
import type { Domain } from "../domain.js";
import { installPvCore } from "../pv-core/index.js";
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

export interface MipsGuestImage {
  /** Domain name (console prefix). */
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly file: string;
  /** Bytes for the guest's UART. */
  readonly input?: string;
  /** Not an ELF: `bytes` is a raw image for guest-physical `physical`, entered at `entry` (tests). */
  readonly raw?: { readonly physical: number; readonly entry: number; readonly relinked?: boolean };
  /** Run as a PV domain (Disco's PV mode, docs/mips-pv-abi.md) instead of fully virtualized. */
  readonly pv?: boolean;
}

export interface FullVirtOptions extends MonitorRunOptions {
  /** Compile guest blocks on the CPU (default true). */
  readonly compileBlocks?: boolean;
}

export type FullVirtDomainResult = MonitorDomainResult<disco.DiscoStats>;

export type FullVirtResult = MonitorRunResult<disco.DiscoStats, disco.DiscoVcpu>;

/** Runs MIPS guests fully virtualized as Disco domains until every one ends (or maxCycles). */
export async function runFullVirt(
  guests: readonly MipsGuestImage[],
  opts: FullVirtOptions,
): Promise<FullVirtResult> {
  const { hv, stopTraces } = monitorHypervisor(opts, 128);
  // PV domains get the whole PV core (grant tables, bind_ipi/reset, the store on their rings).
  if (guests.some((g) => g.pv)) installPvCore(hv);
  const machine = new disco.DiscoMachine({
    memory: hv.memory,
    clock: hv.clock,
    costs: hv.costs,
    ...(opts.compileBlocks !== undefined ? { compileBlocks: opts.compileBlocks } : {}),
  });
  const ramPages = ((opts.ramMib ?? 128) << 20) >>> 12;
  const prefix = opts.prefix ?? guests.length > 1;
  const domains: Domain[] = [];
  const vcpus: disco.DiscoVcpu[] = [];
  const exits = new Map<number, number>();
  const scratch = new Uint32Array(5);
  const pvModes = new Map<number, disco.MipsPvMode>();
  if (guests.some((g) => g.pv)) disco.registerMipsPvHypercalls(hv.dispatcher, (id) => pvModes.get(id));
  for (const g of guests) {
    const domain = hv.createDomain({ name: g.name, arch: "mips", pages: 4, maxPages: ramPages });
    // A fully virtualized guest has no shared_info: all of its RAM is its own, so the
    // hypervisor must not refresh vcpu_info time in pseudo-physical page 1.
    if (!g.pv) domain.sharedInfoMfn = -1;
    domain.console.lines.subscribe((l) => opts.out(prefix ? `[${l.name}] ${l.text}` : l.text));
    const host: disco.DiscoHost = {
      ...monitorHost(hv, domain, exits),
      hypercall: (gpr) => {
        hypercallFromRegisters(hv, domain, gpr, scratch);
        // SCHEDOP_shutdown (a PV kernel's exit) or a crash: stop the vCPU now, not at slice end.
        if (g.pv && !domain.alive) self?.dispose();
      },
      ...(g.pv
        ? {
            upcalls: {
              needDelivery: () => hv.events.eventsNeedDelivery(domain),
              entry: () => domain.vcpu.callbacks.eventAddress,
              delivered: () => hv.events.upcallDelivered(domain),
            },
            isBlocked: () => domain.vcpu.state === "blocked",
          }
        : {}),
    };
    let self: disco.DiscoVcpu | null = null;
    const vcpu = new disco.DiscoVcpu(machine, host, {
      ...(g.input !== undefined ? { input: g.input } : {}),
      ...(g.pv ? { keepBootPages: 4 } : {}),
    });
    self = vcpu;
    let entry: number;
    if (g.raw) {
      if (!vcpu.writePhysical(g.raw.physical, g.bytes)) throw new Error(`${g.file}: image does not fit`);
      vcpu.reset(g.raw.entry, g.raw.relinked ?? false);
      entry = g.raw.entry;
    } else entry = vcpu.load(g.bytes, g.file).entry;
    if (g.pv) {
      const pv = new disco.MipsPvMode(vcpu);
      vcpu.pv = pv;
      pv.boot(entry);
      pvModes.set(domain.domid, pv);
    }
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

/** Domain names from file names, made unique (`hello.elf`, `hello.elf#2`, …). */
export function guestNames(files: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return files.map((f) => {
    const b = basename(f);
    const n = (seen.get(b) ?? 0) + 1;
    seen.set(b, n);
    return files.filter((x) => basename(x) === b).length > 1 ? `${b}#${n}` : b;
  });
}

export interface NativeResult {
  readonly name: string;
  readonly output: string;
  readonly exitValue: number | null;
  readonly stop: StopReason;
  readonly cycles: number;
  readonly instructions: number;
  readonly diagnostic: string;
}

/** Runs each guest natively on its own mipssim board, one after another. */
export function runNative(
  guests: readonly MipsGuestImage[],
  opts: { out: (line: string) => void; prefix?: boolean; maxInstructions?: number; ramMib?: number },
): NativeResult[] {
  const prefix = opts.prefix ?? guests.length > 1;
  return guests.map((g) => {
    let output = "";
    let partial = "";
    const board = createBoard("mips", {
      ...(opts.ramMib ? { ramBytes: opts.ramMib << 20 } : {}),
      ...(g.input !== undefined ? { input: g.input } : {}),
      console: (b) => {
        const ch = String.fromCharCode(b);
        output += ch;
        if (ch === "\n") {
          opts.out(prefix ? `[${g.name}] ${partial}` : partial);
          partial = "";
        } else partial += ch;
      },
    });
    board.loadGuest(g.bytes, g.file);
    const stop = board.run(opts.maxInstructions ?? 4_000_000_000);
    if (partial) opts.out(prefix ? `[${g.name}] ${partial}` : partial);
    const s = board.stats();
    return {
      name: g.name,
      output,
      exitValue: stop === StopReason.Exit ? board.stop.exitCode : null,
      stop,
      cycles: typeof s.cycles === "number" ? s.cycles : 0,
      instructions: typeof s.instructions === "number" ? s.instructions : 0,
      diagnostic: stop === StopReason.Exit ? "" : board.diagnostic(),
    };
  });
}

/** The per-domain Disco breakdown (Table 2 style) plus machine totals. */
export function formatFullStats(res: FullVirtResult): string {
  const how = res.vcpus.some((v) => v.pv) ? "Disco, PV mode for PV domains" : "full virtualization (Disco)";
  return formatMonitorStats(`mips, ${how}, cost table ${costTableHash()}`, res);
}
