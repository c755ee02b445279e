/**
 * Exception reflection: the virtual CPU state a guest handler sees (EPC, Cause.ExcCode/BD,
 * BadVAddr, EntryHi = VPN2 + current ASID, Context.BadVPN2, Status.EXL) and the vector chosen
 * (refill only for a miss with EXL = 0, general otherwise) must equal what the real CPU gives
 * natively — on the interpreted kseg0 path (same addresses) and on the relinked ksseg path
 * (vectors at kseg0 vector + 0x40000000, EPCs shifted by 0x40000000).
 */
import { describe, expect, it } from "vitest";
import { bootKernel, makeMachine } from "../../machine/mips/machine.js";
import { type Asm, loadAsm, newAsm, readPhys, testBed } from "./harness.js";

const TAG_REFILL = 1;
const TAG_GENERAL = 2;
const RECORDS = 8;

function vector(a: Asm, tag: number): void {
  const regs: [number, number][] = [
    [14, 0],
    [13, 4],
    [8, 8],
    [10, 12],
    [4, 16],
    [12, 20],
  ];
  for (const [r, off] of regs) a.mfc0("k0", r).sw("k0", off, "s0");
  a.addiu("k0", "zero", tag).sw("k0", 24, "s0").addiu("s0", "s0", 32);
  // Back to kernel mode without EXL, keeping the ASID in EntryHi; continue at s2.
  a.mtc0("zero", 12).jr("s2").nop();
}

/** Two passes: `li` is always two instructions, so label addresses from pass 1 hold in pass 2. */
function program(base: number): Asm[] {
  const first = programWith(base, () => 0);
  const a = first[2]!;
  return programWith(base, (l) => a.addr(l));
}

function programWith(base: number, at: (label: string) => number): Asm[] {
  const refill = newAsm(base);
  vector(refill, TAG_REFILL);
  const general = newAsm(base + 0x180);
  vector(general, TAG_GENERAL);
  const a = newAsm(base + 0x1000);
  a.li("k1", 0xbfd00000)
    .li("s0", base + 0x3000)
    .mtc0("zero", 12);
  a.li("t0", 5).mtc0("t0", 10); // ASID 5
  a.li("t0", 0xc0800000).mtc0("t0", 4); // Context.PTEBase
  // 1. TLB refill (EXL = 0) on a load.
  a.li("t2", 0x00400000).li("s2", at("s1done")).lw("t1", 0x120, "t2").label("s1done");
  // 2. The same in a branch delay slot: BD = 1, EPC = the branch.
  a.li("t2", 0x00802000)
    .li("s2", at("s2done"))
    .beq("zero", "zero", "s2done")
    .lw("t1", 0x10, "t2")
    .label("s2done");
  // 3. A miss with EXL = 1 goes to the general vector; EPC and BD stay as they were.
  a.li("s2", at("s3done"))
    .addiu("t0", "zero", 2)
    .mtc0("t0", 12)
    .li("t2", 0x00a03000)
    .lw("t1", 0, "t2")
    .label("s3done");
  // 4. TLB invalid: an entry for 0x00600000 with V = 0 (TLBWI at index 3).
  a.li("t0", 0x00600005).mtc0("t0", 10).addiu("t0", "zero", 3).mtc0("t0", 0);
  a.mtc0("zero", 2).mtc0("zero", 3).mtc0("zero", 5).tlbwi();
  a.li("s2", at("s4done")).li("t2", 0x00601000).lw("t1", 8, "t2").label("s4done");
  // 5. TLB modified: 0x00700000 valid, clean (pfn 0x100), store.
  a.li("t0", 0x00700005).mtc0("t0", 10).addiu("t0", "zero", 4).mtc0("t0", 0);
  a.li("t0", (0x100 << 6) | (3 << 3) | 2).mtc0("t0", 2);
  a.li("t0", (0x101 << 6) | (3 << 3) | 2)
    .mtc0("t0", 3)
    .tlbwi();
  a.li("s2", at("s5done")).li("t2", 0x00700000).sw("t1", 4, "t2").label("s5done");
  // 6. Unaligned load through that mapping: AdEL with BadVAddr.
  a.li("s2", at("s6done")).lw("t1", 1, "t2").label("s6done");
  // 7. SYSCALL.
  a.li("s2", at("s7done")).syscall().label("s7done");
  // 8. A refill for a store, with another ASID.
  a.li("t0", 9).mtc0("t0", 10).li("s2", at("s8done")).li("t2", 0x00455000).sw("t1", 0, "t2").label("s8done");
  a.addiu("k0", "zero", 0x7f).sb("k0", 0x501, "k1").label("spin").b("spin").nop();
  return [refill, general, a];
}

function nativeRecords(): number[][] {
  const m = makeMachine(true);
  for (const p of program(0x80000000)) m.load(p);
  bootKernel(m, 0x80001000, 0);
  m.cpu.run(100_000);
  expect(m.stop.exitCode).toBe(0x7f);
  return records((pa) => m.memory.read32(pa) >>> 0);
}

function records(read: (pa: number) => number): number[][] {
  return Array.from({ length: RECORDS }, (_, k) =>
    Array.from({ length: 7 }, (_, j) => read(0x3000 + 32 * k + 4 * j)),
  );
}

function discoRecords(base: number): { recs: number[][]; reflected: number; monitor: number } {
  const bed = testBed();
  const d = bed.domain("reflect");
  for (const p of program(base)) loadAsm(d.vcpu, p);
  d.vcpu.reset(base + 0x1000, base === 0xc0000000);
  bed.run(20_000_000);
  expect(d.crash).toBeNull();
  expect(d.exitValue).toBe(0x7f);
  return {
    recs: records((pa) => readPhys(d.vcpu, pa)),
    reflected: d.vcpu.stats.counts[6]!,
    monitor: d.vcpu.stats.counts[5]!,
  };
}

describe("exception reflection into the guest", () => {
  const native = nativeRecords();

  it("native reference: refill vs general vector, BD, ExcCodes", () => {
    const tags = native.map((r) => r[6]);
    expect(tags).toEqual([1, 1, 2, 2, 2, 2, 2, 1]);
    const exc = native.map((r) => (r[1]! >>> 2) & 31);
    expect(exc).toEqual([2, 2, 2, 2, 1, 4, 8, 3]);
    expect(native[1]![1]! >>> 31).toBe(1); // BD in record 2
    expect(native[0]![3]).toBe(0x00400005); // EntryHi = VPN2 | ASID 5
    expect(native[0]![4]).toBe((0xc0800000 | ((0x00400120 >>> 13) << 4)) >>> 0); // Context
  });

  it("interpreted kseg0 guest sees exactly the native state", () => {
    const r = discoRecords(0x80000000);
    expect(r.recs).toEqual(native);
  });

  it("relinked ksseg guest: same state, vectors and EPCs + 0x40000000", () => {
    const r = discoRecords(0xc0000000);
    const expected = native.map((rec) => {
      const out = rec.slice();
      if (out[0]! >= 0x80000000 && out[0]! < 0xa0000000) out[0] = (out[0]! + 0x40000000) >>> 0;
      return out;
    });
    expect(r.recs).toEqual(expected);
    expect(r.reflected).toBe(6); // five TLB exceptions and one Mod; AdEL and Sys are "other"
  });
});
