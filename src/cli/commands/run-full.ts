/**
 * `pvkit run --arch mips --mode native|full guest.elf [more…]`: the MIPS guests as Disco domains
 * on one simulated CPU (full), or each on its own mipssim board (native), with console lines
 * prefixed `[name] ` when more than one guest runs, and with `--stats` a Disco Table 2-style
 * breakdown per domain on stderr.
 *
 * `runFullVirt` is the adapter between the hypervisor (domains, machine memory, P2M, scheduler,
 * statistics, console) and the full-virt layer's Disco vCPUs; tests and benchmarks use it too.
 */
import { readFileSync } from "node:fs";
import { formatFullStats, guestNames, runFullVirt, runNative } from "../../hypervisor/index.js";
import { archOfElf, costTableHash } from "../../machine/index.js";
import { runX86Mode } from "./run-full-x86.js";

export interface RunModeIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/**
 * Simulated cycles a monitor run may take by default (10^13 = 10,000 s at 1 GHz): ends a run whose
 * PV domains all block with only their never-deliverable virtual CP0 timers left on the clock
 * (the clock skips to each wrap, so reaching the limit takes milliseconds of wall time).
 */
export const MONITOR_CYCLE_LIMIT = 1e13;

/**
 * The `--mode` path of `pvkit run` for MIPS guests. Exit status: the first nonzero exit-port
 * value (0 if all wrote 0), 125 if a domain crashed or a board stopped a guest, 124 if the run
 * hit --max-cycles with domains still alive.
 */
export async function runMipsMode(
  files: readonly string[],
  opts: {
    mode?: string;
    stats?: boolean;
    ramMib?: string | number;
    maxCycles?: string | number;
    input?: string;
    trace?: string;
  },
  io: RunModeIo,
): Promise<number> {
  const mode = opts.mode ?? "native";
  if (mode !== "native" && mode !== "full" && mode !== "pv")
    throw new Error(`--mode must be native or full (or pv: Disco PV mode), got "${mode}"`);
  const names = guestNames(files);
  const guests = files.map((f, i) => ({
    name: names[i]!,
    file: f,
    bytes: new Uint8Array(readFileSync(f)),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(mode === "pv" ? { pv: true } : {}),
  }));
  const ramMib = opts.ramMib === undefined ? undefined : Number(opts.ramMib);
  const out = (line: string) => io.stdout(`${line}\n`);
  if (mode === "native") {
    const t0 = performance.now();
    const res = runNative(guests, { out, ...(ramMib ? { ramMib } : {}) });
    const wall = performance.now() - t0;
    if (opts.stats) {
      const lines = [`pvkit stats (mips, native, cost table ${costTableHash()})`];
      for (const r of res) lines.push(`  ${r.name}: ${r.instructions} instructions, ${r.cycles} cycles`);
      lines.push(`  wall time ${(wall / 1000).toFixed(3)} s`);
      io.stderr(`${lines.join("\n")}\n`);
    }
    for (const r of res) if (r.diagnostic) io.stderr(`pvkit: ${r.name}: ${r.diagnostic}\n`);
    if (res.some((r) => r.exitValue === null)) return 125;
    return (res.find((r) => r.exitValue !== 0)?.exitValue ?? 0) & 0xff;
  }
  const maxCycles = opts.maxCycles === undefined ? MONITOR_CYCLE_LIMIT : Number(opts.maxCycles);
  const res = await runFullVirt(guests, {
    out,
    ...(ramMib ? { ramMib } : {}),
    maxCycles,
    ...(opts.trace ? { trace: { kinds: opts.trace, write: (l: string) => io.stderr(`${l}\n`) } } : {}),
  });
  for (const d of res.domains) if (d.diagnostic) io.stderr(`pvkit: domain crashed: ${d.diagnostic}\n`);
  const alive = res.domains.filter((d) => d.state !== "crashed" && d.exitValue === null).map((d) => d.name);
  if (alive.length > 0)
    io.stderr(
      `pvkit: the run ended (${res.end} at ${res.cycles} cycles) with ${alive.join(", ")} still alive — blocked with nothing left to wake them, or out of cycles\n`,
    );
  if (opts.stats) io.stderr(formatFullStats(res));
  if (res.domains.some((d) => d.state === "crashed")) return 125;
  if (res.domains.some((d) => d.exitValue === null)) return 124;
  return (res.domains.find((d) => d.exitValue !== 0)?.exitValue ?? 0) & 0xff;
}

/** `pvkit run --mode …` / several guests: MIPS only; console to stdout, diagnostics to stderr. */
export async function runMipsCli(
  files: readonly string[],
  opts: {
    arch?: string;
    mode?: string;
    stats?: boolean;
    ramMib?: string | number;
    input?: string;
    trace?: string;
    disk?: string;
    nic?: string;
    stdin?: boolean;
    maxInstructions?: string | number;
  },
): Promise<number> {
  // These belong to one guest on its own board; a monitor's domains have none of them.
  const boardOnly = (
    [
      ["--disk", opts.disk],
      ["--nic", opts.nic],
      ["--stdin", opts.stdin],
      ["--max-instructions", opts.maxInstructions],
    ] as const
  ).filter(([, v]) => v !== undefined && v !== false);
  if (boardOnly.length > 0)
    throw new Error(
      `${boardOnly.map(([f]) => f).join(", ")}: only for one guest on its own board (no --mode, one ELF); ` +
        "--mode runs and several guests have no IDE/NE2000 models, take --input for the console and stop at a cycle limit",
    );
  const arches = files.map((f) => opts.arch ?? archOfElf(new Uint8Array(readFileSync(f))));
  if (arches.every((a) => a === "x86"))
    return runX86Mode(files, opts, {
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
    });
  for (const f of files) {
    const arch = opts.arch ?? archOfElf(new Uint8Array(readFileSync(f)));
    if (arch !== "mips")
      throw new Error(
        `${f}: --mode and several guests are for MIPS guests (this is ${arch ?? "not an ELF"})`,
      );
  }
  return runMipsMode(files, opts, {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  });
}
