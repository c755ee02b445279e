/**
 * Per-domain statistics of the x86 monitor: where a fully virtualized run spends its traps, in
 * the categories Adams & Agesen (ASPLOS 2006, Table 1 and §6) and the seed use — world
 * switches, traps by vector, privileged-instruction emulations, I/O emulation, sensitive
 * instructions patched and breakpoint hits, hidden (shadow-miss) versus true page faults, shadow
 * page-table builds, tracked page-table writes. Counters are plain numbers and typed arrays.
 */
export class X86FullStats {
  /** Traps into the monitor (every one a world switch). */
  worldSwitches = 0;
  /** Traps by CPU vector (0-255; external interrupts by their guest vector). */
  readonly trapsByVector = new Float64Array(256);
  /** Monitor cycles spent handling traps, by vector (world switch, emulation, reflection, refills). */
  readonly monitorCyclesByVector = new Float64Array(256);
  /** Events reflected into the guest through its virtual IDT, by vector. */
  readonly reflectedByVector = new Float64Array(256);
  /** Privileged instructions emulated (#GP at CPL 1), by mnemonic. */
  readonly privileged = new Map<string, number>();
  /** IN/OUT/INS/OUTS emulated against the domain's device models. */
  ioEmulations = 0;
  /** Sensitive instructions replaced with INT3 by scan_for_nonvirtualizable. */
  patches = 0;
  /** INT3 hits on patched instructions, by mnemonic (each one emulated). */
  readonly breakpointHits = new Map<string, number>();
  /** Code pages scanned (patched copies made) and scans started. */
  pagesScanned = 0;
  scans = 0;
  /**
   * Lazy scans at entries found by execution (the return and indirect-branch policy: unscanned
   * bytes of a patched copy hold INT3, so the first arrival at a new target traps and is scanned).
   */
  lazyEntryScans = 0;
  /** Patched copies dropped because the guest wrote its scanned code (self-modifying code). */
  codeInvalidations = 0;
  /** Page faults the monitor fixed itself (shadow miss) and faults reflected to the guest. */
  hiddenPageFaults = 0;
  truePageFaults = 0;
  /** Shadow page directories built, and CR3 loads that reused a cached one. */
  shadowBuilds = 0;
  shadowReuses = 0;
  /** Guest writes to write-protected page-table pages, trapped and emulated. */
  trackedPtWrites = 0;
  /** Guest GDT and LDT writes seen through write tracking (descriptor re-shadowed). */
  gdtWrites = 0;
  /** Guest accesses to its own mappings inside the monitor hole, emulated. */
  holeEmulations = 0;
  /** Virtual interrupts injected (device IRQs reflected through the virtual IDT). */
  interrupts = 0;
  /** Machine frames the monitor took for the domain (guest RAM, shadows, hole, code copies). */
  monitorFrames = 0;

  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  /** A plain-object view (JSON reports, tests). */
  toJSON(): Record<string, unknown> {
    const vec = (a: Float64Array) =>
      Object.fromEntries([...a.entries()].filter(([, n]) => n > 0).map(([v, n]) => [String(v), n]));
    return {
      worldSwitches: this.worldSwitches,
      trapsByVector: vec(this.trapsByVector),
      monitorCyclesByVector: vec(this.monitorCyclesByVector),
      reflectedByVector: vec(this.reflectedByVector),
      privileged: Object.fromEntries(this.privileged),
      ioEmulations: this.ioEmulations,
      patches: this.patches,
      breakpointHits: Object.fromEntries(this.breakpointHits),
      pagesScanned: this.pagesScanned,
      scans: this.scans,
      lazyEntryScans: this.lazyEntryScans,
      codeInvalidations: this.codeInvalidations,
      hiddenPageFaults: this.hiddenPageFaults,
      truePageFaults: this.truePageFaults,
      shadowBuilds: this.shadowBuilds,
      shadowReuses: this.shadowReuses,
      trackedPtWrites: this.trackedPtWrites,
      gdtWrites: this.gdtWrites,
      holeEmulations: this.holeEmulations,
      interrupts: this.interrupts,
      monitorFrames: this.monitorFrames,
    };
  }

  /** A text block for `pvkit run --stats`. */
  format(title: string): string {
    const j = this.toJSON();
    const lines = [title];
    for (const [k, v] of Object.entries(j)) {
      lines.push(`  ${k.padEnd(20)} ${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
    }
    return lines.join("\n");
  }
}
