/**
 * `hypcall` from a full-virtualized guest kernel raises Coprocessor Unusable in supervisor mode;
 * the monitor hands it to the hypervisor's dispatcher (pvkit's MIPS PV convention: v0 = number,
 * a0.. = arguments, v0 = result; guest-physical buffers, auto-translated). Without a PV
 * interface it is a Reserved Instruction, as on the bare R1 CPU in kernel mode.
 */
import { describe, expect, it } from "vitest";
import { disco } from "../../../src/full-virt/index.js";
import { runFullVirt } from "../../../src/hypervisor/index.js";
import { loadAsm, newAsm, readPhys, testBed } from "./harness.js";

const HYPCALL = 0x42000028;

function image(): Uint8Array {
  const a = newAsm(0xc0001000);
  a.li("v0", 18).li("a0", 0).li("a1", 6).li("a2", 0x3000).word(HYPCALL);
  a.li("t0", 0xc0003100).sw("v0", 0, "t0");
  a.li("k1", 0xbfd00000).sb("zero", 0x501, "k1").label("e").b("e").nop();
  const img = new Uint8Array(0x4000);
  img.set(a.bytes(), 0x1000);
  img.set(new TextEncoder().encode("PV hi\n"), 0x3000);
  return img;
}

describe("hypcall from a full-virtualized guest", () => {
  it("reaches the hypervisor (console_io write) and its result comes back in v0", async () => {
    const lines: string[] = [];
    const res = await runFullVirt(
      [{ name: "pv", file: "pv", bytes: image(), raw: { physical: 0, entry: 0xc0001000, relinked: true } }],
      { out: (l) => lines.push(l), ramMib: 4, machineMib: 16 },
    );
    const d = res.domains[0]!;
    expect(d.diagnostic).toBeNull();
    expect(d.exitValue).toBe(0);
    expect(lines).toContain("PV hi");
    expect(d.stats.counts[disco.DiscoRow.monitorCall]).toBe(1);
    // v0 held the number (18) and now holds console_io's result, 0.
    expect(readPhys(res.vcpus[0]!, 0x3100)).toBe(0);
  });

  it("without a PV interface it raises Reserved Instruction in the guest", () => {
    const bed = testBed();
    const d = bed.domain("nopv");
    const vec = newAsm(0xc0000180);
    vec.li("k1", 0xbfd00000).mfc0("k0", 13).srl("k0", "k0", 2).andi("k0", "k0", 31).sb("k0", 0x501, "k1");
    vec.label("v").b("v").nop();
    const a = newAsm(0xc0001000);
    a.mtc0("zero", 12).word(HYPCALL).nop();
    loadAsm(d.vcpu, vec);
    loadAsm(d.vcpu, a);
    d.vcpu.reset(0xc0001000, true);
    bed.run(100_000);
    expect(d.exitValue).toBe(10); // RI
  });
});
