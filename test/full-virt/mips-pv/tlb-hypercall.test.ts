/**
 * HYPERVISOR_mips_tlb_op against hostile arguments (docs/mips-pv-abi.md): bad commands, flags,
 * indices, PageMasks, EntryLo frames outside the domain, batches too long, unaligned, straddling
 * a page or outside the domain → Xen errno, nothing written (a batch is all or nothing); valid
 * writes land in the guest's virtual TLB. Two such domains side by side under the hypervisor's
 * isolation oracle: no access to another domain's frame, no handler fault.
 */
import { describe, expect, it } from "vitest";
import { Errno, Hypercall, MipsTlbIndex, MipsTlbOp } from "../../../src/hypercalls/index.js";
import { CODE, hyp, newAsm, pvGuest, pvImage, runPv, slot, slotValue, storePage } from "./guest.js";

/** 4 MiB of guest RAM (ramMib 4): pfns 0..1023. */
const NR_PFNS = 1024;
const lo = (pfn: number) => ((pfn << 6) | 0x1e) >>> 0; // C = 3, D, V

function batch(entries: [number, number, number, number, number][]): Uint8Array {
  const b = new Uint8Array(entries.length * 20);
  const v = new DataView(b.buffer);
  for (const [i, e] of entries.entries()) {
    for (const [k, w] of e.entries()) v.setUint32(i * 20 + 4 * k, w >>> 0, true);
  }
  return b;
}

function hostileGuest(): Uint8Array {
  const a = newAsm(CODE);
  const tlb = (i: number, cmd: number, arg = 0, count = 0) => {
    hyp(a, Hypercall.mips_tlb_op, cmd, arg, count);
    slot(a, i);
  };
  tlb(0, 7);
  tlb(1, MipsTlbOp.tlbwi | 0x200);
  storePage(a, "index", 3);
  storePage(a, "entryhi", 0x00402000);
  storePage(a, "entrylo0", lo(NR_PFNS));
  storePage(a, "entrylo1", 0);
  tlb(2, MipsTlbOp.tlbwi);
  storePage(a, "entrylo0", lo(NR_PFNS - 1));
  tlb(3, MipsTlbOp.tlbwi);
  storePage(a, "pagemask", 0x6000);
  tlb(4, MipsTlbOp.tlbwi);
  storePage(a, "pagemask", 0);
  tlb(5, MipsTlbOp.batch, 0x13000, 17);
  tlb(6, MipsTlbOp.batch, 0x7fff0000, 1);
  tlb(7, MipsTlbOp.batch, 0x13002, 1);
  tlb(8, MipsTlbOp.batch, 0x13ff0, 2);
  tlb(9, MipsTlbOp.batch, 0x13000, 1);
  tlb(10, MipsTlbOp.batch, 0x13100, 2);
  tlb(11, MipsTlbOp.batch, 0x13200, 3);
  storePage(a, "entryhi", 0x00700000);
  tlb(12, MipsTlbOp.tlbp);
  a.li("t8", 0xc0004000).lw("t7", 32, "t8");
  slot(a, 13, "t7");
  hyp(a, Hypercall.sched_op, 2, 0x12f00);
  a.label("end").b("end").nop();
  return pvImage(a, undefined, [
    { pa: 0x13000, bytes: batch([[16, 0x00500000, lo(10), 0, 0]]) },
    {
      pa: 0x13100,
      bytes: batch([
        [2, 0x00500000, lo(10), lo(11), 0],
        [4, 0x00502000, lo(2000), 0, 0],
      ]),
    },
    {
      pa: 0x13200,
      bytes: batch([
        [MipsTlbIndex.random, 0x00600000, lo(12), lo(13), 0],
        [MipsTlbIndex.probe, 0x00680000, lo(14), 0, 0],
        [7, 0x00700000, lo(15), lo(16), 0],
      ]),
    },
  ]);
}

