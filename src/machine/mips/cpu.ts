/**
 * The MIPS32 Release 1 little-endian CPU: integer ISA, CP0, TLB, precise exceptions, interrupts.
 *
 * Execution: straight-line code is compiled to JS functions from the decode table's templates
 * (`codegen.ts`): a block runs up to an unconditional jump, a call, an interpreter-only instruction
 * or a 1 KiB boundary, continuing past conditional branches whose taken paths become side exits
 * (superblocks, at most 48 instructions); a block whose final branch jumps back to its own start
 * loops inside its function. Blocks are cached by virtual PC + translation context (TLB generation,
 * ASID, ERL, mode; kseg0/kseg1 code in any kernel context). Privileged instructions, budget edges
 * and timer deadlines go through the interpreter built from the same templates. Compiled code
 * reads RAM through direct-mapped translation caches; everything else takes the slow paths below.
 * Stores into pages holding compiled code are seen through PhysicalMemory page watching and drop
 * the overlapping blocks (and end the running one).
 *
 * Timing is exact at instruction granularity: a block is entered only if no timer can fall due
 * inside it, a device access ends the block, and interrupts are checked before every block or
 * step. A branch and its delay slot execute as a unit (no interrupt between them).
 */
import type { SimClock } from "../clock.js";
import { type CostName, CostTable } from "../cost.js";
import { StopReason, type StopSignal } from "../cpu.js";
import type { AccessOracle, PhysicalMemory } from "../memory.js";
import {
  type BlockInsn,
  buildInterpreter,
  type CodegenEnv,
  compileRegion,
  type Exec1,
  mulhs,
  mulhu,
  opCost,
  type RegionBlock,
  type RegionFn,
  XLATE_BITS,
  XLATE_MASK,
} from "./codegen.js";
import { Cp0 } from "./cp0.js";
import { decode } from "./decode.js";
import { disassemble } from "./disasm.js";
import { Cause, ExcCode, Mode, Status } from "./exc.js";
import { ALL_OPS } from "./opcodes.js";
import type { MipsPhysBus } from "./phys-bus.js";
import { Tlb, TlbResult } from "./tlb.js";

/** What a monitor learns about an intercepted exception (`interceptExceptions`). Plain fields, reused. */
export interface MipsTrap {
  /** Cause.ExcCode of the exception. */
  excCode: number;
  /** Faulting virtual address for AdEL/AdES/TLBL/TLBS/Mod (else 0). */
  badVAddr: number;
  /** True if the faulting instruction sits in a branch delay slot. */
  bd: boolean;
  /** EPC as hardware would set it: the faulting instruction, or its branch when `bd`. */
  pc: number;
  /** Address of the faulting instruction itself (pc + 4 when `bd`). */
  instrPc: number;
  /** Coprocessor number for CpU (Cause.CE). */
  ce: number;
  /** TLBL/TLBS from a miss (no matching entry) rather than an invalid entry. */
  refill: boolean;
}

/** Per-run counters. `cycles` is the simulated clock. */
export class MipsCpuStats {
  instructions = 0;
  /** Exceptions taken, indexed by ExcCode (0..31). */
  readonly exceptions = new Float64Array(32);
  constructor(private readonly clock: SimClock) {}
  get cycles(): number {
    return this.clock.cycles;
  }
}

export interface MipsCpuOptions {
  memory: PhysicalMemory;
  bus: MipsPhysBus;
  clock: SimClock;
  stop: StopSignal;
  costs?: Readonly<Record<CostName, number>>;
  /** Compile basic blocks (default true); false interprets every instruction (tests, debugging). */
  compileBlocks?: boolean;
}

/**
 * A compiled basic block (a one-block region: its `for/switch` loop re-enters the block directly
 * when its branch jumps back to its own start).
 *
 * Measured on compute.elf: compiling whole 1 KiB chunks as multi-block regions was 2× slower
 * than one function per block, because V8 deoptimizes a big function each time one of its cold
 * paths first runs ("insufficient type feedback") and recompiling it costs 100+ ms.
 */
interface Region {
  fn: RegionFn | null;
  /** Instructions in the block. */
  len: number;
  /** Physical byte ranges [start, end) of the compiled code, as pairs. */
  ranges: number[];
  key: number;
  valid: boolean;
}

/** Longest superblock (instructions), to bound compile time and code size. */
const MAX_SUPERBLOCK = 48;
/** Blocks never cross a 1 KiB boundary (nor, therefore, a page). */
const CHUNK_BYTES = 1024;
const CHUNK_WORDS = CHUNK_BYTES / 4;
const VCACHE_BITS = 12;
const VCACHE_MASK = (1 << VCACHE_BITS) - 1;
/** Entries in the diagnostic trace ring of executed block starts (power of two). */
const RING = 64;
/**
 * Translation context of compiled code at mapped addresses: TLB generation (19 bits), ASID,
 * ERL and mode. Code at the same virtual PC in another address space must never be reused.
 */
