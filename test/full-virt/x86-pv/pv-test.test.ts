/**
 * The monitor's x86 PV mode with the step-by-step test guest (samples/guests/x86/pv-kernel/test):
 * boot state, trap bouncing with CR2, hostile MMU requests answered with Xen's errno values, a
 * guest-built address space, a ring-3 excursion by HYPERVISOR_iret and real IRET, event upcalls
 * gated by the upcall mask, SCHEDOP_block and the timer — exact output, under the isolation
 * oracle; and a byte-identical rebuild where clang is installed.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runX86Mode } from "../../../src/cli/commands/run-full-x86.js";
import { X86PvRunner } from "../../../src/compare/index.js";
import { vmware } from "../../../src/full-virt/index.js";
import { Hypercall } from "../../../src/hypercalls/index.js";
import { runX86Domains } from "../../../src/hypervisor/index.js";
import { CostTable } from "../../../src/machine/index.js";
import { requires } from "../../setup/requires.js";

const TEST = "samples/guests/x86/pv-kernel/test/pv-test.elf";
const want = readFileSync("test/full-virt/x86-pv/pv-test.expected.txt", "utf8");
const hasClang =
  spawnSync("clang", ["--version"]).status === 0 && spawnSync("ld.lld", ["--version"]).status === 0;

describe("x86 PV mode: the test guest", () => {
  it("prints the expected transcript and powers off, with no isolation violation", async () => {
    const res = await runX86Domains(
      [{ name: "pv", file: TEST, bytes: new Uint8Array(readFileSync(TEST)), pv: true }],
      {
        out: () => {},
        oracle: true,
      },
    );
    const d = res.domains[0]!;
    expect(d.diagnostic).toBeNull();
    expect(d.state).toBe("shutdown");
    expect(d.exitValue).toBe(0);
    expect(d.output).toBe(want);
    expect(res.hypervisor.oracleViolations).toEqual([]);
    expect(res.hypervisor.dispatcher.handlerFaults).toBe(0);
    const v = res.vcpus[0]!;
    expect(v).toBeInstanceOf(vmware.pv.X86PvVcpu);
    const s = (v as vmware.pv.X86PvVcpu).stats;
    // #GP: MOV CR3, INVLPG and a read of the hole in ring 1, CLI and int $0x82 in ring 3; #PF twice (ring 1, ring 3); int $0x80 twice.
    expect(Array.from(s.bouncesByVector.entries()).filter(([, n]) => n > 0)).toEqual([
      [13, 5],
      [14, 2],
      [128, 2],
    ]);
    expect(s.upcalls).toBe(4);
    expect(s.hypercallsByNumber[Hypercall.iret]).toBe(12);
    expect(s.mmuextErrors).toBe(7);
    expect(s.tablesValidated).toBe(4);
  });

  it("a second PV domain and a full domain alongside get the same transcript", async () => {
    const bytes = new Uint8Array(readFileSync(TEST));
    const hello = "samples/guests/x86/hello.elf";
    const res = await runX86Domains(
      [
        { name: "pv1", file: TEST, bytes, pv: true },
        { name: "full", file: hello, bytes: new Uint8Array(readFileSync(hello)) },
        { name: "pv2", file: TEST, bytes, pv: true },
      ],
      { out: () => {}, oracle: true },
    );
    expect(res.hypervisor.oracleViolations).toEqual([]);
    expect(res.domains[0]!.output).toBe(want);
    expect(res.domains[2]!.output).toBe(want);
    expect(res.domains[1]!.exitValue).toBe(0);
    expect(res.domains[1]!.output).toBe("Hello from a pvkit guest (x86)\nDONE\n");
  });
});

describe("pvkit run --arch x86 --mode pv", () => {
  it("runs the test guest: console on stdout, --stats and --trace on stderr, exit status 0", async () => {
    let out = "";
    let err = "";
    const code = await runX86Mode(
      [TEST],
      { mode: "pv", stats: true, trace: "hypercalls" },
      { stdout: (t) => (out += t), stderr: (t) => (err += t) },
    );
    expect(code).toBe(0);
    expect(out).toBe(want);
    expect(err).toContain("x86 PV mode for PV domains");
    expect(err).toMatch(/bouncesByVector\s+\{"13":5,"14":2,"128":2\}/);
    expect(err).toMatch(/^\[\s*\d+\] d0 mmuext_op\(/m);
  });

  it("rejects an unknown mode", async () => {
    await expect(runX86Mode([TEST], { mode: "hvm" }, { stdout: () => {}, stderr: () => {} })).rejects.toThrow(
      /native, full or pv/,
    );
  });
});

describe("compare's x86 pv runner", () => {
  it("reports bounces by vector, upcalls, hypercalls and monitor cycles", async () => {
    const r = await new X86PvRunner(CostTable).run({
      name: "t",
      file: TEST,
      bytes: new Uint8Array(readFileSync(TEST)),
    });
    expect(r.finished).toBe(true);
    expect(r.output).toBe(want);
    expect(r.figures.traps).toEqual({
      "#GP (privileged, I/O)": 5,
      "#PF": 2,
      "int 0x80": 2,
      "event upcall": 4,
    });
    expect(r.figures.hypercalls).toBeGreaterThan(100);
    expect(r.figures.monitorCycles).toBeGreaterThan(0);
    expect(r.figures.instructions).toBeGreaterThan(100_000);
  });
});

describe.skipIf(!hasClang)(requires("x86 PV guest build", hasClang, "clang/ld.lld"), () => {
  it("rebuilds byte-identical ELFs", () => {
    const dir = mkdtempSync(join(tmpdir(), "pvkit-x86-pv-build-"));
    try {
      cpSync("samples/guests", dir, { recursive: true });
      const r = spawnSync("bash", [join(dir, "x86/pv-kernel/build.sh")], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      for (const f of ["test/pv-test.elf", "pv-kernel.elf"]) {
        const rebuilt = readFileSync(join(dir, "x86/pv-kernel", f));
        const committed = readFileSync(join("samples/guests/x86/pv-kernel", f));
        expect(Buffer.compare(rebuilt, committed), `${f} differs from its rebuild`).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
