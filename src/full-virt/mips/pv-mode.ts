/**
 * Disco's PV mode (the "HAL change" of Bugnion et al., SOSP 1997 §4.4, and docs/mips-pv-abi.md):
 * a per-domain flag on a Disco vCPU. The guest kernel still runs in supervisor mode, but
 *
 *  - its virtual CP0 is backed by the privileged-register page (struct pvkit_mips_privregs, pfn
 *    in shared_info.arch.privregs_pfn): the monitor copies the page into the virtual CP0 at each
 *    hypervisor entry (`enter`, only fields the guest may write, only if changed) and the virtual
 *    CP0 into the page at each exit (`exit`), so MFC0/MTC0 become plain loads/stores;
 *  - exceptions are reflected (reflect.ts, unchanged) and land at the vectors registered with
 *    HYPERVISOR_mips_set_vectors instead of kseg0 vector + 0x40000000;
 *  - TLBWI/TLBWR/TLBP and ERET become HYPERVISOR_mips_tlb_op and HYPERVISOR_mips_eret.
 *
 * The hypercall handlers here are plain functions of the vCPU; the adapter above (run-full.ts)
 * plugs them into the hypervisor's dispatcher (`registerMipsPvHypercalls`) — src/full-virt does
 * not import src/hypervisor (DESIGN.md "Layers").
 */
import {
  Errno,
  Hypercall,
  LayoutsMips32,
  MIPS_TLB_BATCH_MAX,
  MipsTlbIndex,
  MipsTlbOp,
} from "../../hypercalls/index.js";
import { mips } from "../../machine/index.js";
import type { DiscoVcpu } from "./disco-vcpu.js";
import { emulateTlbwriteInstruction } from "./privilege-trap.js";
import { DiscoRow } from "./stats.js";

const { Cause, Cp0Reg, Status, TLB_ENTRIES } = mips;

/** The pfn the monitor gives the privileged-register page: the first free one (docs/mips-pv-abi.md). */
export const PRIVREGS_PFN = 4;

const P = LayoutsMips32.mipsPrivregs!.offsets;
const E = LayoutsMips32.mipsTlbEntry!;
const SHARED_PRIVREGS_PFN = LayoutsMips32.sharedInfo.offsets["arch.privregs_pfn"]!;
const SHARED_BADVADDR =
  LayoutsMips32.sharedInfo.offsets.vcpu_info! + LayoutsMips32.vcpuInfo.offsets["arch.badvaddr"]!;

/** Page fields the guest may write (picked up at entry), with the CP0 register each backs. */
const GUEST_WRITABLE: readonly (readonly [number, number])[] = [
  [P.status!, Cp0Reg.Status],
  [P.epc!, Cp0Reg.EPC],
  [P.context!, Cp0Reg.Context],
  [P.entryhi!, Cp0Reg.EntryHi],
  [P.entrylo0!, Cp0Reg.EntryLo0],
  [P.entrylo1!, Cp0Reg.EntryLo1],
  [P.index!, Cp0Reg.Index],
  [P.pagemask!, Cp0Reg.PageMask],
  [P.wired!, Cp0Reg.Wired],
  [P.compare!, Cp0Reg.Compare],
  [P.errorepc!, Cp0Reg.ErrorEPC],
];

/** Every page field and the CP0 register (select) the monitor writes it from at exit. */
const ALL_FIELDS: readonly (readonly [number, number, number])[] = [
  [P.status!, Cp0Reg.Status, 0],
  [P.cause!, Cp0Reg.Cause, 0],
  [P.epc!, Cp0Reg.EPC, 0],
  [P.badvaddr!, Cp0Reg.BadVAddr, 0],
  [P.context!, Cp0Reg.Context, 0],
  [P.entryhi!, Cp0Reg.EntryHi, 0],
  [P.entrylo0!, Cp0Reg.EntryLo0, 0],
  [P.entrylo1!, Cp0Reg.EntryLo1, 0],
  [P.index!, Cp0Reg.Index, 0],
  [P.pagemask!, Cp0Reg.PageMask, 0],
  [P.wired!, Cp0Reg.Wired, 0],
  [P.count!, Cp0Reg.Count, 0],
  [P.compare!, Cp0Reg.Compare, 0],
  [P.errorepc!, Cp0Reg.ErrorEPC, 0],
  [P.prid!, Cp0Reg.PRId, 0],
  // `config` holds Config1 (select 1): MMUSize is what a kernel needs (docs/mips-pv-abi.md).
  [P.config!, Cp0Reg.Config, 1],
];

/** EntryLo.V (bit 1) and the PFN field (bits 29..6) — MD00090 §9.2.3. */
const ELO_V = 2;
const ELO_PFN_SHIFT = 6;
const ELO_PFN_MASK = 0xfffff;

