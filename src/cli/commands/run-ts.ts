/**
 * `pvkit run-ts [--arch x86|mips] [--pages N] [--max-cycles N] [--stats] [--trace KINDS] [--store-dump FILE]
 * guest.js [guest2.js …]`:
 * runs TypeScript guests (modules whose default export is a TsGuest object or a class with a
 * `main(ctx)` method) as domains on one hypervisor. With several guests each console line is
 * prefixed with its domain's name. The first guest is domain 0 (privileged).
 * `.ts` modules need a TypeScript loader: `node --import tsx dist/cli.js run-ts guest.ts`.
 *
 * Exit status: 0 when every domain powered off, 1 when one crashed, 2 when the run ended with
 * domains still alive (all blocked, or --max-cycles).
 */
import { basename, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import type { TsGuest } from "../../hypercalls/index.js";
import {
  Hypervisor,
  installPvCore,
  type RunnerGuest,
  runDomains,
  startTraces,
  writeStoreDump,
} from "../../hypervisor/index.js";
import type { Arch } from "../../machine/index.js";

export interface RunTsOptions {
  arch?: string;
  pages?: string | number;
  maxCycles?: string | number;
  stats?: boolean;
  /** Comma-separated trace kinds (hypercalls, events, rings, grants, store, or all), printed on stderr. */
  trace?: string;
  /** Writes the final XenStore tree as JSON to this file (read it with `pvkit store-ls`). */
  storeDump?: string;
}

function isGuest(x: unknown): x is TsGuest {
  return typeof x === "object" && x !== null && typeof (x as { main?: unknown }).main === "function";
}

/** Loads a guest module: default export (or `guest`) as an object with main, or a class to instantiate. */
export async function loadTsGuest(file: string): Promise<TsGuest> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  const exp = mod.default ?? mod.guest;
  if (isGuest(exp)) return exp;
  if (typeof exp === "function") {
    const inst: unknown = new (exp as new () => unknown)();
    if (isGuest(inst)) return inst;
  }
  throw new Error(`${file}: export default a TS guest (an object or class with async main(ctx))`);
}

/** Runs the guest files; returns the exit status. */
export async function runTsGuests(
  files: readonly string[],
  opts: RunTsOptions,
  io: { stdout: (text: string) => void; stderr: (text: string) => void },
): Promise<number> {
  const arch = (opts.arch ?? "x86") as Arch;
  if (arch !== "x86" && arch !== "mips") throw new Error(`--arch must be x86 or mips, got "${opts.arch}"`);
  const pages = opts.pages === undefined ? 64 : Number(opts.pages);
  const maxCycles = opts.maxCycles === undefined ? Number.POSITIVE_INFINITY : Number(opts.maxCycles);
  if (!Number.isInteger(pages) || pages < 4)
    throw new Error(`--pages must be an integer ≥ 4, got "${opts.pages}"`);
  if (!(maxCycles > 0)) throw new Error(`--max-cycles must be positive, got "${opts.maxCycles}"`);
  const guests: RunnerGuest[] = [];
  for (const f of files) {
    const guest = await loadTsGuest(f);
    let name = guest.name ?? basename(f, extname(f));
    // Console prefixes must tell domains apart: the second "hello" becomes "hello.1".
    if (guests.some((g) => g.name === name)) name = `${name}.${guests.length}`;
    guests.push({ name, arch, pages, guest });
  }
  const hv = new Hypervisor();
  const pv = installPvCore(hv);
  const stopTraces = startTraces(hv, opts.trace ?? "", (line) => io.stderr(`${line}\n`));
  const result = await runDomains(hv, guests, { out: (l) => io.stdout(`${l}\n`), maxCycles });
  stopTraces();
  if (opts.storeDump) writeStoreDump(pv.store, opts.storeDump);
  for (const d of result.domains) {
    if (d.state === "crashed")
      io.stderr(`pvkit: domain ${d.domid} (${d.name}) crashed: ${d.diagnostic ?? "no diagnostic"}\n`);
  }
  if (result.end !== "all-halted") io.stderr(`pvkit: run ended (${result.end}) with domains still alive\n`);
  if (opts.stats) {
    for (const d of result.domains) io.stderr(`${JSON.stringify(hv.statsOf(d.domid))}\n`);
  }
  return result.exitCode;
}

export function registerRunTs(program: Command): void {
  program
    .command("run-ts")
    .description("run TypeScript guests as domains on one hypervisor (console lines prefixed per domain)")
    .argument("<guests...>", "guest modules (default export: a TS guest)")
    .option("--arch <arch>", "ABI layouts the guests see: x86 or mips", "x86")
    .option("--pages <n>", "pseudo-physical pages per domain", "64")
    .option("--max-cycles <n>", "stop after this many simulated cycles")
    .option("--stats", "print per-domain statistics as JSON lines on stderr")
    .option("--trace <kinds>", "trace on stderr: hypercalls,events,rings,grants,store or all")
    .option("--store-dump <file>", "write the final XenStore tree as JSON (see pvkit store-ls)")
    .action(async (files: string[], opts: RunTsOptions) => {
      process.exitCode = await runTsGuests(files, opts, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
      });
    });
}
