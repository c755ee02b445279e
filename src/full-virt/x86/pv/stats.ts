/**
 * Per-domain statistics of an x86 PV domain (`pvkit run --mode pv --stats`): world switches,
 * hypercalls by number (as the guest issued them with `int $0x82`), exceptions and software
 * interrupts bounced to the guest's trap table by vector, event upcalls, and the direct-paging
 * work — mmu_update requests, update_va_mapping calls, mmuext_op commands, tables validated.
 */
export class X86PvStats {
  /** Traps into the monitor (hypercalls, exceptions, software interrupts). */
  worldSwitches = 0;
  /** `int $0x82` by hypercall number (EAX; 64 slots, numbers beyond counted in slot 63). */
  readonly hypercallsByNumber = new Float64Array(64);
  /** Events bounced to the guest's trap_info handlers, by vector. */
  readonly bouncesByVector = new Float64Array(256);
  /** Event upcalls delivered to the set_callbacks event entry. */
  upcalls = 0;
  /** iret hypercalls completed. */
  irets = 0;
  /** mmu_update requests applied and refused (each refusal ends its call with an errno). */
  mmuUpdates = 0;
  mmuUpdateErrors = 0;
  /** update_va_mapping calls applied and refused. */
  vaMappings = 0;
  vaMappingErrors = 0;
  /** mmuext_op commands applied, by command number, and refused. */
  readonly mmuextOps = new Float64Array(16);
  mmuextErrors = 0;
  /** Page tables validated (type count 0 → 1) and devalidated. */
  tablesValidated = 0;
  tablesDevalidated = 0;
  /** Page faults bounced (with CR2 in shared_info). */
  pageFaults = 0;
  /** Machine frames the monitor holds for the domain outside its memory (hole tables). */
  monitorFrames = 0;

  /** A plain-object view (JSON reports, tests). */
  toJSON(): Record<string, unknown> {
    const vec = (a: Float64Array) =>
      Object.fromEntries([...a.entries()].filter(([, n]) => n > 0).map(([v, n]) => [String(v), n]));
    return {
      worldSwitches: this.worldSwitches,
      hypercallsByNumber: vec(this.hypercallsByNumber),
      bouncesByVector: vec(this.bouncesByVector),
      upcalls: this.upcalls,
      irets: this.irets,
      pageFaults: this.pageFaults,
      mmuUpdates: this.mmuUpdates,
      mmuUpdateErrors: this.mmuUpdateErrors,
      vaMappings: this.vaMappings,
      vaMappingErrors: this.vaMappingErrors,
      mmuextOps: vec(this.mmuextOps),
      mmuextErrors: this.mmuextErrors,
      tablesValidated: this.tablesValidated,
      tablesDevalidated: this.tablesDevalidated,
      monitorFrames: this.monitorFrames,
    };
  }

  /** A text block for `pvkit run --stats`. */
  format(title: string): string {
    const lines = [title];
    for (const [k, v] of Object.entries(this.toJSON())) {
      lines.push(`  ${k.padEnd(20)} ${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
    }
    return lines.join("\n");
  }
}
