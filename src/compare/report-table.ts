/** The terminal report: one cli-table3 table per trap scale, absolute figures with ratios vs native. */
import Table from "cli-table3";

type TableCell = Table.Cell;

import type { CompareReport } from "./harness.js";
import type { Cell, CellFigures } from "./types.js";

function num(x: number): string {
  if (Number.isInteger(x)) return x.toLocaleString("en-US");
  return x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(2);
}

function counts(f: CellFigures): string {
  const parts: string[] = [];
  if (f.traps) {
    const t = Object.entries(f.traps)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${k} ${num(v)}`);
    if (t.length) parts.push(`traps: ${t.join(", ")}`);
  }
  if (f.hypercalls !== undefined) parts.push(`hypercalls ${num(f.hypercalls)}`);
  if (f.notifications !== undefined) parts.push(`notif. ${num(f.notifications)}`);
  if (f.bytesCopied !== undefined) parts.push(`copied ${num(f.bytesCopied)} B`);
  if (f.bytesMapped !== undefined) parts.push(`mapped ${num(f.bytesMapped)} B`);
  if (f.machineBytes !== undefined) parts.push(`machine mem ${num(f.machineBytes / 1024)} KiB`);
  return parts.join("\n");
}

function row(c: Cell): TableCell[] {
  if (c.status !== "ok" || !c.figures)
    return [c.workload, c.arch, c.profile, { content: `n/a (${c.reason})`, colSpan: 6 }];
  const f = c.figures;
  return [
    c.workload,
    c.arch,
    c.profile,
    num(f.cycles),
    f.cyclesPerOp !== undefined ? num(f.cyclesPerOp) : "",
    c.ratioVsNative != null ? `${c.ratioVsNative.toFixed(3)}×` : "—",
    f.instructions !== undefined ? num(f.instructions) : "",
    (f.wallMs / 1000).toFixed(2),
    counts(f),
  ];
}

export function formatTable(report: CompareReport): string {
  const out: string[] = [];
  out.push(
    `pvkit compare — commit ${report.commit}, cost table ${report.costTableHash}${report.quick ? ", quick sizes" : ""}`,
  );
  for (const run of report.runs) {
    const t = new Table({
      head: [
        "workload",
        "arch",
        "profile",
        "sim cycles",
        "key/op",
        "vs native",
        "instructions",
        "wall s",
        "counts",
      ],
      style: { head: [], border: [] },
      wordWrap: true,
      colWidths: [16, 6, 9, 15, 10, 10, 14, 8, 44],
    });
    for (const c of run.cells) t.push(row(c));
    out.push(`\ntrap scale ${run.trapScale}× (cost table ${run.costTableHash})`);
    out.push(t.toString());
  }
  out.push("\nkey/op: cycles per instruction (compute), per operation above the empty baseline (kernel");
  out.push(
    "microbenchmarks), per request (blk); ratios are taken on it. Wall time is the host's, not compared.",
  );
  out.push('\nReference (REFERENCE.md "Measured anchors", context only, never used to tune):');
  for (const r of report.reference) out.push(`  ${r.source}: ${r.what}: ${r.figure}`);
  return `${out.join("\n")}\n`;
}