export class MipsPvMode {
  /** Byte address of the privileged-register page in machine memory. */
  readonly pageBase: number;
  /** KVA of the guest's vector block (refill +0, general +0x180, interrupt +0x200); 0 = none yet. */
  vectorBase = 0;
  /** Set by HYPERVISOR_mips_eret (or the eret flag of mips_tlb_op); applied by `afterHypercall`. */
  private eretPending = false;
  /** Counters (tests, bench). */
  readonly counts = { tlbOps: 0, tlbEntries: 0, erets: 0, entries: 0, upcalls: 0 };

  constructor(readonly v: DiscoVcpu) {
    const mfn = v.pmap.ensure(PRIVREGS_PFN);
    if (mfn < 0) throw new Error(`${v.host.name}: no frame for the privileged-register page`);
    this.pageBase = mfn * 4096;
    const shared = v.pmap.lookup(1);
    if (shared < 0) throw new Error(`${v.host.name}: a PV domain needs its shared_info page (pfn 1)`);
    v.machine.memory.u8.fill(0, this.pageBase, this.pageBase + 4096);
    v.machine.memory.write32(shared * 4096 + SHARED_PRIVREGS_PFN, PRIVREGS_PFN);
  }

  /**
   * Boot state (docs/mips-pv-abi.md "Boot state"): virtual Status = 0 — the guest's kernel mode,
   * run in hardware supervisor mode — a0 = guest-physical start_info (0), PC = `entry`.
   */
  boot(entry: number): void {
    const v = this.v;
    v.vcp0.regs.write(Cp0Reg.Status, 0, 0);
    v.vcp0.regs.errorEpc = 0;
    v.gpr.fill(0);
    v.pc = entry | 0;
    if (v.machine.current === v) {
      v.machine.cpu.gpr.fill(0);
      v.machine.cpu.pc = entry | 0;
    }
    this.exit();
  }

  /** Hypervisor entry: the guest's stores to the page become the virtual CP0's state. */
  enter(): void {
    const m = this.v.machine.memory;
    const r = this.v.vcp0.regs;
    const base = this.pageBase;
    this.counts.entries++;
    let changed = false;
    for (let i = 0; i < GUEST_WRITABLE.length; i++) {
      const f = GUEST_WRITABLE[i]!;
      const val = m.read32(base + f[0]) >>> 0;
      // Only changed fields: writing Compare acknowledges the timer, writing Wired resets Random.
      if (val !== r.read(f[1], 0) >>> 0) {
        r.write(f[1], 0, val);
        changed = true;
      }
    }
    // A new ASID (EntryHi) or mode (Status) must reach the hardware before the trap is handled.
    if (changed) this.v.syncHardware();
  }

  /** Hypervisor exit: the virtual CP0 as the guest reads it (Count as of now). */
  exit(): void {
    const m = this.v.machine.memory;
    const r = this.v.vcp0.regs;
    const base = this.pageBase;
    for (let i = 0; i < ALL_FIELDS.length; i++) {
      const f = ALL_FIELDS[i]!;
      m.write32(base + f[0], r.read(f[1], f[2]) >>> 0);
    }
    const shared = this.v.pmap.lookup(1);
    if (shared >= 0) m.write32(shared * 4096 + SHARED_BADVADDR, r.badVAddr >>> 0);
  }

  /**
   * After a hypercall returned (v0 written): a pending return from exception takes effect —
   * ERET on the virtual CP0, v0 := k0 and a0 := k1 (the guest parks the interrupted v0/a0 there,
   * docs/mips-pv-abi.md). Returns the PC to continue at, or -1 if the domain was crashed.
   */
  afterHypercall(next: number): number {
    // The hypercall ended the domain (SCHEDOP_shutdown): nothing more to run.
    if (this.v.state === "halted") return -1;
    if (!this.eretPending) return next;
    this.eretPending = false;
    const v = this.v;
    const gpr = v.machine.cpu.gpr;
    const target = v.vcp0.eret();
    v.machine.cpu.cp0.llBit = 0;
    gpr[2] = gpr[26]!;
    gpr[4] = gpr[27]!;
    this.counts.erets++;
    const u = target >>> 0;
    const kernel = v.vcp0.kernelMode;
    if (target & 3 || (u >= 0x80000000 && !(kernel && u >= 0xc0000000 && u < 0xe0000000))) {
      v.crash(
        `mips_eret to an impossible PC ${hex(target)} (unaligned, or not kuseg/ksseg)`,
        v.machine.cpu.pc,
      );
      return -1;
    }
    return target;
  }

  // --- event upcalls (docs/mips-pv-abi.md "Upcall entry") -----------------------------------------

