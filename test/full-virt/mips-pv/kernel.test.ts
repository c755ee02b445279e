/**
 * The PV kernel (samples/guests/mips/pv-kernel: the kernel sample with its HAL swapped for the
 * privileged-register page and hypercalls) under Disco's PV mode:
 *  - the default configuration (compute + kbench) prints exactly the native kernel's
 *    test/differential/mips-kernel/expected-output.txt (~10 s: compute is ~300 M instructions);
 *  - two PV domains and one fully virtualized domain side by side, with the isolation oracle,
 *    each print what the native kernel prints (shortened proc_config: two kbench processes —
 *    all parts / syscalls, page faults and yields — as test/full-virt/mips does, for time);
 *  - `pvkit run --mode pv` (runMipsMode) exits 0 with that output;
 *  - where the cross compiler exists, a rebuild is byte-identical to the committed ELF.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runMipsMode } from "../../../src/cli/commands/run-full.js";
import { disco } from "../../../src/full-virt/index.js";
import { type MipsGuestImage, runFullVirt, runNative } from "../../../src/hypervisor/index.js";
import { Kbench, Program, withProcs, withTimerInterval } from "../../differential/mips-kernel/run-kernel.js";
import { requires } from "../../setup/requires.js";

const PV = "samples/guests/mips/pv-kernel/pv-kernel.elf";
const KSSEG = "samples/guests/mips/kernel/kernel-ksseg.elf";
const NATIVE = "samples/guests/mips/kernel/kernel.elf";
const hasMipsGcc = spawnSync("mipsel-linux-gnu-gcc", ["--version"]).status === 0;

function kbench(file: string): Uint8Array {
  return withProcs(
    new Uint8Array(readFileSync(file)),
    file,
    [Program.Kbench, Kbench.All],
    [Program.Kbench, Kbench.Syscalls | Kbench.PageFaults | Kbench.Yields],
  );
}

describe("MIPS PV kernel", () => {
  it("prints the native kernel's expected output (default proc_config) and powers off", async () => {
    const want = readFileSync("test/differential/mips-kernel/expected-output.txt", "utf8");
    const res = await runFullVirt(
      [{ name: "pv", file: PV, bytes: new Uint8Array(readFileSync(PV)), pv: true }],
      {
        out: () => {},
      },
    );
    const d = res.domains[0]!;
    expect(d.diagnostic).toBeNull();
    expect(d.state).toBe("shutdown");
    expect(d.exitValue).toBe(0);
    expect(d.output).toBe(want);
    // The HAL change at work: no trapped MFC0/MTC0 or UART access — only hypercalls and reflections.
    const pv = res.vcpus[0]!.pv!;
    expect(pv.counts.erets).toBeGreaterThan(4000);
    expect(pv.counts.tlbOps).toBeGreaterThan(100);
  }, 60_000);

  it("two PV domains and one full domain side by side (isolation oracle) print the native output", async () => {
    const [n] = runNative([{ name: "native", file: NATIVE, bytes: kbench(NATIVE) }], { out: () => {} });
    expect(n!.exitValue).toBe(0);
    const want = n!.output;
    expect(want).toContain("*** PVKIT KERNEL DONE ***");
    const guests: MipsGuestImage[] = [
      { name: "pv1", file: PV, bytes: kbench(PV), pv: true },
      { name: "full", file: KSSEG, bytes: kbench(KSSEG) },
      { name: "pv2", file: PV, bytes: kbench(PV), pv: true },
    ];
    const lines: string[] = [];
    const res = await runFullVirt(guests, { out: (l) => lines.push(l), oracle: true });
    expect(res.hypervisor.oracleViolations).toEqual([]);
    expect(res.hypervisor.dispatcher.handlerFaults).toBe(0);
    for (const d of res.domains) {
      expect(d.diagnostic, d.name).toBeNull();
      expect(d.exitValue, d.name).toBe(0);
      expect(d.output, d.name).toBe(want);
    }
    expect(res.vcpus[1]!.pv).toBeNull();
    // Console lines prefixed per domain.
    expect(lines).toContain("[pv2] *** PVKIT KERNEL DONE ***");
  }, 60_000);

  it("timer_interval patches: the output does not depend on the quantum (Count/Compare in the page)", async () => {
    const outs: string[] = [];
    const ticks: number[] = [];
    for (const t of [3000, 40000]) {
      const bytes = withTimerInterval(kbench(PV), PV, t);
      const res = await runFullVirt([{ name: "pv", file: PV, bytes, pv: true }], { out: () => {} });
      expect(res.domains[0]!.exitValue).toBe(0);
      outs.push(res.domains[0]!.output);
      ticks.push(res.domains[0]!.stats.counts[disco.DiscoRow.interrupts]!);
    }
    expect(outs[0]).toBe(outs[1]);
    // A shorter quantum means more timer interrupts reflected through the page.
    expect(ticks[0]).toBeGreaterThan(2 * ticks[1]!);
  }, 60_000);

  it("pvkit run --mode pv runs it (exit status 0, console on stdout, --trace on stderr)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pvkit-mips-pv-"));
    try {
      const file = join(dir, "pv-kbench.elf");
      writeFileSync(file, kbench(PV));
      let out = "";
      let err = "";
      const code = await runMipsMode(
        [file],
        { mode: "pv", stats: true, trace: "hypercalls" },
        { stdout: (t) => (out += t), stderr: (t) => (err += t) },
      );
      expect(err).not.toContain("crashed");
      expect(code).toBe(0);
      // The trace names the PV kernel's hypercalls, stamped with the simulated cycle.
      expect(err).toMatch(/^\[\s*\d+\] d0 mips_set_vectors\(0xc0010000(, 0x0)*\) = 0$/m);
      expect(err).toMatch(/^\[\s*\d+\] d0 mips_tlb_op\(/m);
      expect(out).not.toMatch(/mips_tlb_op/);
      expect(out).toContain("kbench: null syscalls 4000, all returned the pid");
      expect(out.trimEnd().endsWith("*** PVKIT KERNEL DONE ***")).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.skipIf(!hasMipsGcc)(requires("PV kernel build", hasMipsGcc, "mipsel-linux-gnu-gcc"), () => {
  it("rebuilds a byte-identical ELF", () => {
    const dir = mkdtempSync(join(tmpdir(), "pvkit-mips-pv-build-"));
    try {
      cpSync("samples/guests", dir, { recursive: true });
      const r = spawnSync("bash", [join(dir, "mips/pv-kernel/build.sh")], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const rebuilt = readFileSync(join(dir, "mips/pv-kernel/pv-kernel.elf"));
      expect(Buffer.compare(rebuilt, readFileSync(PV)), "pv-kernel.elf differs from its rebuild").toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
