/**
 * The privileged-register page (docs/mips-pv-abi.md): the guest's stores reach the virtual CP0
 * at the next hypercall, the monitor's view (Count, PRId, Config1) reaches the page at each exit,
 * and an exception is reflected through the page (cause/epc/badvaddr/entryhi) to the vectors
 * registered with HYPERVISOR_mips_set_vectors; HYPERVISOR_mips_eret returns with v0 := k0.
 */
import { describe, expect, it } from "vitest";
import { disco } from "../../../src/full-virt/index.js";
import { Errno, Hypercall, LayoutsMips32, MipsTlbOp } from "../../../src/hypercalls/index.js";
import {
  CODE,
  hyp,
  newAsm,
  PAGE,
  pageToSlot,
  phys,
  pvGuest,
  pvImage,
  runPv,
  shutdown,
  slot,
  slotValue,
  storePage,
  VECTORS,
} from "./guest.js";

const SH = LayoutsMips32.sharedInfo.offsets;
const BADVADDR_OFF = SH.vcpu_info! + LayoutsMips32.vcpuInfo.offsets["arch.badvaddr"]!;

describe("MIPS PV: the privileged-register page", () => {
  it("round-trips: guest stores reach the virtual CP0 at the next hypercall; Count/PRId/Config1 come back", async () => {
    const a = newAsm(CODE);
    storePage(a, "entryhi", 0x00402077);
    storePage(a, "epc", 0x00400abc);
    storePage(a, "compare", 0x12345678);
    storePage(a, "context", 0x00800000);
    pageToSlot(a, "count", 1);
    hyp(a, Hypercall.xen_version, 0);
    slot(a, 0);
    pageToSlot(a, "count", 2);
    pageToSlot(a, "prid", 3);
    pageToSlot(a, "config", 4);
    pageToSlot(a, "entryhi", 5);
    // Busy loop, then another hypercall: Count in the page moves on at each exit.
    a.li("t0", 1000).label("spin").addiu("t0", "t0", -1).bnez("t0", "spin").nop();
    hyp(a, Hypercall.xen_version, 0);
    pageToSlot(a, "count", 6);
    shutdown(a, "end");
    const { res } = await runPv([pvGuest("page", pvImage(a))]);
    const d = res.domains[0]!;
    expect(d.diagnostic).toBeNull();
    expect(d.exitValue).toBe(0);
    const v = res.vcpus[0]!;
    const r = v.vcp0.regs;
    expect(r.entryHi >>> 0).toBe(0x00402077);
    expect(r.epc >>> 0).toBe(0x00400abc);
    expect(r.compare >>> 0).toBe(0x12345678);
    expect((r.context >>> 0) & 0xff800000).toBe(0x00800000);
    expect(slotValue(v, 0)).toBe((4 << 16) | 19); // XENVER_version: Xen 4.19, as core-hypercalls.ts reports
    expect(slotValue(v, 5)).toBe(0x00402077);
    expect(slotValue(v, 3)).toBe(r.read(15, 0) >>> 0);
    expect(slotValue(v, 4)).toBe(r.read(16, 1) >>> 0);
    expect(((slotValue(v, 4) >>> 25) & 0x3f) + 1).toBe(16);
    // Count: a snapshot at each exit, advancing with simulated time.
    expect(slotValue(v, 2)).toBeGreaterThan(slotValue(v, 1));
    expect(slotValue(v, 6) - slotValue(v, 2)).toBeGreaterThan(1000);
    // shared_info.arch.privregs_pfn names the page.
    expect(phys(v, 0x1000 + SH["arch.privregs_pfn"]!)).toBe(disco.PRIVREGS_PFN);
    expect(PAGE - 0xc0000000).toBe(disco.PRIVREGS_PFN * 4096);
  });
});

/**
 * Registers the vectors, enters user mode at 0x00400000 through mips_eret with k0 = 0x1234, and
 * lets `user` decide what happens there; both vectors copy the page's exception registers and v0
 * to slots 8.. and shut down.
 */
