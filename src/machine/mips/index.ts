/**
 * The MIPS32 Release 1 little-endian CPU of pvkit (mipssim-like board), public surface.
 *
 * ```ts
 * const memory = new PhysicalMemory(32 << 20);
 * const bus = new MipsPhysBus(memory, ports);           // RAM at 0, ROM 0x1FC00000, ISA I/O 0x1FD00000 + port
 * const cpu = new MipsCpu({ memory, bus, clock, stop }); // costs default to CostTable
 * cpu.reset(entry);                                      // QEMU -kernel state: kernel mode, Status = BEV|ERL
 * const why = cpu.run(1_000_000);                        // StopReason
 * ```
 *
 * Contracts other components rely on:
 * - `gpr` is an Int32Array(32) (signed view; `>>> 0` for unsigned); `$0` is never written.
 * - `pc`, `hi`, `lo` are plain int32 fields; set `pc` between runs to redirect execution.
 * - `setIrq(line, level)`: hardware lines 2..7 → Cause.IP2..IP7 (mipssim wires its UART to line 4,
 *   `env->irq[4]` in QEMU hw/mips/mipssim.c, i.e. Cause bit 12). IP7 is OR-ed with the Count/Compare timer.
 * - `interceptExceptions = true` (monitor mode): an exception or interrupt does not touch CP0 or
 *   vector; `run` returns StopReason.Trap with `trap` filled and `pc` = EPC (the branch if `trap.bd`).
 *   No exceptionEntry cycles are charged in that mode (the monitor charges its world switch).
 * - `tlb` can be driven from TypeScript (`write`, `read`, `probe`, `flush`, `lookup`); the CPU's
 *   translation caches follow automatically. `translate(va, 0|1|2)` gives the current mode's
 *   physical address (or -1).
 * - `step()` interprets exactly one instruction (plus its delay slot if it is a branch).
 * - Cycles go to `clock.cycles`: per instruction `instruction` (+ `multiply`/`divide`), per
 *   exception `exceptionEntry`, per ERET `exceptionReturn`, per TLBWI/TLBWR `tlbWrite`, per
 *   ISA-window access `deviceRegister`.
 * - Count runs at half the cycle rate; Compare match raises IP7 via a SimClock event.
 * - A branch or jump (or ERET) in a delay slot raises Reserved Instruction (UNPREDICTABLE in R1).
 */
export { buildInterpreter, compileRegion, mulhs, mulhu, type RegionBlock, type RegionFn } from "./codegen.js";
export {
  CAUSE_WRITE_MASK,
  CONFIG0_RESET,
  CONFIG1,
  Cp0,
  Cp0Reg,
  ENTRYHI_MASK,
  ENTRYLO_MASK,
  PAGEMASK_MASK,
  PRID_4KC,
  STATUS_WRITE_MASK,
  TLB_ENTRIES,
} from "./cp0.js";
export { MipsCpu, type MipsCpuOptions, MipsCpuStats, type MipsTrap } from "./cpu.js";
export { decode, decodeDef, Fields } from "./decode.js";
export { branchTarget, CP0_NAMES, disassemble, jumpTarget, REG_NAMES } from "./disasm.js";
export { Cause, EXC_NAMES, ExcCode, Mode, Status } from "./exc.js";
export {
  ALL_OPS,
  type Emit,
  OP_RESERVED,
  OP_RESERVED_COP0,
  OPCODES,
  OPERAND_BITS,
  type OpDef,
  type Operand,
  type OpKind,
  opByName,
  type VirtClass,
} from "./opcodes.js";
export { BOOT_ROM_BASE, BOOT_ROM_SIZE, ISA_IO_BASE, ISA_IO_SIZE, MipsPhysBus } from "./phys-bus.js";
export { Tlb, type TlbEntry, TlbResult } from "./tlb.js";