describe("MIPS PV: HYPERVISOR_mips_tlb_op validation", () => {
  it("answers hostile arguments with errno, writes only valid entries, never another domain's frame", async () => {
    const img = hostileGuest();
    const { res } = await runPv([pvGuest("a", img), pvGuest("b", img)], true);
    expect(res.hypervisor.oracleViolations).toEqual([]);
    expect(res.hypervisor.dispatcher.handlerFaults).toBe(0);
    for (const [i, d] of res.domains.entries()) {
      expect(d.diagnostic).toBeNull();
      expect(d.exitValue).toBe(0);
      const v = res.vcpus[i]!;
      const r = (k: number) => slotValue(v, k) | 0;
      expect(r(0)).toBe(Errno.EINVAL); // unknown command
      expect(r(1)).toBe(Errno.EINVAL); // unknown flag
      expect(r(2)).toBe(Errno.EINVAL); // frame outside the domain
      expect(r(3)).toBe(0);
      expect(r(4)).toBe(Errno.EINVAL); // PageMask other than 4 KiB
      expect(r(5)).toBe(Errno.EINVAL); // batch longer than the TLB
      expect(r(6)).toBe(Errno.EFAULT); // batch outside the domain
      expect(r(7)).toBe(Errno.EFAULT); // unaligned
      expect(r(8)).toBe(Errno.EFAULT); // straddles a page
      expect(r(9)).toBe(Errno.EINVAL); // index 16
      expect(r(10)).toBe(Errno.EINVAL); // second entry's frame outside: nothing written
      expect(r(11)).toBe(2); // random + index 7 written, the probe found nothing
      expect(r(12)).toBe(1); // TLBP found 0x00700000
      expect(r(13)).toBe(7); // ... at index 7, in the page's index
      const tlb = v.vcp0.tlb;
      expect(tlb.read(3).entryLo0 >>> 6).toBe(NR_PFNS - 1);
      expect(tlb.read(2).entryHi >>> 0).not.toBe(0x00500000);
      expect(tlb.read(7).entryHi >>> 0).toBe(0x00700000);
      expect(tlb.read(7).entryLo1 >>> 6).toBe(16);
      // Every frame the domain's pmap maps is its own.
      const owner = res.hypervisor.machineMemory;
      for (let pfn = 0; pfn < v.pmap.nrPfns; pfn++) {
        const mfn = v.pmap.lookup(pfn);
        if (mfn >= 0) expect(owner.owner(mfn)).toBe(i);
      }
    }
  });
});

describe("MIPS PV: arch hypercalls outside PV mode, exceptions before set_vectors", () => {
  it("a fully virtualized domain beside a PV one gets -ENOSYS from mips_tlb_op", async () => {
    // Full guest: relinked raw image at physical 0 (no start_info there), exit port 0x501.
    const f = newAsm(0xc0001000);
    hyp(f, Hypercall.mips_tlb_op, MipsTlbOp.tlbwr);
    f.li("t0", 0xc0003000).sw("v0", 0, "t0");
    f.li("k1", 0xbfd00000).sb("zero", 0x501, "k1").label("e").b("e").nop();
    const img = new Uint8Array(0x4000);
    img.set(f.bytes(), 0x1000);
    const pvCode = newAsm(CODE);
    hyp(pvCode, Hypercall.sched_op, 2, 0x12f00);
    pvCode.label("x").b("x").nop();
    const { res } = await runPv([
      { name: "full", file: "full", bytes: img, raw: { physical: 0, entry: 0xc0001000, relinked: true } },
      pvGuest("pv", pvImage(pvCode)),
    ]);
    expect(res.domains.map((d) => d.exitValue)).toEqual([0, 0]);
    const v = res.vcpus[0]!;
    const mfn = v.pmap.lookup(3);
    expect(v.machine.memory.u32[(mfn * 4096) >>> 2]! | 0).toBe(Errno.ENOSYS);
  });

  it("an exception before mips_set_vectors crashes the domain with a diagnostic", async () => {
    const a = newAsm(CODE);
    a.word(0x0000000d); // BREAK
    a.label("x").b("x").nop();
    const { res } = await runPv([pvGuest("novec", pvImage(a))]);
    const d = res.domains[0]!;
    expect(d.state).toBe("crashed");
    expect(d.diagnostic).toContain("no handler at the guest's vector");
  });
});
