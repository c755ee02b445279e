/**
 * Reflecting an exception into the guest: what the hardware does on exception entry (MD00090
 * §6.2 "General exception processing", Table 6.3 vectors), done by the monitor on the virtual
 * CP0 — EPC and Cause.BD only when EXL was 0, Cause.ExcCode/CE, BadVAddr for address errors,
 * BadVAddr + Context.BadVPN2 + EntryHi.VPN2 (the guest's current ASID kept) for TLB exceptions,
 * EXL = 1 — then the guest continues at its vector: the refill vector (offset 0) only for a TLB
 * miss taken with EXL = 0, the interrupt vector (0x200) for interrupts with Cause.IV, the
 * general vector (0x180) otherwise.
 *
 * Vectors of an unrelinked kernel are its kseg0 ones (0x80000000 + offset); a kernel relinked
 * into ksseg gets the relinked vectors, kseg0 vector + 0x40000000 (DESIGN.md, Disco). A vector
 * that lies outside the guest's memory or holds no code (its first word 0 — an exception storm
 * natively) crashes the domain with a diagnostic instead of hanging.
 */
import { mips } from "../../machine/index.js";
import type { DiscoVcpu } from "./disco-vcpu.js";

const { Cause, ExcCode, Status } = mips;

/** The guest vector an exception goes to, as the virtual CPU's Status/Cause select it (before EXL is set). */
export function vectorFor(status: number, cause: number, code: number, refill: boolean): number {
  const exl = (status & Status.EXL) !== 0;
  const off = refill && !exl ? 0 : code === ExcCode.Int && cause & Cause.IV ? 0x200 : 0x180;
  return status & Status.BEV ? (0xbfc00200 + off) | 0 : (0x80000000 + off) | 0;
}

/**
 * Raises exception `code` in the guest for the instruction at `epc` (its branch if `bd`), with
 * `badVAddr` for address and TLB exceptions and `ce` for Coprocessor Unusable, and points the
 * vCPU at the guest's handler. Returns false if the domain was crashed instead.
 */
export function reflectException(
  v: DiscoVcpu,
  code: number,
  epc: number,
  bd: boolean,
  badVAddr: number,
  refill: boolean,
  ce: number,
): boolean {
  const r = v.vcp0.regs;
  const s = r.status;
  const exl = (s & Status.EXL) !== 0;
  const vector = vectorFor(s, r.cause, code, refill);
  let cause = r.cause & ~(Cause.EXC_MASK | Cause.CE_MASK);
  cause |= (code << Cause.EXC_SHIFT) | ((ce & 3) << Cause.CE_SHIFT);
  if (!exl) {
    r.epc = epc >>> 0;
    cause = bd ? cause | Cause.BD : cause & ~Cause.BD;
  }
  r.cause = cause >>> 0;
  if (code === ExcCode.AdEL || code === ExcCode.AdES) r.badVAddr = badVAddr >>> 0;
  else if (code === ExcCode.TLBL || code === ExcCode.TLBS || code === ExcCode.Mod) r.setTlbFault(badVAddr);
  r.status = (s | Status.EXL) >>> 0;
  const name = mips.EXC_NAMES[code] ?? `ExcCode ${code}`;
  if (s & Status.BEV) {
    v.crash(
      `${name} exception with Status.BEV = 1: its vector ${hex(vector)} is in the empty boot ROM (clear BEV and install handlers)`,
      epc,
    );
    return false;
  }
  // PV mode: the vectors the guest registered (HYPERVISOR_mips_set_vectors), in ksseg.
  const pvBase = v.pv ? v.pv.vectorBase : 0;
  const target = v.pv ? (pvBase + (vector & 0xfff)) | 0 : (vector + v.vectorOffset) | 0;
  const pa = v.pv ? (target - 0xc0000000) >>> 0 : vector & 0x1fffffff;
  const pfn = (pa >>> 12) | 0;
  const mfn = v.pmap.lookup(pfn);
  if (
    (v.pv && pvBase === 0) ||
    pfn >= v.pmap.nrPfns ||
    mfn < 0 ||
    v.machine.memory.read32(mfn * 4096 + (pa & 0xfff)) === 0
  ) {
    v.crash(
      `${name} exception: no handler at the guest's vector ${hex(target)} (outside memory or empty)`,
      epc,
    );
    return false;
  }
  v.setPc(target);
  v.syncHardware();
  return true;
}

function hex(x: number): string {
  return `0x${(x >>> 0).toString(16).padStart(8, "0")}`;
}