  /**
   * An upcall can be taken now: events need delivery (pending, not masked), the guest registered
   * an entry, and it is not at exception level (its handlers run with EXL set and must not be
   * re-entered; the upcall waits for their mips_eret, as an interrupt waits for EXL = 0).
   */
  upcallReady(): boolean {
    const up = this.v.host.upcalls;
    if (!up) return false;
    if ((this.v.vcp0.regs.status & (Status.EXL | Status.ERL)) !== 0) return false;
    return up.entry() !== 0 && up.needDelivery();
  }

  /**
   * Delivers the event upcall like an interrupt: virtual EPC = the interrupted PC, Cause.ExcCode =
   * Int, Status.EXL = 1 (the guest's kernel mode), evtchn_upcall_mask = 1, and the guest continues
   * at its event entry. The handler returns with HYPERVISOR_mips_eret like any exception handler.
   * An entry outside the domain's ksseg memory crashes the domain (nothing sane to run). The
   * caller has counted the world switch into the monitor.
   */
  deliverUpcall(): void {
    const v = this.v;
    const up = v.host.upcalls!;
    const m = v.machine;
    const entry = up.entry() >>> 0;
    const pfn = (entry - 0xc0000000) >>> 12;
    if (entry & 3 || entry < 0xc0000000 || entry >= 0xe0000000 || pfn >= v.pmap.nrPfns) {
      v.crash(`event upcall entry ${hex(entry)} is not a ksseg address in the domain's memory`, m.cpu.pc);
      return;
    }
    const c0 = m.clock.cycles;
    this.enter();
    const r = v.vcp0.regs;
    r.epc = m.cpu.pc >>> 0;
    r.cause = (r.cause & ~(Cause.EXC_MASK | Cause.BD)) >>> 0;
    r.status = (r.status | Status.EXL) >>> 0;
    up.delivered();
    v.syncHardware();
    v.setPc(entry);
    this.counts.upcalls++;
    this.exit();
    v.monitorCharge(DiscoRow.interrupts, m.costs.eventDeliver, m.clock.cycles - c0);
  }

  // --- the arch hypercalls --------------------------------------------------------------------

  /** HYPERVISOR_mips_set_vectors(base): ksseg KVA, 4 KiB aligned, inside the domain's memory. */
  setVectors(base: number): number {
    const u = base >>> 0;
    if (u & 0xfff || u < 0xc0000000 || u >= 0xe0000000) return Errno.EINVAL;
    const pfn = (u - 0xc0000000) >>> 12;
    if (pfn >= this.v.pmap.nrPfns) return Errno.EINVAL;
    this.vectorBase = u;
    return 0;
  }

  /** HYPERVISOR_mips_eret(): return from exception (after the entry sync of the page). */
  eret(): number {
    this.eretPending = true;
    return 0;
  }

  /**
   * HYPERVISOR_mips_tlb_op(cmd, arg, count). cmd & 0xff: tlbwi / tlbwr / tlbp (registers from the
   * page) or batch (`count` pvkit_mips_tlb_entry at guest-physical `arg`); cmd & MIPS_TLBOP_eret:
   * return from exception afterwards. Every argument is validated before anything is written
   * (a batch is all or nothing): -EINVAL for a bad command, index, PageMask or an EntryLo whose
   * valid frame lies outside the domain's pseudo-physical memory; -EFAULT for a batch not in it.
   */
  tlbOp(cmd: number, arg: number, count: number): number {
    const op = cmd & 0xff;
    if ((cmd & ~(0xff | MipsTlbOp.eret)) !== 0) return Errno.EINVAL;
    const r = this.v.vcp0.regs;
    let result = 0;
    switch (op) {
      case MipsTlbOp.tlbwi:
      case MipsTlbOp.tlbwr: {
        if (!this.entryOk(r.pageMask, r.entryLo0, r.entryLo1)) return Errno.EINVAL;
        const explicit = op === MipsTlbOp.tlbwi;
        emulateTlbwriteInstruction(this.v, explicit ? r.index & (TLB_ENTRIES - 1) : r.random, explicit);
        this.counts.tlbEntries++;
        break;
      }
      case MipsTlbOp.tlbp:
        result = this.probe(r.entryHi);
        break;
      case MipsTlbOp.batch:
        result = this.batch(arg, count);
        if (result < 0) return result;
        break;
      default:
        return Errno.EINVAL;
    }
    this.counts.tlbOps++;
    if (cmd & MipsTlbOp.eret) this.eretPending = true;
    return result;
  }

  /** TLBP of `entryHi` with Disco's probe-then-invalidate semantics (privilege-trap.ts). */
  private probe(entryHi: number): number {
    const v = this.v;
    const i = v.vcp0.tlb.probe(entryHi);
    v.vcp0.regs.index = i < 0 ? 0x80000000 : i;
    if (i < 0) {
      v.l2tlb.remove(entryHi, 0, 0, 0);
      v.machine.tlbInvalidate(v.serial, entryHi);
    }
    return i < 0 ? 0 : 1;
  }

