/**
 * The MIPS32 Release 1 little-endian CPU of pvkit (mipssim-like board), public surface.
 *
 * ```ts
 * const memory = new PhysicalMemory(128 << 20);
 * const bus = new MipsPhysBus(memory, ports);           // RAM at 0, ROM 0x1FC00000, ISA I/O 0x1FD00000 + port
 * const cpu = new MipsCpu({ memory, bus, clock, stop }); // costs default to CostTable
 * cpu.reset(entry);                                      // QEMU -kernel state: kernel mode, Status = BEV|ERL
 * const why = cpu.run(1_000_000);                        // StopReason
 * ```
 *
 * Contracts other components rely on:
 * - `gpr` is an Int32Array(32) (signed view; `>>> 0` for unsigned); `$0` is never written.
 *   `pc`, `hi`, `lo` are plain int32 fields; set them between runs (e.g. a monitor emulating).
 * - `reset(entry)` leaves the state QEMU's `-kernel` leaves on mipssim: kernel mode, Status =
 *   BEV | ERL = 0x00400004, all GPRs/HI/LO 0 (no stack pointer), PC = entry, Cause 0, Wired 0,
 *   Count 0, Compare 0, TLB invalidated (distinct kseg1 VPN2s, V = 0).
 * - `run(n)` executes up to n instructions (a branch + delay slot may exceed it by one; each
 *   exception taken also uses one unit) and returns a StopReason: Budget, Exit (stop signal, checked
 *   after every device access), Idle (WAIT with nothing able to wake it; pc stays at the WAIT),
 *   Trap (interceptExceptions). Splitting a run into several `run` calls changes nothing.
 * - `setIrq(line, level)`: hardware lines 2..7 → Cause.IP2..IP7 (mipssim wires its UART to line 4,
 *   `env->irq[4]` in QEMU hw/mips/mipssim.c, i.e. Cause bit 12). IP7 is OR-ed with the Count/Compare
 *   timer. Interrupts are taken at the first instruction boundary (not inside a branch/delay-slot
 *   pair) where Cause.IP & Status.IM ≠ 0, IE = 1, EXL = ERL = 0; Cause.IV selects offset 0x200.
 * - `interceptExceptions = true` (monitor mode): an exception or interrupt neither touches CP0 nor
 *   vectors; `run` returns StopReason.Trap with `trap` filled (excCode, badVAddr, bd, pc = EPC,
 *   instrPc, ce, refill) and `pc` = EPC (the branch when `trap.bd`). No exceptionEntry cycles are
 *   charged in that mode (the monitor charges its world switch). `step()` interprets exactly one
 *   instruction (with its delay slot if it is a branch).
 * - `tlb` can be driven from TypeScript (`write`, `read`, `probe`, `flush`, `lookup`); the CPU's
 *   translation caches follow automatically. `translate(va, 0 load | 1 store | 2 fetch)` gives the
 *   physical address in the current mode (or -1). After editing CP0 fields directly (not through
 *   `cp0.write`) call `refreshState()`.
 * - Guest RAM must be written through PhysicalMemory's methods (or followed by
 *   `invalidateDecodeCache(paddr, size)`) so compiled code over it is dropped.
 * - Cycles go to `clock.cycles`: per instruction `instruction` (+ `multiply`/`divide`), per
 *   exception `exceptionEntry`, per ERET `exceptionReturn`, per TLBWI/TLBWR `tlbWrite`, per
 *   ISA-window access `deviceRegister`. Count runs at half the cycle rate; a Count == Compare match
 *   raises IP7 through a SimClock event; writing Compare clears it.
 * - Identification: PRId 0x00018000 (MIPS 4Kc, as QEMU's "4Kc"), Config1.MMUSize = 15 (16 TLB
 *   entries), no FPU (COP1/LWC1/… raise CpU with CE = 1).
 * - UNPREDICTABLE cases, fixed here: a branch, jump or ERET in a delay slot raises RI; DIV/DIVU by
 *   zero leave HI/LO unchanged; MUL leaves HI/LO unchanged; SC clears LLbit; CACHE is a no-op after
 *   the CP0 usability check; PageMask values that are not architected are truncated to the largest
 *   valid mask they contain.
 * - `decode`/`OPCODES` (the decode table, with each entry's virtualization class), `disassemble`
 *   (objdump syntax; `{ aliases: false }` for canonical forms) are shared with the monitors.
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