function reflectionGuest(mapUser: boolean): Uint8Array {
  const a = newAsm(CODE);
  hyp(a, Hypercall.mips_set_vectors, VECTORS);
  slot(a, 0);
  hyp(a, Hypercall.mips_set_vectors, VECTORS + 4);
  slot(a, 1);
  hyp(a, Hypercall.mips_set_vectors, 0x80000000);
  slot(a, 2);
  if (mapUser) {
    // TLBWI: 0x00400000 (ASID 0) -> pfn 0x20 (holds a SYSCALL), V | D | C = 3.
    storePage(a, "index", 5);
    storePage(a, "entryhi", 0x00400000);
    storePage(a, "entrylo0", (0x20 << 6) | 0x1e);
    storePage(a, "entrylo1", 0);
    storePage(a, "pagemask", 0);
    hyp(a, Hypercall.mips_tlb_op, MipsTlbOp.tlbwi);
    slot(a, 3);
  }
  storePage(a, "status", 0x12); // KSU = user, EXL
  storePage(a, "epc", 0x00400000);
  a.li("k0", 0x1234);
  a.li("v0", Hypercall.mips_eret).word(0x42000028);
  a.label("no").b("no").nop();
  const vec = newAsm(VECTORS);
  const handler = (label: string) => {
    slot(vec, 14);
    pageToSlot(vec, "cause", 8);
    pageToSlot(vec, "epc", 9);
    pageToSlot(vec, "badvaddr", 10);
    pageToSlot(vec, "entryhi", 11);
    pageToSlot(vec, "status", 12);
    pageToSlot(vec, "context", 13);
    shutdown(vec, label);
  };
  handler("refill_end");
  while (vec.pc >>> 0 < VECTORS + 0x180) vec.nop();
  vec.li("t0", 0x180);
  slot(vec, 15, "t0");
  handler("general_end");
  const user = new Uint8Array(4);
  new DataView(user.buffer).setUint32(0, 0x0000000c, true); // SYSCALL
  return pvImage(a, vec, [{ pa: 0x20000 - 0x10000 + 0x10000, bytes: user }]);
}

describe("MIPS PV: exceptions reflected through the page", () => {
  it("a user TLB miss goes to the refill vector with cause/epc/badvaddr/entryhi in the page", async () => {
    const { res } = await runPv([pvGuest("refill", reflectionGuest(false))]);
    const d = res.domains[0]!;
    expect(d.diagnostic).toBeNull();
    expect(d.exitValue).toBe(0);
    const v = res.vcpus[0]!;
    expect(slotValue(v, 0)).toBe(0);
    expect(slotValue(v, 1) | 0).toBe(Errno.EINVAL);
    expect(slotValue(v, 2) | 0).toBe(Errno.EINVAL);
    expect(slotValue(v, 14)).toBe(0x1234); // v0 := k0 by mips_eret
    expect((slotValue(v, 8) >>> 2) & 31).toBe(2); // TLBL
    expect(slotValue(v, 9)).toBe(0x00400000);
    expect(slotValue(v, 10)).toBe(0x00400000);
    expect(slotValue(v, 11) & 0xffffe000).toBe(0x00400000);
    expect(slotValue(v, 12) & 0x1a).toBe(0x12); // user KSU kept, EXL set
    expect(slotValue(v, 13) & 0x007ffff0).toBe((0x00400000 >>> 13) << 4);
    expect(slotValue(v, 15)).toBe(0); // not the general vector
    // shared_info.vcpu_info[0].arch.badvaddr duplicates the fault address.
    expect(phys(v, 0x1000 + BADVADDR_OFF)).toBe(0x00400000);
  });

  it("a user SYSCALL (page mapped by mips_tlb_op) goes to the general vector", async () => {
    const { res } = await runPv([pvGuest("syscall", reflectionGuest(true))]);
    const d = res.domains[0]!;
    expect(d.diagnostic).toBeNull();
    const v = res.vcpus[0]!;
    expect(slotValue(v, 3)).toBe(0);
    expect(slotValue(v, 15)).toBe(0x180);
    expect((slotValue(v, 8) >>> 2) & 31).toBe(8); // Sys
    expect(slotValue(v, 9)).toBe(0x00400000);
    expect(res.domains[0]!.stats.reflectedByCause[8]).toBe(1);
  });
});
