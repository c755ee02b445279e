/**
 * pvkit compare: a quick run produces every expected cell with real figures, the JSON schema,
 * an SVG per chart, trap-scale sensitivity (full costlier at 2×, native unchanged), determinism
 * of simulated figures, and clear errors for bad flags.
 */
import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { runCompareCli } from "../../src/cli/commands/compare.js";
import {
  type Cell,
  type CompareReport,
  formatHtml,
  formatTable,
  keyFigure,
  PROFILES,
  REPORT_SCHEMA,
  runCompare,
} from "../../src/compare/index.js";
import { costTableHash } from "../../src/machine/index.js";

/** Small but covering: one compute, one kernel microbenchmark, x86 compute, PV blk. */
const WORKLOADS = ["compute-elf", "syscall", "blk-seq", "net-stream"];

const cell = (cells: readonly Cell[], workload: string, arch: string, profile: string): Cell => {
  const c = cells.find((x) => x.workload === workload && x.arch === arch && x.profile === profile);
  if (!c) throw new Error(`no cell ${workload}/${arch}/${profile}`);
  return c;
};

/** Everything but wall time, for determinism checks. */
function simulated(r: CompareReport): unknown {
  return r.runs.map((run) =>
    run.cells.map((c) => {
      if (!c.figures) return c;
      const { wallMs: _w, ...rest } = c.figures;
      return { ...c, figures: rest };
    }),
  );
}

