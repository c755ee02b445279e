/**
 * Runs several guests as domains on one hypervisor and merges their consoles: with more than one
 * domain every console line is prefixed with the domain's name (`[name] text`), one guest's
 * console passes through unchanged. Today the guests are TypeScript guests; machine-code guests
 * plug in through a `VcpuBackend` factory (the Disco and x86 full-virt back ends) with the same
 * runner: see `RunnerGuest.backend`.
 */
import { GuestFault, type TsGuest } from "../hypercalls/index.js";
import type { Arch } from "../machine/index.js";
import type { Domain } from "./domain.js";
import type { Hypervisor } from "./hypervisor.js";
import type { RunEnd } from "./scheduler.js";
import { TsGuestBackend } from "./ts-guest/ts-guest-backend.js";
import type { VcpuBackend } from "./vcpu-backend.js";

export interface RunnerGuest {
  readonly name: string;
  readonly arch?: Arch;
  readonly pages?: number;
  readonly cmdline?: string;
  /** A TypeScript guest… */
  readonly guest?: TsGuest;
  /** …or a back end built for the created domain (machine-code guests: Disco, x86 full-virt). */
  readonly backend?: (hv: Hypervisor, domain: Domain) => VcpuBackend;
}

export interface RunnerOptions {
  /** Receives each console line, already prefixed when several domains run. */
  readonly out: (line: string) => void;
  readonly maxCycles?: number;
  /** Force prefixing on or off (default: on when more than one guest). */
  readonly prefix?: boolean;
}

export interface RunnerDomainResult {
  readonly domid: number;
  readonly name: string;
  readonly state: string;
  readonly shutdownReason: number | null;
  readonly diagnostic: string | null;
}

export interface RunnerResult {
  readonly end: RunEnd;
  readonly domains: readonly RunnerDomainResult[];
  /** 0 if every domain powered off; 1 if one crashed; 2 if the run stopped with domains still alive. */
  readonly exitCode: number;
}

/** Creates one domain per guest (domain 0 first, privileged), runs them all, reports how each ended. */
export async function runDomains(
  hv: Hypervisor,
  guests: readonly RunnerGuest[],
  opts: RunnerOptions,
): Promise<RunnerResult> {
  const prefix = opts.prefix ?? guests.length > 1;
  const domains: Domain[] = [];
  for (const g of guests) {
    const domain = hv.createDomain({
      name: g.name,
      arch: g.arch ?? "x86",
      pages: g.pages ?? 64,
      ...(g.cmdline !== undefined ? { cmdline: g.cmdline } : {}),
    });
    domain.console.lines.subscribe((l) => opts.out(prefix ? `[${l.name}] ${l.text}` : l.text));
    let backend: VcpuBackend;
    if (g.backend) backend = g.backend(hv, domain);
    else if (g.guest) backend = new TsGuestBackend(hv, domain, g.guest);
    else throw new Error(`guest ${g.name}: give a TS guest or a back end factory`);
    hv.attachBackend(domain, backend);
    domains.push(domain);
  }
  for (const d of domains) hv.unpause(d.domid);
  // A TS guest's detached async chain that dies with its crashed domain rejects with a
  // GuestFault nobody awaits; that must not take the monitor (the Node process) down with it.
  const swallowGuestFaults = (reason: unknown) => {
    if (reason instanceof GuestFault) return;
    throw reason;
  };
  process.on("unhandledRejection", swallowGuestFaults);
  let end: RunEnd;
  try {
    end = await hv.run(opts.maxCycles);
  } finally {
    process.off("unhandledRejection", swallowGuestFaults);
  }
  const results = domains.map((d) => {
    d.console.flush();
    return {
      domid: d.domid,
      name: d.name,
      state: d.state,
      shutdownReason: d.shutdownReason,
      diagnostic: d.crashDiagnostic,
    };
  });
  const exitCode = results.some((r) => r.state === "crashed")
    ? 1
    : results.every((r) => r.state === "shutdown" && r.shutdownReason === 0)
      ? 0
      : 2;
  return { end, domains: results, exitCode };
}