function fetchKeyOf(mapGen: number, asid: number, erl: number, mode: number): number {
  return (mapGen << 12) | (asid << 4) | (erl << 2) | mode;
}

/** Marks a direct-mapped block-cache entry valid in any kernel-mode context (kseg0/kseg1 code). */
const KEY_UNMAPPED = -1;

export class MipsCpu {
  /** General registers; $0 is never written. Values are int32 (read `>>> 0` for unsigned). */
  readonly gpr = new Int32Array(32);
  pc = 0;
  hi = 0;
  lo = 0;
  readonly cp0: Cp0;
  readonly tlb: Tlb;
  /** Monitor mode: exceptions do not vector; `run` returns StopReason.Trap with `trap` filled. */
  interceptExceptions = false;
  /**
   * Monitor hook (Disco's interpreted kseg0 path): while non-null, supervisor-mode accesses to
   * kseg0/kseg1 translate through this table (frame index (va & 0x1FFFFFFF) >> 12 → machine
   * frame; negative or out of range → the usual address error) instead of raising an address
   * error. Consulted only where an address error would otherwise be raised, so it costs the fast
   * paths nothing. Call `flushTranslations()` after changing it or its contents.
   */
  unmappedRemap: Int32Array | null = null;
  readonly trap: MipsTrap = { excCode: 0, badVAddr: 0, bd: false, pc: 0, instrPc: 0, ce: 0, refill: false };
  readonly stats: MipsCpuStats;
  readonly memory: PhysicalMemory;
  readonly bus: MipsPhysBus;
  readonly clock: SimClock;
  readonly stop: StopSignal;
  readonly costs: Readonly<Record<CostName, number>>;
  /** Whether basic blocks are compiled (see MipsCpuOptions.compileBlocks). */
  readonly compileBlocks: boolean;

  // --- state shared with generated code (public fields for speed; not part of the API) ---
  /** @internal an exception was raised by the current instruction */
  fault = false;
  /** @internal the current block must end after this instruction (device touched, code written) */
  brk = false;
  /** @internal branch target computed by the interpreter */
  nt = 0;
  /** @internal CP0 usable: kernel mode or Status.CU0 */
  cp0ok = true;
  /** @internal WAIT found nothing able to wake the CPU */
  idle = false;
  /** @internal an exception was intercepted */
  trapped = false;

  private mode: Mode = Mode.Kernel;
  private erl = 1;
  private asid = 0;
  private mapGen = 0;
  private fetchKey = 0;
  private intrReady = false;
  private tlbMissRefill = false;
  private oracleSeen: AccessOracle | null = null;
  private xCode = 0;

  /** Read/write translation caches for compiled code: tag = virtual page, base = physical page address. */
  private readonly TR = new Int32Array(1 << XLATE_BITS).fill(-1);
  private readonly BR = new Int32Array(1 << XLATE_BITS);
  private readonly TW = new Int32Array(1 << XLATE_BITS).fill(-1);
  private readonly BW = new Int32Array(1 << XLATE_BITS);

  private readonly exec1: Exec1;
  private readonly env: CodegenEnv;
  private readonly opCosts: Float64Array;
  private readonly vPc = new Int32Array(1 << VCACHE_BITS).fill(1);
  private readonly vKey = new Int32Array(1 << VCACHE_BITS);
  private readonly vBlk: (Region | null)[] = new Array<Region | null>(1 << VCACHE_BITS).fill(null);
  private readonly regions = new Map<number, Region>();
  /** Regions per physical page, for invalidation. */
  private readonly pageRegions = new Map<number, Region[]>();
  private readonly codePage: Uint8Array;
  /** Trace ring of executed block starts and lengths (diagnostics); `ti` is the newest slot. */
  private readonly tracePc = new Int32Array(RING);
  private readonly traceN = new Uint8Array(RING);
  /** @internal index of the newest trace-ring slot */
  ti = 0;

