/**
 * The HTML report: one self-contained page (no scripts, no external resources) with a table per
 * trap scale and one inline SVG bar chart per workload of its key figure relative to native.
 * The SVG is written by hand: a handful of rectangles per chart does not warrant vega's ~1 MB
 * headless renderer (DESIGN.md "Libraries" lists it as a candidate).
 */
import { type CompareReport, keyFigure } from "./harness.js";
import type { Cell } from "./types.js";

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const COLOURS: Readonly<Record<string, string>> = {
  native: "#4c72b0",
  full: "#dd8452",
  pv: "#55a868",
  "full+pv": "#8172b3",
};

/**
 * Horizontal bars of each profile's ratio vs native; where no native cell exists (modelled
 * rows) the bars are the key figure itself. n/a profiles are listed with their reason.
 */
export function chartSvg(title: string, cells: readonly Cell[]): string {
  const rowH = 26;
  const left = 70;
  const width = 560;
  const plot = width - left - 90;
  const hasNative = cells.some((c) => c.profile === "native" && c.status === "ok");
  const values = cells.map((c) =>
    c.status !== "ok" ? null : hasNative ? (c.ratioVsNative ?? null) : keyFigure(c),
  );
  const max = Math.max(hasNative ? 1 : 0, ...values.filter((r): r is number => r !== null));
  const height = 30 + rowH * cells.length + 10;
  const heading = hasNative ? `${title}: vs native` : `${title}: key figure (no native baseline)`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${esc(heading)}">`,
    `<text x="0" y="16" font-size="13" font-weight="bold">${esc(heading)}</text>`,
  ];
  cells.forEach((c, i) => {
    const y = 26 + i * rowH;
    parts.push(`<text x="0" y="${y + 15}" font-size="12">${esc(c.profile)}</text>`);
    const r = values[i];
    if (r === null || r === undefined || max <= 0) {
      const why = c.status === "ok" ? "no figure" : `n/a: ${c.reason ?? ""}`;
      parts.push(
        `<text x="${left}" y="${y + 15}" font-size="11" fill="#888">${esc(why.slice(0, 80))}</text>`,
      );
      return;
    }
    const w = Math.max(1, (r / max) * plot);
    const text = hasNative ? `${r.toFixed(3)}×` : fmt(r);
    parts.push(
      `<rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${COLOURS[c.profile] ?? "#999"}"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 15}" font-size="12">${esc(text)}</text>`,
    );
  });
  // The native = 1 line.
  if (hasNative) {
    const x1 = left + plot / max;
    parts.push(
      `<line x1="${x1.toFixed(1)}" y1="22" x2="${x1.toFixed(1)}" y2="${height - 6}" stroke="#333" stroke-dasharray="3,3"/>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}

function fmt(x: number | undefined): string {
  if (x === undefined) return "";
  return Number.isInteger(x) ? x.toLocaleString("en-US") : x.toFixed(2);
}

export function formatHtml(report: CompareReport): string {
  const body: string[] = [
    `<h1>pvkit compare</h1>`,
    `<p>commit <code>${esc(report.commit)}</code>, cost table <code>${report.costTableHash}</code>, node ${esc(report.node)}${report.quick ? ", quick sizes" : ""}. Simulated cycles are deterministic; wall time is the host's and is not compared. Ratios are taken on each workload's key figure (cycles per instruction, per operation above the empty baseline, or per request).</p>`,
  ];
  for (const run of report.runs) {
    body.push(`<h2>Trap scale ${run.trapScale}× <small>(cost table ${run.costTableHash})</small></h2>`);
    const groups = new Map<string, Cell[]>();
    for (const c of run.cells) {
      const k = `${c.workload} (${c.arch})`;
      const g = groups.get(k) ?? [];
      g.push(c);
      groups.set(k, g);
    }
    body.push('<div class="charts">');
    for (const [k, cells] of groups) body.push(`<figure>${chartSvg(k, cells)}</figure>`);
    body.push("</div>");
    body.push(
      "<table><tr><th>workload</th><th>arch</th><th>profile</th><th>sim cycles</th><th>key/op</th><th>vs native</th><th>instructions</th><th>wall s</th><th>traps / counts</th><th>note</th></tr>",
    );
    for (const c of run.cells) {
      if (c.status !== "ok" || !c.figures) {
        body.push(
          `<tr><td>${esc(c.workload)}</td><td>${c.arch}</td><td>${c.profile}</td><td colspan="7" class="na">n/a (${esc(c.reason ?? "")})</td></tr>`,
        );
        continue;
      }
      const f = c.figures;
      const extra = [
        ...Object.entries(f.traps ?? {}).map(([n, v]) => `${n}: ${fmt(v)}`),
        f.hypercalls !== undefined ? `hypercalls: ${fmt(f.hypercalls)}` : "",
        f.notifications !== undefined ? `notifications: ${fmt(f.notifications)}` : "",
        f.bytesCopied !== undefined ? `bytes copied: ${fmt(f.bytesCopied)}` : "",
        f.bytesMapped !== undefined ? `bytes mapped: ${fmt(f.bytesMapped)}` : "",
        f.machineBytes !== undefined ? `machine memory: ${fmt(f.machineBytes)} B` : "",
      ].filter(Boolean);
      body.push(
        `<tr><td>${esc(c.workload)}</td><td>${c.arch}</td><td>${c.profile}</td><td>${fmt(f.cycles)}</td><td>${fmt(f.cyclesPerOp)}</td><td>${c.ratioVsNative != null ? `${c.ratioVsNative.toFixed(3)}×` : "—"}</td><td>${fmt(f.instructions)}</td><td>${(f.wallMs / 1000).toFixed(2)}</td><td>${esc(extra.join("; "))}</td><td>${esc(c.label ?? "")}</td></tr>`,
      );
    }
    body.push("</table>");
  }
  body.push(
    "<h2>Reference figures</h2><p>REFERENCE.md “Measured anchors”: context only, never used to tune anything.</p><ul>",
  );
  for (const r of report.reference) body.push(`<li>${esc(r.source)}: ${esc(r.what)}: ${esc(r.figure)}</li>`);
  body.push("</ul>");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pvkit compare ${esc(report.commit)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,td:nth-child(2),td:nth-child(3),td:last-child,td:nth-last-child(2){text-align:left}.na{color:#888;text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}</style>
</head><body>
${body.join("\n")}
</body></html>
`;
}