describe("pvkit compare (quick)", () => {
  let report: CompareReport;
  let again: CompareReport;

  it("produces every cell: figures where a mode exists, n/a with a reason where not", async () => {
    report = await runCompare({ quick: true, workloads: WORKLOADS, trapScales: [1, 2] });
    const cells = report.runs[0]!.cells;
    // compute-elf on two arches, syscall on mips, blk-seq and net-stream (ts): 5 rows × 4 profiles.
    expect(cells).toHaveLength(20);
    for (const arch of ["mips", "x86"]) {
      for (const profile of ["native", "full"]) {
        const c = cell(cells, "compute-elf", arch, profile);
        expect(c.status, `${arch} ${profile}: ${c.reason}`).toBe("ok");
        expect(c.figures!.cycles).toBeGreaterThan(1_000_000);
        expect(c.figures!.instructions).toBeGreaterThan(50_000);
      }
      expect(cell(cells, "compute-elf", arch, "pv").status).toBe("n/a");
      expect(cell(cells, "compute-elf", arch, "pv").reason).toMatch(/PV/);
      expect(cell(cells, "compute-elf", arch, "full+pv").status).toBe("n/a");
    }
    // MIPS PV kernel (Disco's PV mode): a getpid is a reflected syscall through the
    // privileged-register page, ERET a hypercall — dearer than native, cheaper than full.
    const sp = cell(cells, "syscall", "mips", "pv");
    expect(sp.status, sp.reason).toBe("ok");
    expect(sp.figures!.hypercalls).toBeGreaterThanOrEqual(4000);
    // Native CPI of the compute kernel is a little above 1 (multiply/divide stalls).
    const nat = cell(cells, "compute-elf", "mips", "native");
    expect(nat.figures!.cyclesPerOp).toBeGreaterThan(1);
    expect(nat.figures!.cyclesPerOp).toBeLessThan(2);
    expect(nat.ratioVsNative).toBe(1);
    // Disco interprets compute.elf's kseg0 code: far costlier per instruction.
    expect(cell(cells, "compute-elf", "mips", "full").ratioVsNative).toBeGreaterThan(5);
    // A getpid costs more under Disco (trap reflected + emulated ERET/MFC0) than natively.
    const sn = cell(cells, "syscall", "mips", "native");
    const sf = cell(cells, "syscall", "mips", "full");
    expect(sn.figures!.cyclesPerOp).toBeGreaterThan(20);
    expect(sf.ratioVsNative).toBeGreaterThan(2);
    expect(sp.ratioVsNative).toBeGreaterThan(1);
    expect(sp.ratioVsNative).toBeLessThan(sf.ratioVsNative!);
    expect(sf.figures!.traps!["other exceptions reflected"]).toBeGreaterThanOrEqual(4000);
    expect(sf.figures!.worldSwitches).toBeGreaterThan(4000);
    // PV blk: modelled, 32 × 4 KiB, grant-mapped by default.
    const b = cell(cells, "blk-seq", "ts", "pv");
    expect(b.status).toBe("ok");
    expect(b.label).toMatch(/modelled/);
    expect(b.figures!.bytesMapped! + b.figures!.bytesCopied!).toBe(32 * 4096);
    expect(b.figures!.notifications).toBeGreaterThan(0);
    expect(b.figures!.hypercalls).toBeGreaterThan(0);
    // Emulated IDE (same job, same image format): native = direct port access, full = trapped.
    const bn = cell(cells, "blk-seq", "ts", "native");
    const bf = cell(cells, "blk-seq", "ts", "full");
    expect(bn.status, bn.reason).toBe("ok");
    expect(bf.status, bf.reason).toBe("ok");
    expect(bn.figures!.worldSwitches).toBeUndefined();
    expect(bf.figures!.traps!["port I/O"]).toBeGreaterThan(32 * 6);
    expect(bf.figures!.worldSwitches).toBe(
      bf.figures!.traps!["port I/O"]! + bf.figures!.traps!["virtual interrupt"]!,
    );
    expect(bf.ratioVsNative).toBeGreaterThan(1);
    // PV net stream: 16 × 1500-byte frames copied by netback (rx-copy), acks included.
    const n = cell(cells, "net-stream", "ts", "pv");
    expect(n.status, n.reason).toBe("ok");
    expect(n.figures!.bytesCopied).toBeGreaterThanOrEqual(16 * 1500);
    expect(n.figures!.notifications).toBeGreaterThan(0);
    // Emulated NE2000 on the same switch and job: every data byte crosses a data port twice.
    const nn = cell(cells, "net-stream", "ts", "native");
    const nf = cell(cells, "net-stream", "ts", "full");
    expect(nn.status, nn.reason).toBe("ok");
    expect(nf.status, nf.reason).toBe("ok");
    expect(nf.figures!.bytesCopied).toBeGreaterThanOrEqual(2 * 16 * 1500);
    expect(nf.figures!.traps!["virtual interrupt"]).toBeGreaterThan(16);
    expect(nf.ratioVsNative).toBeGreaterThan(1);
  }, 60_000);

  it("JSON carries the schema, commit, cost-table hashes, trap scales and per-cell figures", () => {
    const j = JSON.parse(JSON.stringify(report));
    expect(j.schema).toBe(REPORT_SCHEMA);
    expect(j.commit).toMatch(/^[0-9a-f]{7,}$|^unknown$/);
    expect(j.costTableHash).toBe(costTableHash());
    expect(j.profiles).toEqual([...PROFILES]);
    expect(j.runs.map((r: { trapScale: number }) => r.trapScale)).toEqual([1, 2]);
    expect(j.runs[0].costTableHash).toBe(costTableHash());
    expect(j.runs[1].costTableHash).not.toBe(costTableHash());
    const c = j.runs[0].cells[1];
    expect(Object.keys(c)).toEqual(
      expect.arrayContaining(["workload", "arch", "profile", "status", "figures", "ratioVsNative"]),
    );
    expect(typeof c.figures.cycles).toBe("number");
    expect(typeof c.figures.wallMs).toBe("number");
    expect(j.reference.length).toBeGreaterThan(5);
  });

  it("trap scale 2 makes full-virt rows costlier and leaves native unchanged", () => {
    const [one, two] = [report.runs[0]!.cells, report.runs[1]!.cells];
    for (const [w, arch] of [
      ["syscall", "mips"],
      ["compute-elf", "x86"],
    ] as const) {
      expect(keyFigure(cell(two, w, arch, "full"))!).toBeGreaterThan(keyFigure(cell(one, w, arch, "full"))!);
      expect(cell(two, w, arch, "native").figures!.cycles).toBe(cell(one, w, arch, "native").figures!.cycles);
      expect(cell(two, w, arch, "native").figures!.instructions).toBe(
        cell(one, w, arch, "native").figures!.instructions,
      );
    }
    // The same 4000 getpid traps are reflected, only dearer (timer ticks, in simulated time, do
    // move: a slower run sees more of them).
    const reflected = (cells: readonly Cell[]) =>
      cell(cells, "syscall", "mips", "full").figures!.traps!["other exceptions reflected"];
    expect(reflected(two)).toBe(reflected(one));
  });

  it("two runs give identical simulated cycles and counts", async () => {
    again = await runCompare({ quick: true, workloads: WORKLOADS, trapScales: [1, 2] });
    expect(simulated(again)).toEqual(simulated(report));
  }, 60_000);

  it("HTML is one self-contained page with an <svg> per chart; the table shows ratios", () => {
    const html = formatHtml(report);
    const charts = report.runs.length * 5; // 5 workload rows per run
    expect(html.match(/<svg /g)).toHaveLength(charts);
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html).toContain("n/a");
    // Every chart has bars: ratios vs native, or the key figure where no native cell exists.
    for (const svg of html.match(/<svg [\s\S]*?<\/svg>/g)!) expect(svg).toContain("<rect");
    expect(html).toMatch(/blk-seq \(ts\): vs native/);
    const table = formatTable(report);
    expect(table).toContain("trap scale 2×");
    expect(table).toMatch(/1\.000×/);
  });
});

describe("pvkit compare flags", () => {
  const run = async (o: Parameters<typeof runCompareCli>[0]) => {
    let err = "";
    const code = await runCompareCli(o, { stdout: () => {}, stderr: (t) => (err += t) });
    return { code, err };
  };

  it("unknown workload, arch or scale: exit 2 with the valid values", async () => {
    const w = await run({ workloads: "compute,nope" });
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/"nope".*valid values are .*compute.*syscall.*blk-seq/);
    const a = await run({ arch: "arm" });
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/"arm".*mips, x86, all/);
    const s = await run({ trapScale: "0.5,x,-1" });
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/"x", "-1"/);
    const none = await run({ arch: "x86", workloads: "syscall" });
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/syscall \(mips\)/);
  });
});
