/**
 * The seed's `privilege_trap_handler`: a privileged instruction executed by the guest's kernel
 * in supervisor mode raises Coprocessor Unusable (CE = 0); the monitor decodes it with the CPU's
 * decode table and emulates it against the vCPU's virtual CP0 and virtual TLB, then continues
 * after it (with its branch, if it sat in a delay slot). Also here: the seed's
 * `emulate_tlbwrite_instruction` and `emulate_tlbread_instruction`.
 */
import { mips } from "../../machine/index.js";
import { branchOutcome } from "./device-emulation.js";
import type { DiscoVcpu } from "./disco-vcpu.js";
import { DiscoRow } from "./stats.js";
import { machineLo } from "./tlb-miss.js";

const { ExcCode, Fields, decodeDef, Cp0Reg } = mips;
type MipsTrap = mips.MipsTrap;

/** What `privilegeTrapHandler` asks the run loop to do next. */
export const PrivResult = {
  /** Emulated; go on. */
  done: 0,
  /** WAIT with no deliverable interrupt: block the vCPU until one arrives. */
  wait: 1,
  /** The domain was crashed, or an exception reflected: the PC is already set. */
  stop: 2,
} as const;
export type PrivResult = (typeof PrivResult)[keyof typeof PrivResult];

/** privilege_trap_handler(addr): decode the instruction at the trapping PC and emulate it. */
export function privilegeTrapHandler(v: DiscoVcpu, t: MipsTrap): PrivResult {
  const c0 = v.machine.clock.cycles;
  const cpu = v.machine.cpu;
  const word = v.fetchWord(t.instrPc);
  if (word === null) {
    v.crash("cannot read the privileged instruction", t.instrPc);
    return PrivResult.stop;
  }
  const d = decodeDef(word);
  const gpr = cpu.gpr;
  const r = v.vcp0.regs;
  // In a delay slot: the branch's outcome first (the emulation may overwrite its registers).
  let next = (t.instrPc + 4) | 0;
  if (t.bd) {
    const bw = v.fetchWord(t.pc);
    next = bw === null ? -1 : branchOutcome(bw, t.pc, gpr);
    if (next === -1) {
      v.crash("privileged instruction in a delay slot whose branch cannot be decoded", t.pc);
      return PrivResult.stop;
    }
  }
  // The emulated instruction retires as a guest instruction (the virtual Random counts it).
  v.vcp0.instructions++;
  let row: DiscoRow = DiscoRow.otherPrivileged;
  let result: PrivResult = PrivResult.done;
  switch (d.name) {
    case "mfc0": {
      const rt = Fields.rt(word);
      const val = r.read(Fields.rd(word), word & 7);
      if (rt !== 0) gpr[rt] = val | 0;
      break;
    }
    case "mtc0":
      r.write(Fields.rd(word), word & 7, gpr[Fields.rt(word)]!);
      break;
    case "tlbwi":
      emulateTlbwriteInstruction(v, r.index & 15, true);
      row = DiscoRow.tlbWrite;
      break;
    case "tlbwr":
      emulateTlbwriteInstruction(v, r.random, false);
      row = DiscoRow.tlbWrite;
      break;
    case "tlbr":
      emulateTlbreadInstruction(v, r.index & 15);
      break;
    case "tlbp": {
      const i = v.vcp0.tlb.probe(r.entryHi);
      r.index = i < 0 ? 0x80000000 : i;
      if (i < 0) {
        // The guest now believes nothing translates EntryHi (the probe-then-invalidate idiom
        // after a page-table change): the l2tlb and the hardware must not either.
        v.l2tlb.remove(r.entryHi, 0, 0, 0);
        v.machine.tlbInvalidate(v.serial, r.entryHi);
      }
      break;
    }
    case "eret": {
      next = v.vcp0.eret();
      cpu.cp0.llBit = 0;
      const u = next >>> 0;
      const pa = u & 0x1fffffff;
      if (next & 3 || (u >= 0x80000000 && u < 0xc0000000 && pa >= v.pmap.nrPfns * 4096)) {
        v.crash(
          `ERET to an impossible state: PC ${hex(next)} (unaligned, or kseg0/kseg1 outside the guest's memory)`,
          t.instrPc,
        );
        return PrivResult.stop;
      }
      break;
    }
    case "wait":
      if (!r.interruptReady) result = PrivResult.wait;
      break;
    case "cache":
      // Caches are not modelled: CACHE operations are no-ops (after the CP0 usability check).
      break;
    case "hypcall":
      if (!v.host.hypercall) {
        // No PV interface: what an R1 CPU does in kernel mode (RI).
        v.reflect(ExcCode.RI, t, 0, false, DiscoRow.otherReflected);
        return PrivResult.stop;
      }
      v.host.hypercall(gpr);
      if (v.pv) {
        // PV mode: a return from exception (mips_eret, mips_tlb_op's eret flag) moves the PC.
        next = v.pv.afterHypercall(next);
        if (next === -1) return PrivResult.stop;
      }
      row = DiscoRow.monitorCall;
      break;
    default:
      // Reserved COP0 encodings: Reserved Instruction, as in kernel mode.
      v.reflect(ExcCode.RI, t, 0, false, DiscoRow.otherReflected);
      return PrivResult.stop;
  }
  v.setPc(next);
  v.syncHardware();
  const cost = row === DiscoRow.monitorCall ? v.machine.costs.hypercall : v.machine.costs.emulatePrivileged;
  v.monitorCharge(row, cost, v.machine.clock.cycles - c0);
  return result;
}

