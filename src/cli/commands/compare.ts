/**
 * `pvkit compare [--arch mips|x86|all] [--workloads a,b] [--trap-scale 0.5,1,2] [--quick]
 * [--json FILE] [--html FILE]`: the same workloads natively, fully virtualized, paravirtualized
 * and full+pv, side by side (src/compare). Table on stdout, progress on stderr. Exit status 0,
 * or 2 for a bad flag (the message lists the valid values).
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import {
  ARCHES,
  type CompareArch,
  type CompareOptions,
  formatHtml,
  formatTable,
  runCompare,
  selectWorkloads,
  WORKLOAD_NAMES,
  WORKLOADS,
} from "../../compare/index.js";

export interface CompareCliOptions {
  arch?: string;
  workloads?: string;
  trapScale?: string;
  quick?: boolean;
  json?: string;
  html?: string;
  progress?: boolean;
}

export interface CompareIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** A flag the user got wrong: reported with the valid values, exit status 2. */
export class CompareUsageError extends Error {}

/** Parses the flags into runCompare options; throws CompareUsageError on a bad value. */
export function parseCompareOptions(o: CompareCliOptions): CompareOptions {
  const arch = o.arch ?? "all";
  if (arch !== "all" && !ARCHES.includes(arch as CompareArch))
    throw new CompareUsageError(
      `unknown --arch "${arch}": valid values are ${[...ARCHES, "all"].join(", ")}`,
    );
  const arches = arch === "all" ? ARCHES : [arch as CompareArch];
  let workloads: string[] | undefined;
  if (o.workloads !== undefined) {
    workloads = o.workloads
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = workloads.filter((w) => !WORKLOAD_NAMES.includes(w));
    if (bad.length || workloads.length === 0)
      throw new CompareUsageError(
        `unknown workload${bad.length > 1 ? "s" : ""} ${bad.map((b) => `"${b}"`).join(", ") || "(none given)"}: valid values are ${WORKLOAD_NAMES.join(", ")}`,
      );
  }
  let trapScales = [1];
  if (o.trapScale !== undefined) {
    const parts = o.trapScale.split(",").map((s) => s.trim());
    const nums = parts.map(Number);
    const bad = parts.filter(
      (p, i) => p === "" || !Number.isFinite(nums[i]!) || nums[i]! <= 0 || nums[i]! > 100,
    );
    if (bad.length)
      throw new CompareUsageError(
        `bad --trap-scale value ${bad.map((b) => `"${b}"`).join(", ")}: give positive numbers up to 100, comma-separated (e.g. 0.5,1,2)`,
      );
    trapScales = nums;
  }
  if (selectWorkloads(arches, workloads).length === 0)
    throw new CompareUsageError(
      `no workload among ${workloads?.join(", ")} runs on ${arches.join(", ")}: ${WORKLOADS.map((w) => `${w.name} (${w.arches.join(", ")})`).join(", ")}`,
    );
  return { arches, trapScales, quick: o.quick ?? false, ...(workloads ? { workloads } : {}) };
}

export async function runCompareCli(o: CompareCliOptions, io: CompareIo): Promise<number> {
  let opts: CompareOptions;
  try {
    opts = parseCompareOptions(o);
  } catch (e) {
    if (e instanceof CompareUsageError) {
      io.stderr(`pvkit compare: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const report = await runCompare({
    ...opts,
    ...(o.progress === false ? {} : { onProgress: (m: string) => io.stderr(`  ${m}\n`) }),
  });
  io.stdout(formatTable(report));
  if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
  if (o.html) writeFileSync(o.html, formatHtml(report));
  return 0;
}

export function registerCompare(program: Command): void {
  program
    .command("compare")
    .description("run the same workloads native, full, pv and full+pv and report the overhead of each")
    .option("--arch <arch>", `architectures: ${[...ARCHES, "all"].join(", ")}`, "all")
    .option("--workloads <names>", `comma-separated: ${WORKLOAD_NAMES.join(", ")}`)
    .option("--trap-scale <scales>", "rerun with trap-path costs scaled, e.g. 0.5,1,2", "1")
    .option("--quick", "small sizes (tests)")
    .option("--json <file>", "write the report as JSON")
    .option("--html <file>", "write a self-contained HTML page with SVG charts")
    .option("--no-progress", "no progress lines on stderr")
    .action(async (opts: CompareCliOptions) => {
      process.exitCode = await runCompareCli(opts, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
      });
    });
}
