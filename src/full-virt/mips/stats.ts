/**
 * Per-vCPU statistics of the Disco monitor, in the shape of the Disco paper's Table 2 (Bugnion et
 * al., SOSP 1997, "Overhead breakdown"): where the time of a virtualized workload goes — the
 * guest's own kernel and user execution, emulation of TLB writes, of other privileged
 * instructions, TLB misses the monitor handles itself versus those reflected into the guest,
 * monitor calls and idle time. Counts and simulated cycles per row; plain typed arrays (the
 * monitor updates them on every trap).
 */

/** Rows of the breakdown. */
export const DiscoRow = {
  /** Guest kernel code run directly on the CPU (supervisor mode, ksseg). Count = instructions. */
  guestKernel: 0,
  /** Guest kernel code the monitor interpreted (unrelinked kseg0 code). Count = instructions. */
  interpretedKernel: 1,
  /** Guest user code run directly (user mode). Count = instructions. */
  guestUser: 2,
  /** TLBWI/TLBWR emulation (emulate_tlbwrite_instruction). */
  tlbWrite: 3,
  /** Every other privileged instruction (MFC0, MTC0, TLBP, TLBR, ERET, WAIT, CACHE). */
  otherPrivileged: 4,
  /** TLB misses the monitor satisfied from the l2tlb or the kseg0 alias (never seen by the guest). */
  tlbMissMonitor: 5,
  /** TLB misses and TLB faults reflected into the guest's refill or general vector. */
  tlbMissReflected: 6,
  /** Other exceptions reflected into the guest (system calls, breaks, address errors, …). */
  otherReflected: 7,
  /** Virtual interrupts injected (timer, UART). */
  interrupts: 8,
  /** Device register accesses emulated (UART, exit port). */
  device: 9,
  /** Monitor calls (`hypcall`). */
  monitorCall: 10,
  /** Time the vCPU waited (WAIT) for a virtual interrupt. */
  idle: 11,
} as const;
export type DiscoRow = (typeof DiscoRow)[keyof typeof DiscoRow];

export const DISCO_ROW_NAMES: readonly string[] = [
  "guest kernel (direct)",
  "guest kernel (interpreted kseg0)",
  "guest user",
  "TLB-write emulation",
  "other privileged instructions",
  "TLB misses handled by monitor",
  "TLB misses reflected",
  "other exceptions reflected",
  "virtual interrupts injected",
  "device emulation",
  "monitor calls",
  "idle",
];

export interface DiscoStatsRow {
  readonly name: string;
  readonly count: number;
  readonly cycles: number;
}

export class DiscoStats {
  readonly counts = new Float64Array(DISCO_ROW_NAMES.length);
  readonly cycles = new Float64Array(DISCO_ROW_NAMES.length);
  /** Guest-visible exceptions reflected, by ExcCode. */
  readonly reflectedByCause = new Float64Array(32);
  /** Hardware TLB entries the monitor wrote. */
  hardwareTlbWrites = 0;
  /** Machine pages the pmap took from the allocator. */
  pagesAllocated = 0;
  /** World switches into the monitor (every trap). */
  worldSwitches = 0;

  add(row: DiscoRow, count: number, cycles: number): void {
    this.counts[row]! += count;
    this.cycles[row]! += cycles;
  }

  /** Total simulated cycles over every row. */
  get totalCycles(): number {
    let t = 0;
    for (const c of this.cycles) t += c;
    return t;
  }

  rows(): DiscoStatsRow[] {
    return DISCO_ROW_NAMES.map((name, i) => ({ name, count: this.counts[i]!, cycles: this.cycles[i]! }));
  }

  /** A Table 2-style text block (name, count, cycles, share of the total). */
  format(title: string): string {
    const total = this.totalCycles || 1;
    const lines = [
      `${title}`,
      `  ${"".padEnd(34)}${"count".padStart(14)}${"cycles".padStart(16)}${"share".padStart(8)}`,
    ];
    for (const r of this.rows()) {
      lines.push(
        `  ${r.name.padEnd(34)}${String(r.count).padStart(14)}${String(r.cycles).padStart(16)}${`${((100 * r.cycles) / total).toFixed(1)}%`.padStart(8)}`,
      );
    }
    lines.push(`  ${"total".padEnd(34)}${"".padStart(14)}${String(this.totalCycles).padStart(16)}`);
    lines.push(
      `  world switches ${this.worldSwitches}, hardware TLB writes ${this.hardwareTlbWrites}, machine pages ${this.pagesAllocated}`,
    );
    return lines.join("\n");
  }
}
