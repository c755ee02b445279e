/**
 * The x86 PV kernel (samples/guests/x86/pv-kernel): the x86 kernel sample with its hardware
 * layer swapped for Xen's x86_32 PV interface prints what the native kernel prints on the PC
 * board, apart from its four boot lines (README.md "Output"), and powers off, its page tables
 * built and switched only through validated hypercalls (the isolation oracle runs in
 * pv-test.test.ts and hostile.test.ts: here it would triple the wall time).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { vmware } from "../../../src/full-virt/index.js";
import { Hypercall, MmuextOp } from "../../../src/hypercalls/index.js";
import { runX86Domains } from "../../../src/hypervisor/index.js";
import { createBoard } from "../../../src/machine/index.js";

const PV = "samples/guests/x86/pv-kernel/pv-kernel.elf";
const NATIVE = "samples/guests/x86/kernel/kernel.elf";
const BOOT_LINES = 4;

function native(): string {
  let out = "";
  const b = createBoard("x86", { console: (c) => (out += String.fromCharCode(c)) });
  b.loadGuest(new Uint8Array(readFileSync(NATIVE)), NATIVE);
  b.run(4e9);
  return out;
}

const tail = (s: string) => s.split("\n").slice(BOOT_LINES).join("\n");

describe("x86 PV kernel", () => {
  it("prints the native kernel's process output and counts, and powers off", async () => {
    const want = native();
    expect(want).toContain("DONE");
    const res = await runX86Domains(
      [{ name: "pv", file: PV, bytes: new Uint8Array(readFileSync(PV)), pv: true }],
      {
        out: () => {},
      },
    );
    const d = res.domains[0]!;
    expect(d.diagnostic).toBeNull();
    expect(d.state).toBe("shutdown");
    expect(d.exitValue).toBe(0);
    expect(d.output.split("\n").slice(0, BOOT_LINES)).toEqual([
      "kernel: x86 PV kernel sample, start_info magic xen-3.0-x86_32",
      "kernel: trap table set",
      "kernel: VIRQ_TIMER bound, one-shot timer every 1 M cycles",
      "kernel: own page tables pinned, starting 2 ring-3 processes",
    ]);
    expect(tail(d.output)).toBe(tail(want));
    expect(res.hypervisor.dispatcher.handlerFaults).toBe(0);
    const s = (res.vcpus[0] as vmware.pv.X86PvVcpu).stats;
    // kbench's 4000 null syscalls (+ the rest) bounce as int $0x80; its CLI as #GP; faults as #PF.
    expect(s.bouncesByVector[0x80]).toBe(4214);
    expect(s.bouncesByVector[13]).toBe(1);
    expect(s.bouncesByVector[14]).toBe(129);
    // Every context switch is one multicall (NEW_BASEPTR + stack_switch); no page-table update failed.
    expect(s.hypercallsByNumber[Hypercall.multicall]).toBe(s.mmuextOps[MmuextOp.new_baseptr]);
    expect(s.mmuUpdateErrors + s.vaMappingErrors + s.mmuextErrors).toBe(0);
    expect(s.upcalls).toBeGreaterThan(10);
  }, 60_000);
});
