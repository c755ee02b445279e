/**
 * CP0, the MIPS32 R1 system control coprocessor: registers with their writable masks, the lazily
 * computed Count/Random, and the Count/Compare timer on IP7.
 *
 * Register numbers, fields and masks: MIPS32 Architecture for Programmers Vol. III (MD00090) §9;
 * REFERENCE.md "MIPS32 CP0". Identification (PRId, Config, Config1) is that of a MIPS 4Kc, the
 * MIPS32 Release 1 core with a 16-entry TLB as QEMU defines it (target/mips/cpu-defs.c.inc, "4Kc":
 * PRId 0x00018000, Config1.MMUSize = 15), without FPU and with no MIPS16 (Config1.CA = 0).
 */
import type { SimClock, TimerHandle } from "../clock.js";
import { Cause, Mode, Status } from "./exc.js";
import type { Tlb } from "./tlb.js";

/** CP0 register numbers (MD00090 Table 9.1). */
export const Cp0Reg = {
  Index: 0,
  Random: 1,
  EntryLo0: 2,
  EntryLo1: 3,
  Context: 4,
  PageMask: 5,
  Wired: 6,
  BadVAddr: 8,
  Count: 9,
  EntryHi: 10,
  Compare: 11,
  Status: 12,
  Cause: 13,
  EPC: 14,
  PRId: 15,
  Config: 16,
  LLAddr: 17,
  ErrorEPC: 30,
} as const;

/** PRId of a MIPS 4Kc: company 1 (MIPS Technologies), processor 0x80, revision 0 (QEMU "4Kc"). */
export const PRID_4KC = 0x00018000;

/**
 * Config (sel 0): M = 1 (Config1 present), BE = 0 (little endian), AT = 0 (MIPS32), AR = 0
 * (Release 1), MT = 1 (standard TLB), K0 = 2 (uncached; K0 is the only writable field).
 */
export const CONFIG0_RESET = (1 << 31) | (1 << 7) | 2;
/**
 * Config1 (sel 1): M = 0 (no Config2), MMUSize-1 = 15 (16 entries), caches as the 4Kc
 * (16 KiB I/D: IS = 2 → 256 sets, IL = 3 → 16-byte lines, IA = 3 → 4-way), no FPU, no MIPS16,
 * no EJTAG, no watch registers, no performance counters.
 */
export const CONFIG1 = (15 << 25) | (2 << 22) | (3 << 19) | (3 << 16) | (2 << 13) | (3 << 10) | (3 << 7);

/**
 * Writable bits. Status: CU0, BEV, IM, KSU (both bits: pvkit implements supervisor mode, which
 * QEMU's cores lack), ERL, EXL, IE. CU1..3 read 0 (no FPU, no CP2); RE, TS, SR, NMI read 0.
 */
export const STATUS_WRITE_MASK = Status.CU0 | Status.BEV | Status.IM_MASK | Status.KSU_MASK | 0x7;
/** Cause: IV and the two software interrupt bits IP1..IP0. */
export const CAUSE_WRITE_MASK = Cause.IV | (3 << 8);
/** EntryHi: VPN2 (31..13) and ASID (7..0). */
export const ENTRYHI_MASK = 0xffffe0ff;
/** EntryLo: PFN (29..6), C (5..3), D, V, G. Bits 31..30 read 0. */
export const ENTRYLO_MASK = 0x3fffffff;
/** PageMask: Mask (28..13). */
export const PAGEMASK_MASK = 0x1fffe000;
/** Context: PTEBase (31..23); BadVPN2 (22..4) is written by TLB exceptions only. */
export const CONTEXT_PTEBASE_MASK = 0xff800000;

/** Number of TLB entries (Config1.MMUSize + 1). */
export const TLB_ENTRIES = 16;

/** Callbacks into the CPU for writes that change translation, privilege or interrupt state. */
export interface Cp0Hooks {
  /** Status (mode, ERL, CU0, BEV, IE/IM) or EntryHi.ASID changed. */
  stateChanged(): void;
  /** Retired instruction count, for the lazily computed Random register. */
  instructions(): number;
}

export class Cp0 {
  index = 0;
  entryLo0 = 0;
  entryLo1 = 0;
  context = 0;
  pageMask = 0;
  wired = 0;
  badVAddr = 0;
  entryHi = 0;
  compare = 0;
  status = Status.BEV | Status.ERL;
  /** Software-owned part of Cause (BD, CE, IV, IP1..0, ExcCode); IP7..2 come from `hwLines`. */
  cause = 0;
  epc = 0;
  errorEpc = 0;
  config0 = CONFIG0_RESET;
  /** LLAddr holds PAddr[35:4] (MD00090 §9.2.22); read-only. */
  llAddr = 0;
  /** The LL bit (not a register; cleared by ERET). */
  llBit = 0;
  /** Level of hardware interrupt lines IP2..IP7 as Cause bits (bits 10..15). */
  hwLines = 0;
  /** Timer interrupt pending (Count reached Compare; cleared by writing Compare). */
  timerPending = 0;