/**
 * emulate_tlbwrite_instruction: the guest's TLBWI/TLBWR of EntryHi/PageMask/EntryLo0/1 at
 * `index`. Writes the guest's architectural TLB and caches the entry in the l2tlb (tlb_insert);
 * fills the pmap on demand for the frames it maps; then tlbwrite with machine addresses when the
 * entry is for the guest's current address space. An explicit-index write (TLBWI — the update
 * and invalidate idiom) also drops the translation it overwrites from the l2tlb and the hardware;
 * a TLBWR's random eviction does not (the l2tlb is the larger cache, Disco §4.2.2).
 */
export function emulateTlbwriteInstruction(v: DiscoVcpu, index: number, explicit: boolean): void {
  const r = v.vcp0.regs;
  const vtlb = v.vcp0.tlb;
  if (explicit) {
    const old = vtlb.read(index);
    v.l2tlb.remove(old.entryHi, old.pageMask, old.entryLo0, old.entryLo1);
    v.machine.tlbInvalidate(v.serial, old.entryHi);
  }
  const e = { entryHi: r.entryHi, pageMask: r.pageMask, entryLo0: r.entryLo0, entryLo1: r.entryLo1 };
  vtlb.write(index, e);
  const slot = v.l2tlb.insert(e.entryHi, e.pageMask, e.entryLo0, e.entryLo1);
  // Hardware copies of this VPN2 (other ASIDs of a global entry, an older version) are stale now.
  v.machine.tlbInvalidate(v.serial, e.entryHi);
  const va = (e.entryHi & 0xffffe000) >>> 0;
  const global = (e.entryLo0 & e.entryLo1 & 1) !== 0;
  if (e.pageMask === 0 && (global || (e.entryHi & 0xff) === v.vcp0.asid) && !v.isDirectRegion(va)) {
    const lo0 = machineLo(v, slot, va);
    const lo1 = machineLo(v, slot, va + 0x1000);
    // Frames beyond the guest's memory or the machine's are left to the miss path to report.
    if (lo0 >= 0 && lo1 >= 0) v.machine.tlbWrite(v, va, v.currentHwAsid(), lo0, lo1);
  }
}

/**
 * emulate_tlbread_instruction: TLBR of entry `index`. The answer comes from the guest's own
 * architectural TLB, which holds guest-physical PFNs — never the hardware TLB: every write to
 * the hardware is the monitor's, so the guest's copy is always up to date.
 */
export function emulateTlbreadInstruction(v: DiscoVcpu, index: number): void {
  const e = v.vcp0.tlb.read(index);
  const r = v.vcp0.regs;
  r.pageMask = e.pageMask;
  r.entryLo0 = e.entryLo0;
  r.entryLo1 = e.entryLo1;
  r.entryHi = e.entryHi;
}

/** CP0 register numbers the emulation names (re-exported for tests). */
export { Cp0Reg };

function hex(x: number): string {
  return `0x${(x >>> 0).toString(16).padStart(8, "0")}`;
}
