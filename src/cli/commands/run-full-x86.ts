/**
 * `pvkit run --arch x86 --mode full guest.elf [more…]`: x86 guests as fully virtualized domains
 * (VMware-style monitor, src/full-virt/x86) on one simulated i386 CPU, console lines prefixed
 * `[name] ` when several guests run, and with `--stats` the monitor's statistics per domain.
 *
 * `runFullVirtX86` is the adapter between the hypervisor (domains, machine memory, P2M,
 * scheduler, console) and the full-virt layer's x86 vCPUs; tests and benchmarks use it too.
 */
import { readFileSync } from "node:fs";
import { vmware } from "../../full-virt/index.js";
import { ShutdownReason } from "../../hypercalls/index.js";
import { type Domain, Hypervisor } from "../../hypervisor/index.js";
import {
  type CostName,
  CostTable,
  costTableHash,
  createBoard,
  PhysicalMemory,
  StopReason,
} from "../../machine/index.js";
import { guestNames } from "./run-full.js";

export interface X86GuestImage {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly file: string;
  readonly input?: string;
  readonly cmdline?: string;
}

export interface X86FullOptions {
  readonly out: (line: string) => void;
  readonly prefix?: boolean;
  /** Guest RAM per domain in MiB (default 128, QEMU pc's). */
  readonly ramMib?: number;
  /** Machine memory in MiB (default 256; guest frames are taken on demand). */
  readonly machineMib?: number;
  readonly maxCycles?: number;
  readonly oracle?: boolean;
  readonly costs?: Readonly<Record<CostName, number>>;
  /** scan_for_nonvirtualizable (default true). */
  readonly scan?: boolean;
  readonly sliceCycles?: number;
}

export interface X86FullDomainResult {
  readonly name: string;
  readonly state: string;
  readonly exitValue: number | null;
  readonly diagnostic: string | null;
  readonly output: string;
  readonly stats: vmware.X86FullStats;
  readonly guestCycles: number;
  readonly monitorCycles: number;
}

export interface X86FullResult {
  readonly end: string;
  readonly domains: X86FullDomainResult[];
  readonly cycles: number;
  readonly wallMs: number;
  readonly hypervisor: Hypervisor;
  readonly vcpus: vmware.X86FullVcpu[];
}

/** Frames each domain may take beyond its RAM for the monitor (hole, shadows, patched copies). */
const MONITOR_FRAMES = 4096;

export async function runFullVirtX86(
  guests: readonly X86GuestImage[],
  opts: X86FullOptions,
): Promise<X86FullResult> {
  const hv = new Hypervisor({
    memory: new PhysicalMemory((opts.machineMib ?? 256) << 20),
    costs: opts.costs ?? CostTable,
    ...(opts.oracle ? { oracle: true } : {}),
    ...(opts.sliceCycles ? { sliceCycles: opts.sliceCycles } : {}),
  });
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
  return { end, domains: results, cycles: hv.clock.cycles, wallMs, hypervisor: hv, vcpus };
}

/** The per-domain statistics block for `--stats`. */
export function formatX86FullStats(res: X86FullResult): string {
  const parts = [`pvkit stats (x86, full virtualization (VMware-style), cost table ${costTableHash()})`];
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
 * The `--mode` path of `pvkit run` for x86 guests: `native` runs each on its own PC board,
 * `full` runs them as fully virtualized domains. Exit status as for MIPS: the first nonzero
 * exit-port value (0 if all wrote 0), 125 if a domain crashed or a board stopped a guest, 124 if
 * the run hit --max-cycles with domains alive.
 */
export async function runX86Mode(
  files: readonly string[],
  opts: {
    mode?: string;
    stats?: boolean;
    ramMib?: string | number;
    maxCycles?: string | number;
    input?: string;
  },
  io: { stdout: (text: string) => void; stderr: (text: string) => void },
): Promise<number> {
  const mode = opts.mode ?? "native";
  if (mode !== "native" && mode !== "full") throw new Error(`--mode must be native or full, got "${mode}"`);
  const names = guestNames(files);
  const guests = files.map((f, i) => ({
    name: names[i]!,
    file: f,
    bytes: new Uint8Array(readFileSync(f)),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  }));
  const ramMib = opts.ramMib === undefined ? undefined : Number(opts.ramMib);
  const out = (line: string) => io.stdout(`${line}\n`);
  const prefix = guests.length > 1;
  if (mode === "native") {
    const t0 = performance.now();
    let status = 0;
    const lines = [`pvkit stats (x86, native, cost table ${costTableHash()})`];
    for (const g of guests) {
      let partial = "";
      const board = createBoard("x86", {
        ...(ramMib ? { ramBytes: ramMib << 20 } : {}),
        ...(g.input !== undefined ? { input: g.input } : {}),
        console: (b) => {
          const ch = String.fromCharCode(b);
          if (ch === "\n") {
            out(prefix ? `[${g.name}] ${partial}` : partial);
            partial = "";
          } else partial += ch;
        },
      });
      board.loadGuest(g.bytes, g.file);
      const stop = board.run(4_000_000_000);
      if (partial) out(prefix ? `[${g.name}] ${partial}` : partial);
      const s = board.stats();
      lines.push(`  ${g.name}: ${s.instructions} instructions, ${s.cycles} cycles`);
      if (stop !== StopReason.Exit) {
        io.stderr(`pvkit: ${g.name}: ${board.diagnostic()}\n`);
        status = status || 125;
      } else if (status === 0) status = board.stop.exitCode & 0xff;
    }
    lines.push(`  wall time ${((performance.now() - t0) / 1000).toFixed(3)} s`);
    if (opts.stats) io.stderr(`${lines.join("\n")}\n`);
    return status;
  }
  const maxCycles = opts.maxCycles === undefined ? undefined : Number(opts.maxCycles);
  const res = await runFullVirtX86(guests, {
    out,
    ...(ramMib ? { ramMib } : {}),
    ...(maxCycles ? { maxCycles } : {}),
  });
  for (const d of res.domains) if (d.diagnostic) io.stderr(`pvkit: domain crashed: ${d.diagnostic}\n`);
  if (opts.stats) io.stderr(formatX86FullStats(res));
  if (res.domains.some((d) => d.state === "crashed")) return 125;
  if (res.domains.some((d) => d.exitValue === null)) return 124;
  return (res.domains.find((d) => d.exitValue !== 0)?.exitValue ?? 0) & 0xff;
}
