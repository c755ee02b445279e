/**
 * The virtual TLB: l2tlb hits are served by the monitor (never reflected), guest ASIDs are
 * remapped per domain, the G bit never reaches the hardware TLB, each domain's frames are its own,
 * and pmap/pmapbackmap/memmap describe the mappings.
 */
import { describe, expect, it } from "vitest";
import { disco } from "../../../src/full-virt/index.js";
import { type Asm, loadAsm, newAsm, readPhys, type TestBed, testBed } from "./harness.js";

const BASE = 0xc0000000;
const LO = (pfn: number, flags: number) => ((pfn << 6) | (3 << 3) | flags) >>> 0;

function stub(addr: number, code: number): Asm {
  const a = newAsm(addr);
  a.li("k1", 0xbfd00000).addiu("k0", "zero", code).sb("k0", 0x501, "k1").label("x").b("x").nop();
  return a;
}

/** A relinked guest: one global entry (ASID 3) for 0x00400000, a value stored through it, 20 TLBWRs, a reload. */
function program(value: number): Asm[] {
  const a = newAsm(BASE + 0x1000);
  a.li("k1", 0xbfd00000).mtc0("zero", 12).mtc0("zero", 5);
  a.li("t0", 0x00400003).mtc0("t0", 10);
  a.li("t0", LO(0x200, 7)).mtc0("t0", 2).li("t0", LO(0x201, 7)).mtc0("t0", 3).tlbwr();
  a.li("t2", 0x00400000).li("t1", value).sw("t1", 0, "t2");
  a.addiu("s1", "zero", 20).li("s2", 0x01000003);
  a.label("fill").mtc0("s2", 10);
  a.li("t0", LO(0x300, 6)).mtc0("t0", 2).mtc0("t0", 3).tlbwr();
  a.lui("t0", 0x0000).ori("t0", "zero", 0x2000).addu("s2", "s2", "t0");
  a.addiu("s1", "s1", -1).bnez("s1", "fill").nop();
  a.li("t0", 0x00400003).mtc0("t0", 10);
  a.lw("t3", 0, "t2")
    .li("t4", BASE + 0x3000)
    .sw("t3", 0, "t4");
  a.addiu("k0", "zero", 0x7f).sb("k0", 0x501, "k1").label("spin").b("spin").nop();
  return [stub(BASE, 1), stub(BASE + 0x180, 2), a];
}

function boot(bed: TestBed, name: string, value: number) {
  const d = bed.domain(name);
  for (const p of program(value)) loadAsm(d.vcpu, p);
  d.vcpu.reset(BASE + 0x1000, true);
  return d;
}