  constructor(opts: MipsCpuOptions) {
    this.memory = opts.memory;
    this.bus = opts.bus;
    this.clock = opts.clock;
    this.stop = opts.stop;
    this.costs = opts.costs ?? CostTable;
    this.compileBlocks = opts.compileBlocks ?? true;
    this.stats = new MipsCpuStats(this.clock);
    this.tlb = new Tlb(16);
    this.cp0 = new Cp0(this.clock, this.tlb, {
      stateChanged: () => this.updateState(),
      instructions: () => this.stats.instructions,
    });
    this.tlb.onChange = () => this.mmuChanged();
    this.codePage = new Uint8Array(this.memory.pages);
    this.opCosts = new Float64Array(ALL_OPS.length);
    for (let i = 0; i < ALL_OPS.length; i++) this.opCosts[i] = opCost(ALL_OPS[i]!, this.costs);
    this.env = {
      c: this,
      R: this.gpr,
      M32: this.memory.u32,
      M16: this.memory.u16,
      M8: this.memory.u8,
      TR: this.TR,
      BR: this.BR,
      TW: this.TW,
      BW: this.BW,
      clk: this.clock,
    };
    this.exec1 = buildInterpreter(this.env);
    this.memory.addWatchHandler((pa, size) => this.invalidateDecodeCache(pa, size));
    this.updateState();
  }

  /**
   * Power-on/reset state as QEMU's `-kernel` leaves it (target/mips/cpu.c mips_cpu_reset and
   * hw/mips/mipssim.c): kernel mode with Status = BEV | ERL (0x00400004), all GPRs, HI and LO 0,
   * PC = entry, Wired = 0, Random = 15, Count = 0 relative to now, Compare = 0. ERL = 1 means kuseg
   * is unmapped and ERET returns to ErrorEPC until the guest clears ERL. The TLB is invalidated.
   */
  reset(entry: number): void {
    this.gpr.fill(0);
    this.hi = 0;
    this.lo = 0;
    this.pc = entry | 0;
    this.cp0.write(9, 0, 0);
    this.cp0.compare = 0;
    this.cp0.resetState();
    this.tlb.flush();
    this.updateState();
  }

  /** Drives hardware interrupt line `line` (2..7 → Cause.IP2..IP7; IP7 is shared with the timer). */
  setIrq(line: number, level: boolean): void {
    if (line < 2 || line > 7) throw new RangeError(`MIPS hardware interrupt line ${line} is not in 2..7`);
    const bit = 1 << (Cause.IP_SHIFT + line);
    this.cp0.hwLines = level ? this.cp0.hwLines | bit : this.cp0.hwLines & ~bit;
    this.intrReady = this.cp0.interruptReady;
    if (this.intrReady) this.brk = true;
  }

  /** Executes up to `maxInstructions` (a branch and its delay slot may exceed it by one). */
  run(maxInstructions: number): StopReason {
    const clk = this.clock;
    const stop = this.stop;
    const stats = this.stats;
    let budget = maxInstructions;
    this.trapped = false;
    this.idle = false;
    if (this.memory.oracle !== this.oracleSeen) {
      // Fast paths bypass the ownership oracle: drop cached translations so accesses reach it.
      this.oracleSeen = this.memory.oracle;
      this.flushTranslations();
    }
    while (budget > 0) {
      if (clk.cycles >= clk.nextDeadline) clk.runDue();
      if (stop.requested) return StopReason.Exit;
      if (this.intrReady) {
        this.fault = false;
        this.raise(ExcCode.Int, this.pc, 0, 0, 0);
        budget--;
        if (this.trapped) return StopReason.Trap;
        continue;
      }
      const r = this.lookupRegion(this.pc);
      if (r !== null) {
        this.fault = false;
        this.brk = false;
        const t = (this.ti + 1) & (RING - 1);
        this.tracePc[t] = this.pc;
        this.traceN[t] = r.len;
        this.ti = t;
        const n = r.fn!(this.pc, budget);
        stats.instructions += n;
        if (this.fault) {
          // Show the block up to the faulting instruction.
          this.traceN[t] = (n % r.len) + 1;
          budget -= n + 1;
          if (this.trapped) return StopReason.Trap;
          continue;
        }
        if (n > 0) {
          budget -= n;
          continue;
        }
      }
      // Budget units: retired instructions, plus one per exception taken (so a fault loop ends).
      const n = this.step();
      budget -= this.fault ? n + 1 : n > 0 ? n : 1;
      if (this.trapped) return StopReason.Trap;
      if (this.idle) return StopReason.Idle;
    }
    if (clk.cycles >= clk.nextDeadline) clk.runDue();
    return stop.requested ? StopReason.Exit : StopReason.Budget;
  }

