/**
 * pvkit's i386 CPU (issues 5 and 6). Other components build on this surface:
 *
 * - `X86Cpu` — `new X86Cpu({ memory, ports, clock, stop, costs? })`; `regs` (Int32Array, EAX ECX
 *   EDX EBX ESP EBP ESI EDI), `eip`, `getEflags()/setEflags()`, `cr0/cr2/cr3/cr4` (setters flush
 *   the TLB), `gdtrBase/gdtrLimit/idtrBase/idtrLimit`, descriptor caches through
 *   `getSegment(i)/setSegment(i, cache)` (0-5 ES CS SS DS FS GS, 6 LDTR, 7 TR) and the raw
 *   `segSel/segBase/segLimit/segAttr` arrays, `cpl`, `interruptController` + `setIntr(level)`,
 *   `interceptExceptions` + `trap` (monitor mode), `resetMultiboot(entry, ebx)`,
 *   `run(maxInstructions): StopReason`, `stats` ({instructions, cycles, exceptions by vector}),
 *   `diagnostic` (after StopReason.Shutdown), `recentInstructions(n)`, `disassembleAt(eip)`.
 * - The opcode table (`OPCODE_MAP`, `lookup`, `virtClass`) with each opcode's operand forms,
 *   flags and virtualization class; `decodeInstruction` and `disassembleAt`/`disassembleBuffer`.
 * - Descriptor helpers (`makeDescriptor`, `makeGate`, field accessors) and paging constants.
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
