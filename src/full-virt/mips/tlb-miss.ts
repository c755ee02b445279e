/**
 * The monitor's TLB-miss path (the seed's `tlb_miss_handler`; Disco SOSP'97 §4.2.2). The
 * hardware TLB holds only what the monitor wrote, so every TLB exception of a guest comes here:
 *
 *  - ksseg (0xC0000000–0xDFFFFFFF) in the guest's kernel mode: the guest's kseg0 alias. The
 *    monitor maps 0xC0000000 + x onto pmap[x] itself, never through guest TLB entries (guest
 *    entries for ksseg — the boot stub's wired ones — are kept in the virtual TLB, where TLBR and
 *    TLBP see them, but the alias takes precedence);
 *  - kuseg while the guest's Status.ERL = 1: unmapped, so the same direct mapping;
 *  - otherwise: l2tlb hit with a valid half → tlbwrite with the machine address (a pmap frame
 *    taken on demand); a hit on an invalid half, or a store to a clean half, is the guest's TLB
 *    invalid / modified exception; no entry → reflected to the guest's refill vector (general
 *    vector when its EXL = 1).
 */
import { mips } from "../../machine/index.js";
import type { DiscoVcpu } from "./disco-vcpu.js";
import { DiscoRow } from "./stats.js";

const { ExcCode } = mips;
type MipsTrap = mips.MipsTrap;

/** EntryLo bits (MD00090 §9.2.3). */
const LO_V = 2;
const LO_D = 4;
const LO_C_MASK = 7 << 3;
/** Cacheable, noncoherent (C = 3) for the monitor's own direct mappings. */
const LO_C_CACHED = 3 << 3;

/** Handles a TLBL/TLBS/Mod the CPU raised while the guest ran. */
export function tlbFault(v: DiscoVcpu, t: MipsTrap): void {
  const va = t.badVAddr >>> 0;
  const write = t.excCode !== ExcCode.TLBL;
  const fetch = t.excCode === ExcCode.TLBL && va === t.instrPc >>> 0;
  const c0 = v.machine.clock.cycles;
  if (v.vcp0.kernelMode && va >= 0xc0000000 && va < 0xe0000000) {
    directFill(v, t, va, 0xc0000000, fetch, c0);
    return;
  }
  if (va < 0x80000000 && v.vcp0.erl) {
    directFill(v, t, va, 0, fetch, c0);
    return;
  }
  tlbMissHandler(v, t, va, write, fetch);
}

/** Maps the 8 KiB pair around `va` onto guest-physical (va − base) in the hardware TLB. */
function directFill(v: DiscoVcpu, t: MipsTrap, va: number, base: number, fetch: boolean, c0: number): void {
  const pfn = ((va - base) >>> 12) & ~1;
  if (pfn + (((va >>> 12) & 1) as number) >= v.pmap.nrPfns) {
    // Natively an access beyond RAM through kseg0 is a bus error.
    v.reflect(fetch ? ExcCode.IBE : ExcCode.DBE, t, 0, false, DiscoRow.otherReflected);
    return;
  }
  const lo0 = directLo(v, pfn);
  const lo1 = directLo(v, pfn + 1);
  if (lo0 === -2 || lo1 === -2) {
    v.crash("out of machine memory for the guest's pages", t.instrPc);
    return;
  }
  v.machine.tlbWrite(v, va & ~0x1fff, v.currentHwAsid(), lo0, lo1);
  v.monitorCharge(DiscoRow.tlbMissMonitor, v.machine.costs.monitorTlbRefill, v.machine.clock.cycles - c0);
  v.noteMonitorFill();
}

function directLo(v: DiscoVcpu, pfn: number): number {
  if (pfn >= v.pmap.nrPfns) return 0;
  const mfn = v.pmap.ensure(pfn);
  if (mfn < 0) return mfn === -2 ? -2 : 0;
  v.pmap.recordMapping(mfn, 0xc0000000 + pfn * 4096);
  return (mfn << 6) | LO_C_CACHED | (v.pmap.writable(pfn) ? LO_D : 0) | LO_V;
}