  /**
   * Interprets one instruction (with its delay slot if it is a branch). Returns the number retired.
   * Exposed for monitors that emulate single instructions and for tests.
   */
  step(): number {
    const pc = this.pc;
    this.fault = false;
    this.brk = false;
    const w = this.fetch(pc, 0);
    if (this.fault) return 0;
    const op = decode(w);
    this.record(pc, 1);
    this.clock.cycles += this.opCosts[op]!;
    const r = this.exec1(w, op, pc, 0);
    switch (r) {
      case 0:
        this.pc = (pc + 4) | 0;
        this.stats.instructions++;
        return 1;
      case 1:
        return 0;
      case 2:
        if (!this.idle) this.stats.instructions++;
        return 1;
      case 3: {
        this.stats.instructions++;
        const pc2 = (pc + 4) | 0;
        const w2 = this.fetch(pc2, 1);
        if (this.fault) return 1;
        const op2 = decode(w2);
        this.traceN[this.ti] = 2;
        if (ALL_OPS[op2]!.noDelaySlot) {
          this.raise(ExcCode.RI, pc2, 1, 0, 0);
          return 1;
        }
        const target = this.nt;
        this.clock.cycles += this.opCosts[op2]!;
        const r2 = this.exec1(w2, op2, pc2, 1);
        if (r2 === 1) return 1;
        this.pc = target;
        this.stats.instructions++;
        return 2;
      }
      default:
        this.pc = (pc + 8) | 0;
        this.stats.instructions++;
        return 1;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Exceptions

  /**
   * Raises exception `code` for the instruction at `pc` (in a delay slot if `bd`). Sets CP0 as
   * MD00090 §6.2 describes and jumps to the vector, or, with `interceptExceptions`, fills `trap`
   * and leaves pc at EPC. Always sets `fault`.
   * @internal called by generated code
   */
  raise(code: number, pc: number, bd: number, bad: number, ce: number): void {
    this.fault = true;
    this.stats.exceptions[code]!++;
    const epc = bd ? (pc - 4) | 0 : pc | 0;
    const refill = (code === ExcCode.TLBL || code === ExcCode.TLBS) && this.tlbMissRefill;
    this.tlbMissRefill = false;
    if (this.interceptExceptions) {
      const t = this.trap;
      t.excCode = code;
      t.badVAddr = bad >>> 0;
      t.bd = bd !== 0;
      t.pc = epc >>> 0;
      t.instrPc = pc >>> 0;
      t.ce = ce;
      t.refill = refill;
      this.pc = epc;
      this.trapped = true;
      this.brk = true;
      return;
    }
    const cp0 = this.cp0;
    const s = cp0.status;
    const exl = (s & Status.EXL) !== 0;
    let cause = cp0.cause & ~(Cause.EXC_MASK | Cause.CE_MASK);
    cause |= (code << Cause.EXC_SHIFT) | ((ce & 3) << Cause.CE_SHIFT);
    if (!exl) {
      cp0.epc = epc >>> 0;
      cause = bd ? cause | Cause.BD : cause & ~Cause.BD;
    }
    cp0.cause = cause >>> 0;
    if (code === ExcCode.AdEL || code === ExcCode.AdES) cp0.badVAddr = bad >>> 0;
    else if (code === ExcCode.TLBL || code === ExcCode.TLBS || code === ExcCode.Mod) cp0.setTlbFault(bad);
    cp0.status = (s | Status.EXL) >>> 0;
    // Vectors (MD00090 Table 6.3): refill at offset 0 only for a miss with EXL = 0; interrupts at
    // 0x200 when Cause.IV; everything else at 0x180. BEV selects the ROM (kseg1) base.
    const base = s & Status.BEV ? 0xbfc00200 : 0x80000000;
    const off = refill && !exl ? 0 : code === ExcCode.Int && cause & Cause.IV ? 0x200 : 0x180;
    this.pc = (base + off) | 0;
    this.clock.cycles += this.costs.exceptionEntry;
    this.updateState();
    this.brk = true;
  }

  /** @internal ERET (MD00086 ERET): return to ErrorEPC if ERL, else EPC; clears LLbit. */
  eret(): number {
    const cp0 = this.cp0;
    if (cp0.status & Status.ERL) {
      this.pc = cp0.errorEpc | 0;
      cp0.status = (cp0.status & ~Status.ERL) >>> 0;
    } else {
      this.pc = cp0.epc | 0;
      cp0.status = (cp0.status & ~Status.EXL) >>> 0;
    }
    cp0.llBit = 0;
    this.clock.cycles += this.costs.exceptionReturn;
    this.updateState();
    return 2;
  }

  /**
   * @internal WAIT: idle until an interrupt would be taken, skipping simulated time to the next
   * clock event that could change that. A Count/Compare match that cannot be taken (IE/IM7/EXL/ERL)
   * is not waited for; with nothing else scheduled the CPU reports Idle and stays at the WAIT.
   */
  waitInsn(): number {
    const clk = this.clock;
    const cp0 = this.cp0;
    for (;;) {
      if (cp0.interruptReady || this.stop.requested) return 0;
      const next = cp0.timerCanInterrupt ? clk.nextDeadline : cp0.foreignDeadline();
      if (next === Number.POSITIVE_INFINITY) break;
      if (next > clk.cycles) clk.cycles = next;
      clk.runDue();
    }
    this.idle = true;
    return 2;
  }

  // ---------------------------------------------------------------------------------------------
  // TLB instructions

  /** @internal */
  tlbr(): number {
    const cp0 = this.cp0;
    const e = this.tlb.read(cp0.index & 15);
    cp0.pageMask = e.pageMask;
    cp0.entryLo0 = e.entryLo0;
    cp0.entryLo1 = e.entryLo1;
    cp0.entryHi = e.entryHi;
    this.updateState();
    return 0;
  }

  /** @internal */
  tlbwi(): number {
    this.tlbWrite(this.cp0.index & 15);
    return 0;
  }

  /** @internal */
  tlbwr(): number {
    this.tlbWrite(this.cp0.random);
    return 0;
  }

  /** @internal */
  tlbp(): number {
    const i = this.tlb.probe(this.cp0.entryHi);
    this.cp0.index = i < 0 ? 0x80000000 : i;
    return 0;
  }

  private tlbWrite(i: number): void {
    const cp0 = this.cp0;
    this.tlb.write(i, {
      entryHi: cp0.entryHi,
      pageMask: cp0.pageMask,
      entryLo0: cp0.entryLo0,
      entryLo1: cp0.entryLo1,
    });
    this.clock.cycles += this.costs.tlbWrite;
  }

  // ---------------------------------------------------------------------------------------------
  // Memory slow paths

  /**
   * Translates virtual `va` for a load (0), store (1) or fetch (2) in the current mode. Returns the
   * physical address, or -1 with `xCode` (and `tlbMissRefill`) describing the exception.
   */
  translate(va: number, access: 0 | 1 | 2): number {
    const u = va >>> 0;
    const mode = this.mode;
    if (u < 0x80000000) {
      if (this.erl) return u;
    } else if (mode !== Mode.Kernel) {
      if (!(mode === Mode.Supervisor && u >= 0xc0000000 && u < 0xe0000000)) {
        const remap = this.unmappedRemap;
        if (remap !== null && mode === Mode.Supervisor && u < 0xc0000000) {
          const mfn = remap[(u & 0x1fffffff) >>> 12];
          if (mfn !== undefined && mfn >= 0) return mfn * 4096 + (u & 4095);
        }
        this.xCode = access === 1 ? ExcCode.AdES : ExcCode.AdEL;
        return -1;
      }
    } else if (u < 0xc0000000) {
      return u & 0x1fffffff;
    }
    const r = this.tlb.lookup(u, this.asid, access === 1);
    if (r === TlbResult.Hit) return this.tlb.pa;
    if (r === TlbResult.Modified) this.xCode = ExcCode.Mod;
    else {
      this.xCode = access === 1 ? ExcCode.TLBS : ExcCode.TLBL;
      this.tlbMissRefill = r === TlbResult.Miss;
    }
    return -1;
  }

  /** Fetches the instruction word at `pc`; raises AdEL/TLBL/IBE (with `bd` for a delay slot). */
  private fetch(pc: number, bd: number): number {
    if (pc & 3) {
      this.raise(ExcCode.AdEL, pc, bd, pc, 0);
      return 0;
    }
    const pa = this.translate(pc, 2);
    if (pa < 0) {
      this.raise(this.xCode, pc, bd, pc, 0);
      return 0;
    }
    if (pa + 4 <= this.memory.size) return this.memory.u32[pa >>> 2]! | 0;
    const w = this.bus.read(pa, 4);
    if (this.bus.error) {
      this.raise(ExcCode.IBE, pc, bd, 0, 0);
      return 0;
    }
    return w | 0;
  }

  /** @internal load slow path: translation, bus, devices; fills the read translation cache. */
  loadSlow(a: number, size: 1 | 2 | 4, signed: boolean, pc: number, bd: number): number {
    this.fault = false;
    const pa = this.translate(a, 0);
    if (pa < 0) {
      this.raise(this.xCode, pc, bd, a, 0);
      return 0;
    }
    const bus = this.bus;
    let v = bus.read(pa, size);
    if (bus.error) {
      this.raise(ExcCode.DBE, pc, bd, 0, 0);
      return 0;
    }
    if (bus.touchedDevice) this.deviceTouched();
    else if (pa < this.memory.size && this.memory.oracle === null) {
      const i = (a >>> 12) & XLATE_MASK;
      this.TR[i] = a >>> 12;
      this.BR[i] = pa - (pa & 4095);
    }
    if (signed) v = size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v | 0;
    return v | 0;
  }

  /** @internal store slow path; fills the write translation cache for unwatched RAM pages. */
  storeSlow(a: number, size: 1 | 2 | 4, v: number, pc: number, bd: number): void {
    this.fault = false;
    const pa = this.translate(a, 1);
    if (pa < 0) {
      this.raise(this.xCode, pc, bd, a, 0);
      return;
    }
    const bus = this.bus;
    bus.write(pa, size, v);
    if (bus.error) {
      this.raise(ExcCode.DBE, pc, bd, 0, 0);
      return;
    }
    if (bus.touchedDevice) this.deviceTouched();
    else if (pa < this.memory.size && this.memory.oracle === null && this.memory.watched[pa >>> 12] === 0) {
      const i = (a >>> 12) & XLATE_MASK;
      this.TW[i] = a >>> 12;
      this.BW[i] = pa - (pa & 4095);
    }
  }

  private deviceTouched(): void {
    this.bus.touchedDevice = false;
    this.brk = true;
    this.clock.cycles += this.costs.deviceRegister;
  }

  /** @internal LWL/LWR (little-endian, MD00086): merge part of the aligned word into `rt`. */
  lwlr(a: number, rt: number, left: boolean, pc: number, bd: number): number {
    this.fault = false;
    const pa = this.translate(a, 0);
    if (pa < 0) {
      this.raise(this.xCode, pc, bd, a, 0);
      return 0;
    }
    const w = this.bus.read(pa - (pa & 3), 4);
    if (this.bus.error) {
      this.raise(ExcCode.DBE, pc, bd, 0, 0);
      return 0;
    }
    if (this.bus.touchedDevice) this.deviceTouched();
    const k = a & 3;
    if (left) {
      // Bytes a-k..a go to the top k+1 bytes of rt.
      const sh = 8 * (3 - k);
      const keep = sh === 0 ? 0 : (1 << sh) - 1;
      return (w << sh) | (rt & keep) | 0;
    }
    // Bytes a..a|3 go to the low 4-k bytes of rt.
    const sh = 8 * k;
    const keep = sh === 0 ? 0 : ~(0xffffffff >>> sh);
    return (w >>> sh) | (rt & keep) | 0;
  }

  /** @internal SWL/SWR (little-endian, MD00086). Returns 1 if it raised. */
  swlr(a: number, rt: number, left: boolean, pc: number, bd: number): number {
    this.fault = false;
    const pa = this.translate(a, 1);
    if (pa < 0) {
      this.raise(this.xCode, pc, bd, a, 0);
      return 1;
    }
    const wa = pa - (pa & 3);
    const w = this.bus.read(wa, 4);
    if (this.bus.error) {
      this.raise(ExcCode.DBE, pc, bd, 0, 0);
      return 1;
    }
    const k = a & 3;
    let nw: number;
    if (left) {
      // The top k+1 bytes of rt go to bytes a-k..a.
      const sh = 8 * (3 - k);
      const mem = sh === 0 ? 0 : ~(0xffffffff >>> sh);
      nw = (w & mem) | (rt >>> sh);
    } else {
      // The low 4-k bytes of rt go to bytes a..a|3.
      const sh = 8 * k;
      const mem = sh === 0 ? 0 : (1 << sh) - 1;
      nw = (w & mem) | (rt << sh);
    }
    this.bus.write(wa, 4, nw >>> 0);
    if (this.bus.touchedDevice) this.deviceTouched();
    return 0;
  }

  /** @internal LL: load word, set LLbit and LLAddr (PAddr >> 4). */
  ll(a: number, pc: number, bd: number): number {
    this.fault = false;
    if (a & 3) {
      this.raise(ExcCode.AdEL, pc, bd, a, 0);
      return 0;
    }
    const v = this.loadSlow(a, 4, true, pc, bd);
    if (this.fault) return 0;
    const pa = this.translate(a, 0);
    this.cp0.llBit = 1;
    this.cp0.llAddr = Math.floor(pa / 16) >>> 0;
    return v;
  }

  /**
   * @internal SC: store if LLbit, rt = 1 on success else 0. LLbit is cleared afterwards, as
   * QEMU does (a second SC without LL fails).
   */
  sc(a: number, v: number, pc: number, bd: number): number {
    this.fault = false;
    if (a & 3) {
      this.raise(ExcCode.AdES, pc, bd, a, 0);
      return 0;
    }
    const pa = this.translate(a, 1);
    if (pa < 0) {
      this.raise(this.xCode, pc, bd, a, 0);
      return 0;
    }
    if (!this.cp0.llBit) return 0;
    this.cp0.llBit = 0;
    this.storeSlow(a, 4, v, pc, bd);
    return this.fault ? 0 : 1;
  }

  /** @internal MADD/MADDU/MSUB/MSUBU: (HI,LO) ± rs × rt as 64-bit values. */
  macc(a: number, b: number, signed: boolean, sub: boolean): void {
    const plo = Math.imul(a, b) >>> 0;
    const phi = signed ? mulhs(a, b) : mulhu(a, b);
    const lo = this.lo >>> 0;
    if (!sub) {
      const s = lo + plo;
      this.lo = s | 0;
      this.hi = (this.hi + phi + (s > 0xffffffff ? 1 : 0)) | 0;
    } else {
      const s = lo - plo;
      this.lo = s | 0;
      this.hi = (this.hi - phi - (s < 0 ? 1 : 0)) | 0;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Translation and block caches

  /**
   * Call after editing CP0 fields directly (e.g. `cp0.status = …` from a monitor): recomputes the
   * privilege mode, CP0 usability, ASID and interrupt readiness and drops stale translations.
   * (`cp0.write`, MTC0 and the TLB methods do this themselves.)
   */
  refreshState(): void {
    this.updateState();
  }

  /** Recomputes mode-derived state after any change to Status, EntryHi.ASID or the interrupt lines. */
  private updateState(): void {
    const cp0 = this.cp0;
    const s = cp0.status;
    const mode = cp0.mode;
    const erl = s & Status.ERL ? 1 : 0;
    const asid = cp0.entryHi & 0xff;
    this.cp0ok = mode === Mode.Kernel || (s & Status.CU0) !== 0;
    if (mode !== this.mode || erl !== this.erl || asid !== this.asid) {
      this.mode = mode;
      this.erl = erl;
      this.asid = asid;
      this.flushTranslations();
    }
    this.fetchKey = fetchKeyOf(this.mapGen, asid, erl, mode);
    this.intrReady = cp0.interruptReady;
    if (this.intrReady) this.brk = true;
  }

  /** TLB contents changed: drop cached translations of mapped addresses. */
  private mmuChanged(): void {
    this.mapGen = (this.mapGen + 1) & 0x7ffff;
    if (this.mapGen === 0) this.vPc.fill(1);
    this.flushTranslations();
    this.fetchKey = fetchKeyOf(this.mapGen, this.asid, this.erl, this.mode);
  }

  /** Drops the data translation caches (call after installing a memory oracle). */
  flushTranslations(): void {
    this.TR.fill(-1);
    this.TW.fill(-1);
  }

  private lookupRegion(pc: number): Region | null {
    if (!this.compileBlocks) return null;
    const i = (pc >>> 2) & VCACHE_MASK;
    if (this.vPc[i] === pc) {
      const k = this.vKey[i];
      const r = this.vBlk[i]!;
      if ((k === this.fetchKey || (k === KEY_UNMAPPED && this.mode === Mode.Kernel)) && r.valid) {
        return r.fn === null ? null : r;
      }
    }
    if (pc & 3) return null;
    const pa = this.translate(pc, 2);
    this.tlbMissRefill = false;
    if (pa < 0 || pa + 4 > this.memory.size) return null;
    // Blocks are keyed by (physical address, virtual page): the same code mapped at two
    // virtual addresses compiles twice (branch targets and exception PCs are virtual constants).
    const key = (pa >>> 2) * 0x100000 + (pc >>> 12);
    const r = this.regions.get(key) ?? this.buildSingle(pc, pa, key);
    this.vPc[i] = pc;
    const u = pc >>> 0;
    this.vKey[i] =
      this.mode === Mode.Kernel && u >= 0x80000000 && u < 0xc0000000 ? KEY_UNMAPPED : this.fetchKey;
    this.vBlk[i] = r;
    return r.fn === null ? null : r;
  }

  /** Reads the straight-line block at word `idx` of the chunk at `chunkPa` (stops at `stop`). */
  private scanBlock(chunkPa: number, idx: number, stop: (i: number) => boolean): BlockInsn[] {
    const u32 = this.memory.u32;
    const base = chunkPa >>> 2;
    const insns: BlockInsn[] = [];
    let i = idx;
    while (i < CHUNK_WORDS) {
      if (i !== idx && stop(i)) break;
      const w = u32[base + i]! | 0;
      const op = decode(w);
      const d = ALL_OPS[op]!;
      if (d.interpOnly) break;
      if (d.branch) {
        if (i + 1 >= CHUNK_WORDS) break;
        const w2 = u32[base + i + 1]! | 0;
        const op2 = decode(w2);
        const d2 = ALL_OPS[op2]!;
        if (d2.interpOnly || d2.noDelaySlot) break;
        insns.push({ word: w, op }, { word: w2, op: op2 });
        // Superblocks: continue along the fall-through path of a conditional branch without link
        // (its taken path becomes a side exit); stop at jumps, calls and always-taken branches.
        const rs = (w >>> 21) & 31;
        const rt = (w >>> 16) & 31;
        const always =
          ((d.name === "beq" || d.name === "beql") && rs === rt) ||
          (rs === 0 && (d.name === "bgez" || d.name === "bgezl" || d.name === "blez" || d.name === "blezl"));
        if (d.kind !== "branch" || d.branch.link !== undefined || always) break;
        if (insns.length >= MAX_SUPERBLOCK || i + 2 >= CHUNK_WORDS) break;
        i += 2;
        continue;
      }
      insns.push({ word: w, op });
      i++;
      if (d.kind === "system" || d.kind === "reserved") break;
    }
    return insns;
  }

  /** Compiles the block starting at `pc`: up to a branch and its delay slot, an interpreter-only instruction or a 1 KiB boundary. */
  private buildSingle(pc: number, pa: number, key: number): Region {
    const chunkPa = pa - (pa % CHUNK_BYTES);
    const idx = (pa % CHUNK_BYTES) >>> 2;
    const insns = this.scanBlock(chunkPa, idx, () => false);
    const blocks: RegionBlock[] = insns.length > 0 ? [{ pc, insns, fallsThrough: false }] : [];
    return this.installRegion(blocks, [pa, pa + 4 * Math.max(1, insns.length)], key, chunkPa);
  }

  private installRegion(blocks: RegionBlock[], ranges: number[], key: number, chunkPa: number): Region {
    const len = blocks.length > 0 ? blocks[0]!.insns.length : 0;
    const region: Region = { fn: null, len, ranges, key, valid: true };
    if (blocks.length > 0) region.fn = compileRegion(this.env, blocks, this.costs).fn;
    const page = chunkPa >>> 12;
    if (!this.codePage[page]) {
      this.codePage[page] = 1;
      this.memory.watchPage(page, true);
      // Stores to this page must now take the slow path so they reach the watch handler.
      this.TW.fill(-1);
    }
    let list = this.pageRegions.get(page);
    if (!list) {
      list = [];
      this.pageRegions.set(page, list);
    }
    list.push(region);
    this.regions.set(key, region);
    return region;
  }

  /** Drops compiled code overlapping physical [paddr, paddr + size) (wired to memory watching). */
  invalidateDecodeCache(paddr: number, size: number): void {
    const first = paddr >>> 12;
    const last = (paddr + size - 1) >>> 12;
    for (let page = first; page <= last; page++) {
      const list = this.pageRegions.get(page);
      if (!list) continue;
      let kept = 0;
      for (const r of list) {
        let hit = false;
        for (let j = 0; j < r.ranges.length && !hit; j += 2) {
          hit = r.ranges[j]! < paddr + size && paddr < r.ranges[j + 1]!;
        }
        if (hit) {
          r.valid = false;
          this.regions.delete(r.key);
          this.brk = true;
        } else list[kept++] = r;
      }
      list.length = kept;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Diagnostics

  private record(pc: number, n: number): void {
    const t = (this.ti + 1) & (RING - 1);
    this.tracePc[t] = pc;
    this.traceN[t] = n;
    this.ti = t;
  }

  /**
   * The last `n` instructions executed (oldest first), disassembled, for diagnostics. Built from
   * the trace ring of block starts; code is read through the current translation.
   */
  recentInstructions(n: number): string[] {
    const out: string[] = [];
    let pos = this.ti;
    for (let k = 0; k < RING && out.length < n; k++) {
      const cnt = this.traceN[pos]!;
      const pc = this.tracePc[pos]!;
      for (let j = cnt - 1; j >= 0 && out.length < n; j--) out.push(this.describe((pc + 4 * j) | 0, -1));
      pos = (pos - 1) & (RING - 1);
    }
    return out.reverse();
  }

  private describe(pc: number, pa: number): string {
    let p = pa;
    if (p < 0) {
      const saved = this.tlbMissRefill;
      p = this.translate(pc, 2);
      this.tlbMissRefill = saved;
    }
    const hex = (pc >>> 0).toString(16).padStart(8, "0");
    if (p < 0 || !this.bus.isMemory(p)) return `${hex}:  ????????  (not readable)`;
    const w = p < this.memory.size ? this.memory.u32[p >>> 2]! : this.bus.read(p, 4);
    return `${hex}:  ${(w >>> 0).toString(16).padStart(8, "0")}  ${disassemble(w, pc)}`;
  }
}
