/**
 * The per-vCPU virtual CP0: the machine's own `Cp0` class instantiated a second time over a
 * virtual architectural TLB, so the guest sees exactly the registers, writable masks and side
 * effects of the real coprocessor (Count/Compare timer on virtual IP7, Random counting down
 * between Wired and 15, Wired resetting Random, Compare acknowledging the timer, Context/EntryHi
 * on TLB faults). Nothing is re-typed here; the monitor only adds what the hardware does in the
 * exception and ERET paths (reflect.ts, `eret` below).
 *
 * The virtual TLB holds the guest's 16 entries with guest-physical PFNs (what TLBR and TLBP see).
 */
import { mips, type SimClock } from "../../machine/index.js";

const { TLB_ENTRIES, Status, Mode } = mips;

export class VirtualCp0 {
  /** The guest's architectural TLB (guest-physical PFNs). */
  readonly tlb: mips.Tlb;
  /** The registers, with the real CP0's masks and side effects. */
  readonly regs: mips.Cp0;
  /** Guest instructions retired (drives the virtual Random register). */
  instructions = 0;

  constructor(clock: SimClock, onChange: () => void) {
    this.tlb = new mips.Tlb(TLB_ENTRIES);
    this.regs = new mips.Cp0(clock, this.tlb, {
      stateChanged: onChange,
      instructions: () => this.instructions,
    });
  }

  /** Reset state as QEMU's -kernel leaves it (Status = BEV | ERL, Wired 0, Compare 0, TLB invalid). */
  reset(): void {
    this.regs.write(9, 0, 0);
    this.regs.compare = 0;
    this.regs.resetState();
    this.regs.entryHi = 0;
    this.tlb.flush();
  }

  /** True in the guest's (virtual) kernel mode: KSU = 0 or EXL or ERL. */
  get kernelMode(): boolean {
    return this.regs.mode === Mode.Kernel;
  }

  /** The guest's current ASID (EntryHi[7:0]). */
  get asid(): number {
    return this.regs.entryHi & 0xff;
  }

  get erl(): boolean {
    return (this.regs.status & Status.ERL) !== 0;
  }

  /**
   * ERET (MD00086): to ErrorEPC clearing ERL if ERL, else to EPC clearing EXL; clears the LL bit.
   * Returns the new PC.
   */
  eret(): number {
    const r = this.regs;
    let pc: number;
    if (r.status & Status.ERL) {
      pc = r.errorEpc | 0;
      r.status = (r.status & ~Status.ERL) >>> 0;
    } else {
      pc = r.epc | 0;
      r.status = (r.status & ~Status.EXL) >>> 0;
    }
    r.llBit = 0;
    return pc;
  }
}
