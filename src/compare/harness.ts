/**
 * `runCompare`: every selected workload × profile × architecture, once per trap scale, into one
 * report. Simulated figures are deterministic; wall time is reported but never compared.
 */
import { execFileSync } from "node:child_process";
import { type CostName, CostTable, costTableHash, scaledCostTable } from "../machine/index.js";
import { profileContainer } from "./profiles.js";
import { REFERENCE_FIGURES, type ReferenceFigure } from "./reference.js";
import { ARCHES, type Cell, type CompareArch, isUnavailable, PROFILES, type ProfileName } from "./types.js";
import { WORKLOADS, type Workload, type WorkloadContext } from "./workloads.js";

export const REPORT_SCHEMA = "pvkit-compare/1";

export interface CompareOptions {
  readonly arches?: readonly CompareArch[];
  /** Workload names (default all). */
  readonly workloads?: readonly string[];
  readonly quick?: boolean;
  /** Trap-path cost multipliers (default [1]). */
  readonly trapScales?: readonly number[];
  /** Profiles to run (default all four). */
  readonly profiles?: readonly ProfileName[];
  readonly onProgress?: (message: string) => void;
}

export interface CompareRun {
  readonly trapScale: number;
  readonly costTableHash: string;
  readonly cells: Cell[];
}

export interface CompareReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly commit: string;
  /** Hash of the unscaled cost table (src/machine/cost.ts). */
  readonly costTableHash: string;
  readonly node: string;
  readonly quick: boolean;
  readonly arches: readonly CompareArch[];
  readonly profiles: readonly ProfileName[];
  readonly workloads: readonly { name: string; arch: string; measures: string; roles: readonly string[] }[];
  readonly runs: CompareRun[];
  readonly reference: readonly ReferenceFigure[];
}

function gitCommit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "unknown";
  }
}

/** The figure ratios are taken on: cycles per operation where the workload defines one. */
export function keyFigure(cell: Cell): number | null {
  const f = cell.figures;
  if (cell.status !== "ok" || !f) return null;
  return f.cyclesPerOp ?? f.cycles;
}

/** Workloads selected by arch and name, in table order. */
export function selectWorkloads(arches: readonly CompareArch[], names?: readonly string[]): Workload[] {
  return WORKLOADS.filter(
    (w) => (!names || names.includes(w.name)) && w.arches.some((a) => a === "ts" || arches.includes(a)),
  );
}

export async function runCompare(opts: CompareOptions = {}): Promise<CompareReport> {
  const arches = opts.arches ?? ARCHES;
  const profiles = opts.profiles ?? PROFILES;
  const scales = opts.trapScales ?? [1];
  const quick = opts.quick ?? false;
  const selected = selectWorkloads(arches, opts.workloads);
  const runs: CompareRun[] = [];
  for (const scale of scales) {
    const costs: Readonly<Record<CostName, number>> = scale === 1 ? CostTable : scaledCostTable(scale);
    const cells: Cell[] = [];
    const memos = new Map<string, WorkloadContext["memo"]>();
    for (const w of selected) {
      const arch = w.arches[0]!;
      const containerArch: CompareArch = arch === "ts" ? arches[0]! : arch;
      const row: Cell[] = [];
      for (const profile of profiles) {
        const key = `${profile}/${containerArch}`;
        let memo = memos.get(key);
        if (!memo) {
          memo = new Map();
          memos.set(key, memo);
        }
        opts.onProgress?.(`trap scale ${scale}: ${w.name} (${arch}) ${profile}`);
        // One container per cell: the profile's registrations for this arch and cost table.
        const c = profileContainer(profile, containerArch, costs);
        const base = { workload: w.name, arch, profile };
        try {
          const r = await w.run(c, { quick, memo });
          if (isUnavailable(r)) row.push({ ...base, status: "n/a", reason: r.unavailable });
          else
            row.push({ ...base, status: "ok", figures: r.figures, ...(r.label ? { label: r.label } : {}) });
        } catch (e) {
          row.push({
            ...base,
            status: "n/a",
            reason: `failed: ${e instanceof Error ? e.message : String(e)}`,
          });
        } finally {
          await c.dispose();
        }
      }
      const nativeCell = row.find((x) => x.profile === "native");
      const nativeKey = nativeCell ? keyFigure(nativeCell) : null;
      for (const cell of row) {
        const k = keyFigure(cell);
        cells.push(
          cell.status === "ok"
            ? { ...cell, ratioVsNative: k !== null && nativeKey ? k / nativeKey : null }
            : cell,
        );
      }
    }
    runs.push({ trapScale: scale, costTableHash: costTableHash(costs), cells });
  }
  return {
    schema: REPORT_SCHEMA,
    commit: gitCommit(),
    costTableHash: costTableHash(),
    node: process.version,
    quick,
    arches,
    profiles,
    workloads: selected.map((w) => ({
      name: w.name,
      arch: w.arches[0]!,
      measures: w.measures,
      roles: w.roles,
    })),
    runs,
    reference: REFERENCE_FIGURES,
  };
}