  private batch(gpa: number, count: number): number {
    if (count === 0) return 0;
    if (count > MIPS_TLB_BATCH_MAX) return Errno.EINVAL;
    const size = count * E.size;
    const u = gpa >>> 0;
    // In one page of the domain (a batch never straddles pages: 16 × 20 bytes fit in one).
    if ((u & 3) !== 0 || (u & 0xfff) + size > 4096) return Errno.EFAULT;
    const mfn = this.v.pmap.lookup(u >>> 12);
    if (mfn < 0 || u >>> 12 >= this.v.pmap.nrPfns) return Errno.EFAULT;
    const m = this.v.machine.memory;
    const base = mfn * 4096 + (u & 0xfff);
    for (let k = 0; k < count; k++) {
      const e = base + k * E.size;
      const idx = m.read32(e + E.offsets.index!) >>> 0;
      if (idx >= TLB_ENTRIES && idx !== MipsTlbIndex.random && idx !== MipsTlbIndex.probe)
        return Errno.EINVAL;
      const pm = m.read32(e + E.offsets.pagemask!);
      if (!this.entryOk(pm, m.read32(e + E.offsets.entrylo0!), m.read32(e + E.offsets.entrylo1!)))
        return Errno.EINVAL;
    }
    const r = this.v.vcp0.regs;
    // The batch must not leave its entries in EntryHi (its ASID is the current address space).
    const saveHi = r.entryHi;
    const saveLo0 = r.entryLo0;
    const saveLo1 = r.entryLo1;
    const savePm = r.pageMask;
    let written = 0;
    for (let k = 0; k < count; k++) {
      const e = base + k * E.size;
      const idx = m.read32(e + E.offsets.index!) >>> 0;
      r.entryHi = m.read32(e + E.offsets.entryhi!) & 0xffffe0ff;
      r.entryLo0 = m.read32(e + E.offsets.entrylo0!) & 0x3fffffff;
      r.entryLo1 = m.read32(e + E.offsets.entrylo1!) & 0x3fffffff;
      r.pageMask = 0;
      if (idx === MipsTlbIndex.probe) {
        const i = this.v.vcp0.tlb.probe(r.entryHi);
        if (i < 0) {
          this.probe(r.entryHi);
          continue;
        }
        emulateTlbwriteInstruction(this.v, i, true);
      } else if (idx === MipsTlbIndex.random) {
        emulateTlbwriteInstruction(this.v, r.random, false);
      } else {
        emulateTlbwriteInstruction(this.v, idx, true);
      }
      written++;
    }
    r.entryHi = saveHi;
    r.entryLo0 = saveLo0;
    r.entryLo1 = saveLo1;
    r.pageMask = savePm;
    this.counts.tlbEntries += written;
    return written;
  }

  /** 4 KiB pages only; a valid half must map a frame of this domain. */
  private entryOk(pageMask: number, lo0: number, lo1: number): boolean {
    if (pageMask !== 0) return false;
    const n = this.v.pmap.nrPfns;
    if (lo0 & ELO_V && ((lo0 >>> ELO_PFN_SHIFT) & ELO_PFN_MASK) >= n) return false;
    if (lo1 & ELO_V && ((lo1 >>> ELO_PFN_SHIFT) & ELO_PFN_MASK) >= n) return false;
    return true;
  }
}

/** What `registerMipsPvHypercalls` needs of the hypervisor's dispatcher. */
export interface PvDispatcher {
  register(
    nr: number,
    handler: (call: { readonly domain: { readonly domid: number }; readonly args: Uint32Array }) => number,
    replace?: boolean,
  ): void;
  has(nr: number): boolean;
}

/**
 * Plugs HYPERVISOR_mips_tlb_op / mips_eret / mips_set_vectors into `dispatcher`, routed to the PV
 * vCPU of the calling domain (`lookup`); a domain without one gets -ENOSYS.
 */
export function registerMipsPvHypercalls(
  dispatcher: PvDispatcher,
  lookup: (domid: number) => MipsPvMode | undefined,
): void {
  if (dispatcher.has(Hypercall.mips_tlb_op)) return;
  dispatcher.register(Hypercall.mips_tlb_op, ({ domain, args }) => {
    const pv = lookup(domain.domid);
    return pv ? pv.tlbOp(args[0]!, args[1]!, args[2]!) : Errno.ENOSYS;
  });
  dispatcher.register(Hypercall.mips_eret, ({ domain }) => lookup(domain.domid)?.eret() ?? Errno.ENOSYS);
  dispatcher.register(
    Hypercall.mips_set_vectors,
    ({ domain, args }) => lookup(domain.domid)?.setVectors(args[0]!) ?? Errno.ENOSYS,
  );
}

function hex(x: number): string {
  return `0x${(x >>> 0).toString(16).padStart(8, "0")}`;
}
