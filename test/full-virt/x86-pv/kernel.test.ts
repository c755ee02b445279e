/**
 * The x86 PV kernel (samples/guests/x86/pv-kernel): the x86 kernel sample with its hardware layer
 * swapped for Xen's x86_32 PV interface. The PV kernel and the native kernel fully virtualized
 * run side by side on one CPU; the PV kernel prints what the native kernel prints, apart from
 * its four boot lines (README.md "Output"), and powers off; page tables built and switched only
 * through validated hypercalls. (The native kernel's output equals its fully virtualized output:
 * test/full-virt/x86/samples.test.ts. Two PV domains beside a full one, and the isolation oracle,
 * run with the smaller test guest in pv-test.test.ts and hostile.test.ts: with kernels they would
 * triple this test's ~8 s.)
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { vmware } from "../../../src/full-virt/index.js";
import { Hypercall, MmuextOp } from "../../../src/hypercalls/index.js";
import { runX86Domains } from "../../../src/hypervisor/index.js";

const PV = "samples/guests/x86/pv-kernel/pv-kernel.elf";
const NATIVE = "samples/guests/x86/kernel/kernel.elf";
const BOOT_LINES = 4;
const bytes = (f: string) => new Uint8Array(readFileSync(f));
const tail = (s: string) => s.split("\n").slice(BOOT_LINES).join("\n");

describe("x86 PV kernel", () => {
  it("the PV kernel beside the fully virtualized native kernel: same process output, poweroff", async () => {
    const res = await runX86Domains(
      [
        { name: "pv1", file: PV, bytes: bytes(PV), pv: true },
        { name: "full", file: NATIVE, bytes: bytes(NATIVE) },
      ],
      { out: () => {} },
    );
    const [pv1, full] = res.domains;
    expect(full!.exitValue).toBe(0);
    expect(full!.output).toContain("DONE");
    for (const d of [pv1!]) {
      expect(d.diagnostic, d.name).toBeNull();
      expect(d.state).toBe("shutdown");
      expect(d.exitValue).toBe(0);
      expect(d.output.split("\n").slice(0, BOOT_LINES)).toEqual([
        "kernel: x86 PV kernel sample, start_info magic xen-3.0-x86_32",
        "kernel: trap table set",
        "kernel: VIRQ_TIMER bound, one-shot timer every 1 M cycles",
        "kernel: own page tables pinned, starting 2 ring-3 processes",
      ]);
      expect(tail(d.output)).toBe(tail(full!.output));
    }
    expect(res.hypervisor.dispatcher.handlerFaults).toBe(0);
    for (const i of [0]) {
      const s = (res.vcpus[i] as vmware.pv.X86PvVcpu).stats;
      // kbench's 4000 null syscalls (+ the rest) bounce as int $0x80; its CLI as #GP; faults as #PF.
      expect(s.bouncesByVector[0x80]).toBe(4214);
      expect(s.bouncesByVector[13]).toBe(1);
      expect(s.bouncesByVector[14]).toBe(129);
      // Every context switch is one multicall (NEW_BASEPTR + stack_switch); no page-table update failed.
      expect(s.hypercallsByNumber[Hypercall.multicall]).toBe(s.mmuextOps[MmuextOp.new_baseptr]);
      expect(s.mmuUpdateErrors + s.vaMappingErrors + s.mmuextErrors).toBe(0);
      expect(s.upcalls).toBeGreaterThan(10);
    }
  }, 90_000);
});