describe("virtual TLB (l2tlb, pmap, ASIDs)", () => {
  it("two domains with the same ASID and VA: their own frames, remapped ASIDs, no G in hardware, l2tlb hits not reflected", () => {
    const bed = testBed();
    const a = boot(bed, "a", 0x1111);
    const b = boot(bed, "b", 0x2222);
    let sawGlobal = false;
    // Small slices so the domains interleave (world switches between them).
    for (let i = 0; i < 400 && (a.vcpu.state === "running" || b.vcpu.state === "running"); i++) {
      bed.run(2_000, 500);
      const t = bed.machine.cpu.tlb;
      for (let k = 0; k < 16; k++) if (t.global[k]) sawGlobal = true;
    }
    for (const d of [a, b]) {
      expect(d.crash).toBeNull();
      expect(d.exitValue).toBe(0x7f);
    }
    expect(sawGlobal).toBe(false);
    expect(readPhys(a.vcpu, 0x3000)).toBe(0x1111);
    expect(readPhys(b.vcpu, 0x3000)).toBe(0x2222);
    // The same guest frame is a different machine frame in each domain, owned by that domain.
    const ma = a.vcpu.pmap.lookup(0x200);
    const mb = b.vcpu.pmap.lookup(0x200);
    expect(ma).toBeGreaterThan(0);
    expect(mb).toBeGreaterThan(0);
    expect(ma).not.toBe(mb);
    expect(bed.allocator.owner(ma)).toBe(1);
    expect(bed.allocator.owner(mb)).toBe(2);
    expect(a.vcpu.pmap.backmap[ma]).toBe(0x200);
    expect(a.vcpu.pmap.memmap.get(ma)).toContain(0x00400000);
    // Guest ASID 3 is a different hardware ASID in each domain, never the monitor's 0.
    const ha = a.vcpu.hwAsids[3]!;
    const hb = b.vcpu.hwAsids[3]!;
    expect(ha).toBeGreaterThan(0);
    expect(hb).toBeGreaterThan(0);
    expect(ha).not.toBe(hb);
    // The guest's own TLB keeps G (what TLBR shows it).
    const vt = a.vcpu.vcp0.tlb;
    const idx = vt.probe(0x00400003);
    expect(idx).toBeGreaterThanOrEqual(0);
    expect(vt.read(idx).entryLo0 & 1).toBe(1);
    // The reload after 20 TLBWRs missed in hardware and was served from the l2tlb.
    for (const d of [a, b]) {
      expect(d.vcpu.stats.counts[disco.DiscoRow.tlbMissReflected]).toBe(0);
      expect(d.vcpu.stats.counts[disco.DiscoRow.tlbMissMonitor]).toBeGreaterThan(0);
      expect(d.vcpu.stats.counts[disco.DiscoRow.tlbWrite]).toBe(21);
    }
  });

  it("shootdown: memmap names the guest pages of a frame; afterwards no hardware entry maps it", () => {
    const bed = testBed();
    const d = bed.domain("s");
    const a = newAsm(BASE + 0x1000);
    a.mtc0("zero", 12).mtc0("zero", 5).li("t0", 0x00400003).mtc0("t0", 10);
    a.li("t0", LO(0x200, 6)).mtc0("t0", 2).li("t0", LO(0x201, 6)).mtc0("t0", 3).tlbwr();
    a.li("t2", 0x00400000).sw("t2", 0, "t2").label("spin").b("spin").nop();
    loadAsm(d.vcpu, a);
    d.vcpu.reset(BASE + 0x1000, true);
    bed.run(50_000);
    expect(d.vcpu.state).toBe("running");
    const ma = d.vcpu.pmap.lookup(0x200);
    const hw = bed.machine.cpu.tlb;
    const mapsMa = () => [...hw.lo0, ...hw.lo1].some((lo) => lo >>> 6 === ma && (lo & 2) !== 0);
    expect(mapsMa()).toBe(true);
    expect(d.vcpu.shootdownFrame(ma)).toEqual([0x00400000]);
    expect(mapsMa()).toBe(false);
    expect(d.vcpu.pmap.memmap.has(ma)).toBe(false);
  });

  it("l2tlb: same VPN2/ASID replaced, global matches any ASID, remove, large pages", () => {
    const l2 = new disco.L2Tlb(64);
    const s1 = l2.insert(0x00400005, 0, LO(1, 6), LO(2, 6));
    expect(l2.lookup(0x00400abc, 5)).toBe(s1);
    expect(l2.lookup(0x00400abc, 6)).toBe(-1);
    l2.insert(0x00400005, 0, LO(7, 6), LO(8, 6));
    expect(l2.count).toBe(1);
    expect(l2.pfnFor(l2.lookup(0x00401000, 5), 0x00401000)).toBe(8);
    l2.insert(0x00600000, 0, LO(9, 7), LO(9, 7));
    expect(l2.lookup(0x00600010, 77)).toBeGreaterThanOrEqual(0);
    l2.remove(0x00400005, 0, 0, 0);
    expect(l2.lookup(0x00400000, 5)).toBe(-1);
    // 16 KiB pages (PageMask 0x6000): halves of 16 KiB.
    const big = l2.insert(0x10000001, 0x6000, LO(0x40, 6), LO(0x80, 6));
    expect(l2.lookup(0x10007000, 1)).toBe(big);
    expect(l2.pfnFor(big, 0x10003000)).toBe(0x43);
    expect(l2.pfnFor(big, 0x10005000)).toBe(0x81);
  });
});