/**
 * tlb_miss_handler(VA): l2tlb lookup; on a usable hit write the hardware TLB with machine
 * addresses (monitor-handled), else reflect the guest's own TLB exception.
 */
export function tlbMissHandler(v: DiscoVcpu, t: MipsTrap, va: number, write: boolean, fetch: boolean): void {
  const c0 = v.machine.clock.cycles;
  const l2 = v.l2tlb;
  const i = l2.lookup(va, v.vcp0.asid);
  const code = write ? ExcCode.TLBS : ExcCode.TLBL;
  if (i < 0) {
    v.reflect(code, t, va, true, DiscoRow.tlbMissReflected);
    return;
  }
  const lo = l2.loFor(i, va);
  const unusable = (lo & LO_V) === 0 || (write && (lo & LO_D) === 0);
  if (unusable && v.vcp0.tlb.probe(((va & 0xffffe000) | v.vcp0.asid) >>> 0) < 0) {
    // The entry would raise TLB invalid / modified, but the guest's own TLB no longer holds it
    // (a TLBWR evicted it): natively this access refills from the guest's page table, which the
    // guest may have changed since. Forget the cached copy and reflect the refill.
    l2.remove(
      (l2.vpn2[i]! | l2.asid[i]!) >>> 0,
      l2.mask[i]!,
      l2.lo0[i]! | l2.global[i]!,
      l2.lo1[i]! | l2.global[i]!,
    );
    v.machine.tlbInvalidate(v.serial, va);
    v.reflect(code, t, va, true, DiscoRow.tlbMissReflected);
    return;
  }
  if ((lo & LO_V) === 0) {
    v.reflect(code, t, va, false, DiscoRow.tlbMissReflected);
    return;
  }
  if (write && (lo & LO_D) === 0) {
    v.reflect(ExcCode.Mod, t, va, false, DiscoRow.tlbMissReflected);
    return;
  }
  if (write && !v.pmap.writable(l2.pfnFor(i, va))) {
    v.crash("store to a read-only machine frame (no copy-on-write for full-virtualized guests)", t.instrPc);
    return;
  }
  const pair = (va & ~0x1fff) >>> 0;
  const lo0 = machineLo(v, i, pair);
  const lo1 = machineLo(v, i, pair + 0x1000);
  if (lo0 === -2 || lo1 === -2) {
    v.crash("out of machine memory for the guest's pages", t.instrPc);
    return;
  }
  const mine = (va & 0x1000 ? lo1 : lo0) as number;
  if (mine === -1) {
    // The guest mapped a frame beyond its memory: natively a bus error on the access.
    v.reflect(fetch ? ExcCode.IBE : ExcCode.DBE, t, 0, false, DiscoRow.otherReflected);
    return;
  }
  v.machine.tlbWrite(v, pair, v.currentHwAsid(), Math.max(lo0, 0), Math.max(lo1, 0));
  v.monitorCharge(DiscoRow.tlbMissMonitor, v.machine.costs.monitorTlbRefill, v.machine.clock.cycles - c0);
  v.noteMonitorFill();
}

/**
 * The hardware EntryLo for the 4 KiB page at `pageVa` through l2tlb slot `i`: machine PFN from
 * the pmap (filled on demand), the guest's C and V, D only if the guest set it and the frame is
 * writable, G never. 0 for an invalid half; -1 if the guest frame is outside its memory; -2 if
 * no machine frame is left.
 */
export function machineLo(v: DiscoVcpu, i: number, pageVa: number): number {
  const l2 = v.l2tlb;
  const lo = l2.loFor(i, pageVa);
  if ((lo & LO_V) === 0) return lo & LO_C_MASK;
  const pfn = l2.pfnFor(i, pageVa);
  const mfn = v.pmap.ensure(pfn);
  if (mfn < 0) return mfn;
  v.pmap.recordMapping(mfn, pageVa);
  const d = lo & LO_D && v.pmap.writable(pfn) ? LO_D : 0;
  return (mfn << 6) | (lo & LO_C_MASK) | d | LO_V;
}
