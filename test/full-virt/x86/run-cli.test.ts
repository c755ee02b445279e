/**
 * `pvkit run --arch x86 --mode full|native` (runX86Mode) and the hypervisor adapter: several
 * domains on one CPU, prefixed consoles, exit status, statistics, and the hypervisor's isolation
 * oracle on every CPU access while each domain runs.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runX86Mode } from "../../../src/cli/commands/run-full-x86.js";
import { runFullVirtX86 } from "../../../src/hypervisor/index.js";

const HELLO = "samples/guests/x86/hello.elf";

describe("pvkit run --arch x86 --mode", () => {
  it("full: two hello domains print prefixed lines, exit 0, stats on stderr", async () => {
    let out = "";
    let err = "";
    const status = await runX86Mode(
      [HELLO, HELLO],
      { mode: "full", stats: true, ramMib: 16 },
      { stdout: (t) => (out += t), stderr: (t) => (err += t) },
    );
    expect(status).toBe(0);
    expect(out).toBe(
      "[hello.elf#1] Hello from a pvkit guest (x86)\n[hello.elf#1] DONE\n[hello.elf#2] Hello from a pvkit guest (x86)\n[hello.elf#2] DONE\n",
    );
    expect(err).toContain("full virtualization (VMware-style)");
    expect(err).toMatch(/ioEmulations\s+73/);
  });

  it("native: the same lines from PC boards", async () => {
    let out = "";
    const status = await runX86Mode(
      [HELLO],
      { mode: "native" },
      { stdout: (t) => (out += t), stderr: () => {} },
    );
    expect(status).toBe(0);
    expect(out).toBe("Hello from a pvkit guest (x86)\nDONE\n");
  });

  it("the hypervisor's isolation oracle sees no foreign access (hello and the kernel side by side)", async () => {
    const res = await runFullVirtX86(
      [
        { name: "a", file: HELLO, bytes: new Uint8Array(readFileSync(HELLO)) },
        {
          name: "k",
          file: "kernel.elf",
          bytes: new Uint8Array(readFileSync("samples/guests/x86/kernel/kernel.elf")),
        },
      ],
      { out: () => {}, ramMib: 32, oracle: true, maxCycles: 2e6 },
    );
    expect(res.domains[0]!.exitValue).toBe(0);
    expect(res.domains[0]!.diagnostic).toBeNull();
    expect(res.domains[1]!.diagnostic).toBeNull();
    expect(res.domains[1]!.output).toContain("paging on, starting 2 ring-3 processes");
    expect(res.hypervisor.oracleViolations).toEqual([]);
  }, 30_000);
});

describe("domain destruction", () => {
  it("dispose returns every monitor frame: the hypervisor's destroy leaves the domain owning nothing", async () => {
    const res = await runFullVirtX86(
      [{ name: "a", file: HELLO, bytes: new Uint8Array(readFileSync(HELLO)) }],
      {
        out: () => {},
        ramMib: 16,
      },
    );
    const hv = res.hypervisor;
    const domid = hv.listDomains()[0]?.domid;
    expect(res.vcpus[0]!.stats.monitorFrames).toBeGreaterThan(20);
    if (domid !== undefined) {
      const free0 = hv.machineMemory.freePages;
      hv.destroy(domid);
      expect(hv.machineMemory.freePages).toBeGreaterThan(free0 + 20);
    }
    expect(res.vcpus[0]!.stats.monitorFrames).toBe(0);
  });
});
