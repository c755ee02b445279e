/**
 * pvkit's i386 CPU (issues 5 and 6). Other components build on this surface:
 *
 * - `X86Cpu` — `new X86Cpu({ memory, ports, clock, stop, costs? })`; `regs` (Int32Array, EAX ECX
 *   EDX EBX ESP EBP ESI EDI), `eip`, `getEflags()/setEflags()` (setEflags: no privilege checks),
 *   `cr0/cr2/cr3/cr4` (setters flush the TLB; CR0.PE stays 1), `gdtrBase/gdtrLimit/idtrBase/
 *   idtrLimit`, descriptor caches through `getSegment(i)/setSegment(i, cache)` (0-5 ES CS SS DS
 *   FS GS, 6 LDTR, 7 TR) and the raw `segSel/segBase/segLimit/segAttr` arrays (attr layout in
 *   descriptors.ts), `cpl`, `dr[0..7]`, `paging` (the TLB and walker), `interruptController` +
 *   `setIntr(level)` (INTR is sampled at instruction boundaries when IF = 1 and no STI/MOV SS
 *   shadow), `interceptExceptions` + `trap` (monitor mode: exceptions, INT n and external
 *   interrupts stop `run` with StopReason.Trap and the state of the faulting instruction),
 *   `resetMultiboot(entry, ebx)`, `run(maxInstructions): StopReason`, `stats` ({instructions,
 *   cycles, exceptions: by vector, counting delivered exceptions, INT n and interrupts}),
 *   `diagnostic` (after StopReason.Shutdown), `recentInstructions(n)` (interpreted instructions
 *   and the first instruction of each compiled block), `disassembleAt(eip)`, `blockCompiler`
 *   (compile straight-line 32-bit code into JS functions — any CS base and limit, any CPL,
 *   paging on or off; on by default; blocks are keyed by linear address and CS base/limit/CPL
 *   and never change simulated cycles: a block never runs past a timer deadline),
 *   `compileThreshold` (interpreted arrivals before an entry is compiled; tests set 0),
 *   `blocksCompiled` and `flatLimit` (read-only for others: nonzero while ES/SS/DS are flat and
 *   paging is off, when compiled blocks access RAM directly; otherwise they go through the
 *   TLB's entries with one mask compare). Monitors that change page tables behind the guest's
 *   back call `paging.flush(keepGlobal)` / `paging.invalidate(lin)` (or reload `cr3`): that
 *   also drops the fetch window and ends the running compiled block after the current store.
 *   Host code that changes RAM holding guest code must write it through PhysicalMemory's
 *   write methods (or call `notifyWatchedWrite` for a watched page), never raw `u8` stores:
 *   compiled blocks learn of code changes only through page watching.
 * - The opcode table (`OPCODE_MAP`, `lookup`, `virtClass`) with each opcode's operand forms,
 *   flags read/written and virtualization class; `decodeInstruction`, `disassembleAt`,
 *   `disassembleBuffer`, `disassembleRange` (objdump -M intel style).
 * - Descriptor helpers (`makeDescriptor`, `makeGate`, field accessors, `SysType`) and paging
 *   constants (PTE bits, #PF error-code bits).
 *
 * Not simulated: real and virtual-8086 mode, task switches (task gates, TSS targets and IRET
 * with NT: #GP), x87/MMX/SSE (#UD; #NM with CR0.EM/TS), MSRs (#GP), debug breakpoints and
 * single-step, alignment checks, 16-bit TSSs for stack switches. CPUID reports a Pentium-class
 * "GenuineIntel" without FPU (cpuid.ts says why). Physical accesses beyond RAM read all-ones.
 */
export {
  CR0_AM,
  CR0_EM,
  CR0_ET,
  CR0_MP,
  CR0_NE,
  CR0_PE,
  CR0_PG,
  CR0_TS,
  CR0_WP,
  CR4_PGE,
  CR4_PSE,
  CR4_TSD,
  LDTR,
  type SegmentCache,
  TR,
  Vector,
  X86Cpu,
  type X86CpuOptions,
  type X86Trap,
} from "./cpu.js";
export { CPUID_FEATURES_EDX, CPUID_SIGNATURE } from "./cpuid.js";
export * from "./descriptors.js";
export {
  type DecodedInstruction,
  type DisassembledInstruction,
  decodeInstruction,
  disassembleAt,
  disassembleBuffer,
  disassembleRange,
} from "./disasm.js";
export * as X86Flags from "./flags.js";
export { CS, DS, EAX, EBP, EBX, ECX, EDI, EDX, ES, ESI, ESP, FS, GS, SS } from "./modrm.js";
export {
  CONDITIONS,
  lookup,
  type MapSlot,
  OPCODE_MAP,
  type OpcodeEntry,
  type Operand,
  type VirtClass,
  virtClass,
} from "./opcodes.js";
export { PF_P, PF_U, PF_W, PTE_A, PTE_D, PTE_G, PTE_P, PTE_PS, PTE_U, PTE_W } from "./paging.js";