  /** Count = (cycles / 2 + countBias) mod 2^32: Count runs at half the pipeline clock (MD00090 §9.2.10). */
  private countBias = 0;
  private timer: TimerHandle | null = null;
  /** Cycle at which the current timer fires, or Infinity. */
  timerAt = Number.POSITIVE_INFINITY;
  /** Instruction count at which Random was last reset to 15 (reset or a write to Wired). */
  private randomEpoch = 0;

  constructor(
    private readonly clock: SimClock,
    private readonly tlb: Tlb,
    private readonly hooks: Cp0Hooks,
  ) {
    this.scheduleTimer();
  }

  /** Status.KSU/EXL/ERL as a privilege mode. KSU = 3 is reserved; treated as user. */
  get mode(): Mode {
    const s = this.status;
    if (s & (Status.EXL | Status.ERL)) return Mode.Kernel;
    const ksu = (s >>> Status.KSU_SHIFT) & 3;
    return ksu === 0 ? Mode.Kernel : ksu === 1 ? Mode.Supervisor : Mode.User;
  }

  /** Current Cause as software reads it, with the interrupt lines and the timer folded in. */
  get causeValue(): number {
    return (this.cause | this.hwLines | (this.timerPending << 15)) >>> 0;
  }

  /** Pending interrupt bits (Cause.IP & Status.IM), without the IE/EXL/ERL gate. */
  get pendingInterrupts(): number {
    return this.causeValue & this.status & Cause.IP_MASK;
  }

  /** True when an interrupt would be taken now (MD00090 §6.1.1 interrupt enable conditions). */
  get interruptReady(): boolean {
    const s = this.status;
    return (s & Status.IE) !== 0 && (s & (Status.EXL | Status.ERL)) === 0 && this.pendingInterrupts !== 0;
  }

  get count(): number {
    return (Math.floor(this.clock.cycles / 2) + this.countBias) >>> 0;
  }

  get random(): number {
    const span = TLB_ENTRIES - this.wired;
    if (span <= 0) return TLB_ENTRIES - 1;
    const n = this.hooks.instructions() - this.randomEpoch;
    return TLB_ENTRIES - 1 - (n % span);
  }

  /** MFC0: reads register `reg`, select `sel`. Unimplemented registers read 0 (MD00090 §9.1). */
  read(reg: number, sel: number): number {
    if (sel !== 0) {
      if (reg === Cp0Reg.Config && sel === 1) return CONFIG1 | 0;
      return 0;
    }
    switch (reg) {
      case Cp0Reg.Index:
        return this.index | 0;
      case Cp0Reg.Random:
        return this.random;
      case Cp0Reg.EntryLo0:
        return this.entryLo0 | 0;
      case Cp0Reg.EntryLo1:
        return this.entryLo1 | 0;
      case Cp0Reg.Context:
        return this.context | 0;
      case Cp0Reg.PageMask:
        return this.pageMask | 0;
      case Cp0Reg.Wired:
        return this.wired | 0;
      case Cp0Reg.BadVAddr:
        return this.badVAddr | 0;
      case Cp0Reg.Count:
        return this.count | 0;
      case Cp0Reg.EntryHi:
        return this.entryHi | 0;
      case Cp0Reg.Compare:
        return this.compare | 0;
      case Cp0Reg.Status:
        return this.status | 0;
      case Cp0Reg.Cause:
        return this.causeValue | 0;
      case Cp0Reg.EPC:
        return this.epc | 0;
      case Cp0Reg.PRId:
        return PRID_4KC;
      case Cp0Reg.Config:
        return this.config0 | 0;
      case Cp0Reg.LLAddr:
        return this.llAddr | 0;
      case Cp0Reg.ErrorEPC:
        return this.errorEpc | 0;
      default:
        return 0;
    }
  }

