/**
 * The single cost table: what a real machine pays, in simulated cycles, for each kind of work.
 *
 * Fixed, with its sources, before any target was measured; never tuned to match a paper.
 * `pvkit compare --trap-scale` multiplies the trap-path entries to show how sensitive a
 * conclusion is. Sources:
 *  [AA06] K. Adams, O. Agesen, "A Comparison of Software and Hardware Techniques for x86
 *         Virtualization", ASPLOS 2006 (Table/Fig. 4: syscall 11 native cycles; in 3209/~210;
 *         page fault 1093 native / 3927 software VMM; PTE write 391 software VMM).
 *  [Disco97] E. Bugnion et al., "Disco: Running Commodity Operating Systems on Scalable
 *         Multiprocessors", SOSP 1997 (R10000 at 195 MHz; Table 2 kernel overheads; trap
 *         emulation and TLB-miss handling dominate).
 *  [Xen03] P. Barham et al., "Xen and the Art of Virtualization", SOSP 2003 (Table 3 lmbench:
 *         null call 0.45/0.46 µs, page fault 1.42/2.73 µs, ctx switch 0.77/1.97 µs on a 2.4 GHz
 *         Xeon: 1 µs ≈ 2400 cycles).
 *  [SN05] J. E. Smith, R. Nair, "Virtual Machines: Versatile Platforms for Systems and
 *         Processes", Morgan Kaufmann 2005, §2.1–2.4 (decode-and-dispatch interpretation cost).
 *  [R4000] MIPS R4000 User's Manual, 2nd ed. (exception entry flushes the pipeline: ~8 cycles
 *         before the first handler instruction; a refill handler of ~10 instructions).
 */
export const CostTable = {
  /** One guest instruction retired (single-issue in-order core). */
  instruction: 1,
  /** Extra cycles for a multiply/divide result (MIPS HI/LO, x86 MUL/DIV). [R4000] */
  multiply: 4,
  divide: 35,
  /** Hardware exception entry into a guest or native vector (pipeline flush). [R4000], [AA06] 11-cycle syscall round trip */
  exceptionEntry: 8,
  /** ERET / IRET back to the interrupted code. [AA06] */
  exceptionReturn: 3,
  /** Trap into the monitor and back (save/restore guest state, dispatch). [AA06] software VMM syscall 51 − native 11 ≈ 40; [Disco97] */
  worldSwitch: 40,
  /** Decoding and emulating one privileged instruction in the monitor, excluding the world switch. [Disco97] */
  emulatePrivileged: 60,
  /** The monitor's own TLB-miss handling (l2tlb lookup, pmap, hardware TLB write). [Disco97] */
  monitorTlbRefill: 120,
  /**
   * Extra cycles per guest instruction the monitor interprets instead of running directly (Disco's
   * unrelinked kseg0 kernel code): fetch, decode and dispatch in software. [SN05] a
   * decode-and-dispatch interpreter spends tens of host instructions per guest instruction; we
   * take 20, the low end, as an estimate fixed before measuring.
   */
  interpretInstruction: 20,
  /** Writing one hardware TLB entry (TLBWI/TLBWR). [R4000] */
  tlbWrite: 2,
  /** An access to a device register on the I/O bus (uncached, serialising). [AA06]: native `in` ≈ 3209 cycles on a P4 to real ISA hardware; we price a simulated register at the bus-cycle cost. */
  deviceRegister: 100,
  /** Emulating one device register access in the monitor, beyond the world switch. [AA06] software VMM `in` ≈ 210 cycles */
  emulateDeviceRegister: 170,
  /** A hypercall: trap into the hypervisor, dispatch and return. [Xen03] null call 0.46 µs vs 0.45 µs native syscall ≈ 1100 cycles, of which the entry/exit is the syscall path. */
  hypercall: 60,
  /** Sending an event-channel notification (set pending bits, kick the target vCPU). [Xen03] */
  eventNotify: 150,
  /** Delivering an upcall into a guest (bounce frame / virtual exception). [Xen03] */
  eventDeliver: 200,
  /** Copying one 4 KiB page (memcpy at ~8 bytes/cycle). */
  pageCopy: 512,
  /** Mapping or unmapping one grant (page-table update and TLB flush). [Xen03] */
  grantMap: 300,
  /** Validating and applying one page-table update through mmu_update. [AA06] PTE write 391 */
  ptUpdate: 391,
  /** Fixed back-end work per request (decode, bookkeeping) and per page of payload. */
  backendPerRequest: 500,
  backendPerPage: 200,
  /** A domain switch by the scheduler (save/restore vCPU state, address-space switch). [Xen03] ctx switch 1.97 µs − 0.77 µs ≈ 2900 cycles extra; we price the hypervisor part only. */
  domainSwitch: 1000,
} as const;

export type CostName = keyof typeof CostTable;

/**
 * The simulated CPU's clock in Hz, used only where a device counts real time against the cycle
 * clock (the PC's 8254 PIT, whose input is 1.193182 MHz). 100 MHz: a Pentium-class i386 part
 * (Intel Pentium 100, 1994), consistent with the table's one cycle per instruction; not tuned.
 */
export const CPU_CLOCK_HZ = 100_000_000;

/** Multiplies the trap-path costs by `scale` (for `pvkit compare --trap-scale`). */
export function scaledCostTable(scale: number): Record<CostName, number> {
  const trapPath: ReadonlySet<CostName> = new Set<CostName>([
    "worldSwitch",
    "emulatePrivileged",
    "monitorTlbRefill",
    "emulateDeviceRegister",
  ]);
  const out = { ...CostTable } as Record<CostName, number>;
  for (const k of Object.keys(out) as CostName[]) if (trapPath.has(k)) out[k] = Math.round(out[k] * scale);
  return out;
}

/** A short stable hash of the cost table (FNV-1a over its JSON), printed with every benchmark. */
export function costTableHash(table: Readonly<Record<string, number>> = CostTable): string {
  const text = JSON.stringify(Object.entries(table).sort(([a], [b]) => (a < b ? -1 : 1)));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}