  /** MTC0: writes register `reg`, select `sel`, through its writable mask. */
  write(reg: number, sel: number, value: number): void {
    if (sel !== 0) return;
    value >>>= 0;
    switch (reg) {
      case Cp0Reg.Index:
        // P (bit 31) is read-only, set only by TLBP.
        this.index = (this.index & 0x80000000) | (value & (TLB_ENTRIES - 1));
        break;
      case Cp0Reg.EntryLo0:
        this.entryLo0 = value & ENTRYLO_MASK;
        break;
      case Cp0Reg.EntryLo1:
        this.entryLo1 = value & ENTRYLO_MASK;
        break;
      case Cp0Reg.Context:
        this.context = ((this.context & ~CONTEXT_PTEBASE_MASK) | (value & CONTEXT_PTEBASE_MASK)) >>> 0;
        break;
      case Cp0Reg.PageMask:
        this.pageMask = normalizePageMask(value);
        break;
      case Cp0Reg.Wired:
        this.wired = value & (TLB_ENTRIES - 1);
        // A write to Wired resets Random to its upper bound (MD00090 §9.2.2).
        this.randomEpoch = this.hooks.instructions();
        break;
      case Cp0Reg.Count:
        this.countBias = (value - Math.floor(this.clock.cycles / 2)) | 0;
        this.scheduleTimer();
        break;
      case Cp0Reg.EntryHi: {
        const old = this.entryHi;
        this.entryHi = value & ENTRYHI_MASK;
        if ((old ^ this.entryHi) & 0xff) this.hooks.stateChanged();
        break;
      }
      case Cp0Reg.Compare:
        this.compare = value;
        // Writing Compare acknowledges the timer interrupt (MD00090 §9.2.12).
        this.timerPending = 0;
        this.scheduleTimer();
        this.hooks.stateChanged();
        break;
      case Cp0Reg.Status:
        this.status = ((this.status & ~STATUS_WRITE_MASK) | (value & STATUS_WRITE_MASK)) >>> 0;
        this.hooks.stateChanged();
        break;
      case Cp0Reg.Cause:
        this.cause = ((this.cause & ~CAUSE_WRITE_MASK) | (value & CAUSE_WRITE_MASK)) >>> 0;
        this.hooks.stateChanged();
        break;
      case Cp0Reg.EPC:
        this.epc = value;
        break;
      case Cp0Reg.Config:
        this.config0 = ((this.config0 & ~7) | (value & 7)) >>> 0;
        break;
      case Cp0Reg.ErrorEPC:
        this.errorEpc = value;
        break;
      default:
        // Random, BadVAddr, PRId, LLAddr and unimplemented registers ignore writes.
        break;
    }
  }

  /** Sets the TLB exception fields for a faulting address (BadVAddr, Context.BadVPN2, EntryHi.VPN2). */
  setTlbFault(va: number): void {
    this.badVAddr = va >>> 0;
    this.context = ((this.context & CONTEXT_PTEBASE_MASK) | (((va >>> 13) << 4) & 0x007ffff0)) >>> 0;
    this.entryHi = ((va & 0xffffe000) | (this.entryHi & 0xff)) >>> 0;
  }

  /** Resets CP0 to its reset-exception state (MD00090 §6.2.1): BEV = 1, ERL = 1, Wired = 0. */
  resetState(): void {
    this.status = (Status.BEV | Status.ERL) >>> 0;
    this.cause = 0;
    this.wired = 0;
    this.index = 0;
    this.llBit = 0;
    this.config0 = CONFIG0_RESET;
    this.timerPending = 0;
    this.randomEpoch = this.hooks.instructions();
    this.scheduleTimer();
  }

  /** Reschedules the Count == Compare event on the clock (lazy Count: one event per match). */
  scheduleTimer(): void {
    this.clock.cancel(this.timer);
    const half = Math.floor(this.clock.cycles / 2);
    const now = (half + this.countBias) >>> 0;
    let delta = (this.compare - now) >>> 0;
    if (delta === 0) delta = 0x100000000;
    // The match happens when Count becomes Compare, i.e. at the first cycle where cycles/2 = half + delta.
    this.timerAt = (half + delta) * 2;
    this.timer = this.clock.schedule(this.timerAt, this.onTimer);
  }

  /** True if a Count/Compare match could be taken as an interrupt under the current Status. */
  get timerCanInterrupt(): boolean {
    const s = this.status;
    return (s & Status.IE) !== 0 && (s & (Status.EXL | Status.ERL)) === 0 && (s & (1 << 15)) !== 0;
  }

  /** The earliest clock deadline other than this CP0's own timer (Infinity if none). */
  foreignDeadline(): number {
    this.clock.cancel(this.timer);
    const d = this.clock.nextDeadline;
    this.timer = this.clock.schedule(this.timerAt, this.onTimer);
    return d;
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerPending = 1;
    this.hooks.stateChanged();
    this.scheduleTimer();
  };

  /** The TLB this CP0 belongs to (TLBR/TLBWI/TLBWR/TLBP operate on it through CP0 registers). */
  get tlbRef(): Tlb {
    return this.tlb;
  }
}

/**
 * PageMask values other than the architected 4K..256M masks are UNPREDICTABLE (MD00090
 * §9.2.6); pvkit keeps the contiguous low part of the written mask, so a bad value still gives a
 * well-formed page size.
 */
export function normalizePageMask(value: number): number {
  let m = (value & PAGEMASK_MASK) >>> 13; // 16 bits, one pair per page size
  let out = 0;
  for (let bit = 0; bit < 16; bit += 2) {
    if ((m & 3) !== 3) break;
    out |= 3 << bit;
    m >>>= 2;
  }
  return (out << 13) >>> 0;
}
