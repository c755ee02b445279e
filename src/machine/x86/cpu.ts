/**
 * The i386 CPU: 32-bit protected mode integer ISA, segmentation with descriptor caches,
 * rings 0-3, interrupts and exceptions through the IDT with the TSS stack switch, call gates,
 * I/O permission checks and paging.
 *
 * Guest exceptions are return codes: an access that faults records the exception in `pend*`
 * and returns; the instruction handler checks `pend` before committing anything, and the run
 * loop restores EIP and ESP to the instruction's start before delivering the exception, so a
 * faulting instruction restarts cleanly (SDM Vol. 3A §6.5 "faults"). Register writes happen
 * only after the instruction's memory accesses have succeeded; read-modify-write operands are
 * translated for writing before the read, so the final write cannot fault.
 *
 * Not simulated (documented limits): real mode and virtual-8086 mode (CR0.PE is forced on;
 * EFLAGS.VM is never set), task switches through task gates or TSS descriptors (#GP with the
 * selector as error code), x87/MMX/SSE (#UD, or #NM with CR0.EM/TS), MSRs (RDMSR/WRMSR #GP),
 * debug-register breakpoints (DR0-7 are storage only), single-step traps (TF is stored but
 * raises no #DB), alignment checks (#AC), and the LOCK prefix (accepted, no effect with one CPU).
 * Physical accesses beyond RAM read all-ones and writes are dropped (open bus).
 */
import type { SimClock } from "../clock.js";
import { type CostName, CostTable } from "../cost.js";
import { StopReason, type StopSignal } from "../cpu.js";
import type { PortBus, PortSize } from "../io-ports.js";
import type { PhysicalMemory } from "../memory.js";
import { compileBlock, MAX_BLOCK } from "./block-compiler.js";
import {
  CPUID_FEATURES_EDX,
  CPUID_MAX_LEAF,
  CPUID_SIGNATURE,
  CPUID_VENDOR_EBX,
  CPUID_VENDOR_ECX,
  CPUID_VENDOR_EDX,
} from "./cpuid.js";
import {
  ATTR_CODE,
  ATTR_DB,
  ATTR_DC,
  ATTR_P,
  ATTR_RW,
  ATTR_S,
  attrDpl,
  descAttr,
  descBase,
  descLimit,
  gateOffset,
  gateParamCount,
  gateSelector,
  SysType,
} from "./descriptors.js";
import { disassembleAt } from "./disasm.js";
import {
  AC,
  AF,
  CF,
  DF,
  EFLAGS_FIXED1,
  EFLAGS_WRITABLE,
  ID,
  IF,
  IOPL_MASK,
  IOPL_SHIFT,
  LazyFlags,
  NT,
  OF,
  OSZAP,
  OSZAPC,
  PF,
  RF,
  SF,
  SZP,
  TF,
  ZF,
} from "./flags.js";
import {
  CS,
  DS,
  EAX,
  EBP,
  EBX,
  ECX,
  EDI,
  EDX,
  ES,
  ESI,
  ESP,
  FS,
  GS,
  MODRM16_BASE,
  MODRM16_INDEX,
  SS,
} from "./modrm.js";
import { HAS_MODRM, IMM_KIND, IMM_ONLY_REG01, Imm } from "./opcodes.js";
import {
  Paging,
  TLB_NEVER,
  TLB_RAM,
  TLB_READ_SUP,
  TLB_READ_USER,
  TLB_WRITE_SUP,
  TLB_WRITE_USER,
} from "./paging.js";

/** Index of LDTR and TR in the descriptor-cache arrays (after the six segment registers). */
export const LDTR = 6;
export const TR = 7;

/** Exception vectors (SDM Vol. 3A Table 6-1). */
export const Vector = {
  DE: 0,
  DB: 1,
  NMI: 2,
  BP: 3,
  OF: 4,
  BR: 5,
  UD: 6,
  NM: 7,
  DF: 8,
  TS: 10,
  NP: 11,
  SS: 12,
  GP: 13,
  PF: 14,
  AC: 17,
} as const;

/** CR0 bits (SDM Vol. 3A §2.5). */
export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_PG = 1 << 31;
/** CR4 bits used here. */
export const CR4_TSD = 1 << 2;
export const CR4_PSE = 1 << 4;
export const CR4_PGE = 1 << 7;

/** A descriptor cache as a monitor reads or writes it. */
export interface SegmentCache {
  selector: number;
  base: number;
  /** Limit in bytes, granularity applied. */
  limit: number;
  /** Access rights, descriptors.ts layout (type, S, DPL, P, D/B, G). */
  attr: number;
  /** False for a null selector loaded into DS/ES/FS/GS (any use faults). */
  valid: boolean;
}

/** What the CPU recorded when it stopped with StopReason.Trap (interceptExceptions mode). */
export interface X86Trap {
  vector: number;
  errorCode: number;
  hasErrorCode: boolean;
  /** EIP of the faulting instruction (faults, INT n) or of the next instruction (interrupts). */
  eip: number;
  /** EIP after the instruction for software interrupts (INT n / INT3 / INTO), else = eip. */
  nextEip: number;
  cr2: number;
  /** "exception" (CPU-detected), "software" (INT n/INT3/INTO/ICEBP) or "external" (PIC). */
  kind: "exception" | "software" | "external";
}

export interface X86CpuOptions {
  memory: PhysicalMemory;
  ports: PortBus;
  clock: SimClock;
  stop: StopSignal;
  costs?: Record<CostName, number>;
}

/** A place for a deferred exception: 0xffffffff + 1 never is an int32 linear address. */
const SEG_FAULT = 0x100000000;

// segRights bits
const SR_READ = 1;
const SR_WRITE = 2;
/** Readable, limit covers every 32-bit offset: no checks needed beyond the rights. */
const SR_READ_FAST = 4;
const SR_WRITE_FAST = 8;
const SR_VALID = 16;

/** Event kinds for interrupt delivery. */
const EV_EXCEPTION = 0;
const EV_SOFTWARE = 1;
const EV_EXTERNAL = 2;

/** Contributory exceptions for the double-fault rule (SDM Vol. 3A Table 6-5). */
function isContributory(v: number): boolean {
  return v === 0 || v === 10 || v === 11 || v === 12 || v === 13;
}

const RECENT = 64;

/** A compiled block: runs from the CPU's EIP, returns the instructions retired. */
type BlockFn = (cpu: X86Cpu, regs: Int32Array) => number;
/**
 * A compiled block and the state it was compiled under: its code bakes in CS offsets (EIP
 * constants, jump targets checked against the CS limit at compile time) and the physical bytes
 * at `phys`, so it may only run where CS.base + EIP = `lin`, CS base/limit/CPL are the same and
 * `lin` still translates to `phys`. Blocks never cross a linear (hence physical) page.
 */
interface CodeBlock {
  fn: BlockFn;
  /** Linear address of the first instruction (CS.base + eip). */
  lin: number;
  eip: number;
  phys: number;
  page: number;
  csBase: number;
  csLimit: number;
  cpl: number;
  /**
   * `tlbGen` when lookupBlock last found `lin` translating to `phys`: while it is current no
   * translation changed since, so chaining to this block needs no TLB check.
   */
  gen: number;
  /**
   * Cycles the block's instructions but the last cost at most (instruction cost plus their
   * multiply and divide costs; nothing else in a block charges cycles): the block may start only
   * while the clock stays below the next deadline that long, so timers run and interrupts are
   * taken after the same instruction as when interpreting.
   */
  guard: number;
  valid: boolean;
  /** The last two blocks run after this one (chaining; see run). */
  s0: CodeBlock | null;
  s1: CodeBlock | null;
  /** Another block at the same linear address under other state (other CS, other mapping). */
  alt: CodeBlock | null;
}
const noBlock: BlockFn = () => 0;
const BLOCK_CACHE_MASK = 4095;
/** Variants kept per linear address (e.g. one per process mapping the same user address). */
const MAX_ALTS = 4;

export class X86Cpu {
  /** General registers in encoding order: EAX ECX EDX EBX ESP EBP ESI EDI. */
  readonly regs = new Int32Array(8);
  /** Offset of the next instruction in CS. */
  eip = 0;

  /** Descriptor caches: ES CS SS DS FS GS, then LDTR (6) and TR (7). */
  readonly segSel = new Int32Array(8);
  readonly segBase = new Int32Array(8);
  /** Limit in bytes as uint32 bit patterns. */
  readonly segLimit = new Int32Array(8);
  readonly segAttr = new Int32Array(8);
  /** Derived from the caches: rights bits and the valid offset range. */
  private readonly segRights = new Int32Array(8);
  private readonly segLo = new Float64Array(8);
  private readonly segHi = new Float64Array(8);

  gdtrBase = 0;
  gdtrLimit = 0xffff;
  idtrBase = 0;
  idtrLimit = 0xffff;
  /** CR2: the linear address of the last page fault. */
  cr2 = 0;
  readonly dr = new Int32Array(8);

  /** Monitor mode: exceptions and interrupts stop the CPU (StopReason.Trap) instead of vectoring. */
  interceptExceptions = false;
  readonly trap: X86Trap = {
    vector: 0,
    errorCode: 0,
    hasErrorCode: false,
    eip: 0,
    nextEip: 0,
    cr2: 0,
    kind: "exception",
  };
  /** The PIC (or a monitor's virtual one): asked for the vector when the CPU takes INTR. */
  interruptController: { acknowledge(): number } | null = null;

  readonly stats = { instructions: 0, cycles: 0, exceptions: new Float64Array(256) };
  /** Why the machine shut down (triple fault), empty otherwise. */
  diagnostic = "";
  /** True after HLT until an interrupt arrives. */
  halted = false;

  readonly paging: Paging;

  // --- private state ---
  private flags = EFLAGS_FIXED1;
  private readonly lf = new LazyFlags();
  private cr0v = CR0_PE | CR0_ET;
  private cr3v = 0;
  private cr4v = 0;
  private cplv = 0;
  private rdMask = TLB_READ_SUP;
  private wrMask = TLB_WRITE_SUP;
  private readonly tlb: Int32Array;
  private readonly mem: PhysicalMemory;
  private readonly u8: Uint8Array;
  private readonly i32: Int32Array;
  private readonly dv: DataView;
  private readonly memSize: number;
  private readonly watched: Uint8Array;
  private readonly ports: PortBus;
  private readonly clock: SimClock;
  private readonly stop: StopSignal;
  private readonly cost: Record<CostName, number>;
  private intrLine = false;
  /** Interrupts are inhibited for one instruction after STI and MOV/POP SS. */
  private shadow = false;
  private breakOut = false;
  private stopReason = -1;

  // pending exception
  private pend = -1;
  private pendErr = 0;
  private pendHasErr = false;

  // the instruction being executed
  private startEip = 0;
  private startEsp = 0;
  private os = 4; // operand size in bytes
  private as32 = true; // address size
  private segOvr = -1;
  private rep = 0; // 0, 0xf2, 0xf3
  private mod = 0;
  private reg = 0;
  private rm = 0;
  private ea = 0;
  private eaSeg = DS;
  /** The memory operand's base register is ESP (POP r/m recomputes it after the pop). */
  private eaBaseEsp = false;
  private imm = 0;
  private imm2 = 0;
  private codeBig = true;
  private stackBig = true;

  // the fetch window: linear [fetchLo, fetchHi) maps to physical fetchLo + fetchDelta
  private fetchLo = 0;
  private fetchHi = 0;
  private fetchDelta = 0;

  /** Compile straight-line code into JS functions (any 32-bit CS); false = interpret only. */
  blockCompiler = true;
  /**
   * Times a block entry is reached interpreted before it is compiled (a `new Function` costs
   * about as much as interpreting a few thousand instructions). Tests set 0 to compile at once.
   */
  compileThreshold = 8;
  /** Interpreted arrivals per blockCache slot (collisions only delay a compile). */
  private readonly blockHeat = new Uint16Array(BLOCK_CACHE_MASK + 1);
  /** Blocks compiled since the last dropAllBlocks (replaced variants stay in pageBlocks). */
  private liveBlocks = 0;
  /** Blocks by linear address (a list through `alt`); each remembers its physical address. */
  private readonly blocks = new Map<number, CodeBlock>();
  private readonly pageBlocks = new Map<number, CodeBlock[]>();
  /** Direct-mapped front of `blocks`, indexed by a hash of the linear address. */
  private readonly blockCache = new Array<CodeBlock | undefined>(BLOCK_CACHE_MASK + 1).fill(undefined);
  /**
   * Set when a store hits a page holding compiled code (watch handler) or the TLB is flushed or
   * invalidated (possibly by a monitor's watch handler during a store): compiled blocks read it
   * after each store and return, so the next instruction is fetched through the new state.
   */
  codeDirty = false;
  /**
   * Compiled blocks access aligned dwords below this physical address directly in RAM (no
   * segment check, no TLB): nonzero only while ES, SS and DS are base-0 4 GiB read/write
   * segments (SS 32-bit), paging is off and no ownership oracle is installed, so such an access
   * can neither fault nor differ from rd32/wr32. Recomputed by updateFlat on every change.
   */
  flatLimit = 0;
  /**
   * The TLB fast path of compiled blocks (paging on or off), per segment register: the mask a
   * TLB entry must contain for an aligned dword access at offset x (with x + 3 <= segHi, the
   * limit: a monitor's truncated segments qualify) to go straight to RAM at (entry frame |
   * x & 0xfff). It is the CPL's read (write) mask plus TLB_RAM for a base-0 expand-up segment
   * with the rights, and TLB_NEVER otherwise (and with an ownership oracle, through
   * rdMask/wrMask), so one compare covers segment rights, page rights, A/D (the write mask
   * needs TLB_DIRTY: a store through a clean entry walks once and sets D) and RAM.
   * The entries are the TLB's own, so every TLB flush (CR3, CR0/CR4, INVLPG, a monitor's
   * Paging.flush/invalidate) applies to them.
   */
  private readonly segRdTlb = new Int32Array(8).fill(TLB_NEVER);
  private readonly segWrTlb = new Int32Array(8).fill(TLB_NEVER);
  /** Bumped on every CS cache or CPL change: a chain of blocks stops when it moves. */
  private csGen = 0;
  /** Bumped on every TLB flush, INVLPG or remapping re-walk (Paging.onFlush). */
  private tlbGen = 0;
  /** Blocks compiled, for statistics. */
  blocksCompiled = 0;

  private readonly recent = new Int32Array(RECENT);
  private recentPos = 0;

  constructor(opts: X86CpuOptions) {
    this.mem = opts.memory;
    this.u8 = opts.memory.u8;
    this.i32 = new Int32Array(opts.memory.u8.buffer);
    this.dv = opts.memory.view;
    this.memSize = opts.memory.size;
    this.watched = opts.memory.watched;
    this.ports = opts.ports;
    this.clock = opts.clock;
    this.stop = opts.stop;
    this.cost = opts.costs ?? { ...CostTable };
    this.paging = new Paging(opts.memory);
    this.tlb = this.paging.tlb;
    this.paging.onFlush = () => {
      this.invalidateFetch();
      this.codeDirty = true;
      this.tlbGen++;
    };
    opts.memory.addWatchHandler((paddr) => this.onCodeWrite(paddr));
    this.resetMultiboot(0, 0);
  }

  // =====================================================================================
  // Public state access
  // =====================================================================================

  /** Current privilege level (CS.RPL as loaded). */
  get cpl(): number {
    return this.cplv;
  }

  getEflags(): number {
    return this.lf.materialize(this.flags) | EFLAGS_FIXED1;
  }

  /** Sets EFLAGS without privilege checks (monitors, loaders). */
  setEflags(v: number): void {
    this.lf.lazy = 0;
    this.flags = (v & EFLAGS_WRITABLE) | EFLAGS_FIXED1;
  }

  get cr0(): number {
    return this.cr0v;
  }
  set cr0(v: number) {
    this.writeCr0(v);
  }
  get cr3(): number {
    return this.cr3v;
  }
  set cr3(v: number) {
    this.cr3v = v >>> 0;
    this.paging.cr3 = this.cr3v;
    this.flushTlb(true);
  }
  get cr4(): number {
    return this.cr4v;
  }
  set cr4(v: number) {
    this.cr4v = v & (CR4_TSD | CR4_PSE | CR4_PGE);
    this.paging.pse = (this.cr4v & CR4_PSE) !== 0;
    this.paging.pge = (this.cr4v & CR4_PGE) !== 0;
    this.flushTlb(false);
  }

  /** A copy of descriptor cache `i` (0-5 segment registers, 6 LDTR, 7 TR). */
  getSegment(i: number): SegmentCache {
    return {
      selector: this.segSel[i]!,
      base: this.segBase[i]! >>> 0,
      limit: this.segLimit[i]! >>> 0,
      attr: this.segAttr[i]!,
      valid: (this.segRights[i]! & SR_VALID) !== 0,
    };
  }

  /** Writes descriptor cache `i` directly, without checks (a monitor's privilege). */
  setSegment(i: number, s: SegmentCache): void {
    this.setCache(i, s.selector, s.base, s.limit, s.attr, s.valid);
    if (i === CS) this.setCpl(s.selector & 3);
  }

  /** Input from the interrupt controller's INTR output. */
  setIntr(level: boolean): void {
    this.intrLine = level;
  }

  /**
   * Flat 32-bit protected mode as QEMU's multiboot loader leaves the CPU (Multiboot
   * Specification 0.6.96 §3.2 "Machine state"): EAX = 0x2BADB002, EBX = info address, CS a
   * 4 GiB execute/read code segment, DS/ES/FS/GS/SS 4 GiB read/write data segments, CR0.PE = 1,
   * paging off, IF = 0. GDTR/IDTR are left as QEMU's linuxboot leaves them: undefined for the
   * guest; we set base 0 limit 0xffff and the guest must load its own before using them.
   */
  resetMultiboot(entry: number, ebx: number): void {
    this.regs.fill(0);
    this.regs[EAX] = 0x2badb002;
    this.regs[EBX] = ebx;
    this.eip = entry >>> 0;
    this.setEflags(0);
    this.cr0v = CR0_PE | CR0_ET;
    this.cr2 = 0;
    this.cr3v = 0;
    this.cr4v = 0;
    this.paging.enabled = false;
    this.paging.wp = false;
    this.paging.pse = false;
    this.paging.pge = false;
    this.paging.cr3 = 0;
    // Selectors as QEMU's multiboot option ROM (pc-bios/optionrom/multiboot.S) sets them: code 0x08, data 0x10.
    const code = 0x009b | ATTR_DB | 0x8000; // P, DPL 0, S, execute/read accessed, D, G
    const data = 0x0093 | ATTR_DB | 0x8000; // P, DPL 0, S, read/write accessed, B, G
    for (let i = 0; i < 6; i++) this.setCache(i, 0x10, 0, 0xffffffff, data, true);
    this.setCache(CS, 0x08, 0, 0xffffffff, code, true);
    this.setCache(LDTR, 0, 0, 0xffff, 0x0082, true);
    this.setCache(TR, 0, 0, 0xffff, 0x008b, true);
    this.gdtrBase = 0;
    this.gdtrLimit = 0xffff;
    this.idtrBase = 0;
    this.idtrLimit = 0xffff;
    this.setCpl(0);
    this.halted = false;
    this.shadow = false;
    this.pend = -1;
    this.flushTlb(false);
  }

  /** Executes up to `maxInstructions` instructions; returns why it stopped. */
  run(maxInstructions: number): StopReason {
    const clock = this.clock;
    const instCost = this.cost.instruction;
    this.stopReason = -1;
    this.breakOut = false;
    // With an ownership oracle installed every access must take the slow path that calls it.
    if (this.mem.oracle !== null) this.setCpl(this.cplv);
    this.updateFlat();
    let n = 0;
    let idleSkips = 0;
    let reason: StopReason = StopReason.Budget;
    while (n < maxInstructions) {
      if (this.stop.requested) {
        reason = StopReason.Exit;
        break;
      }
      if (this.intrLine && (this.flags & IF) !== 0 && !this.shadow) {
        this.halted = false;
        this.externalInterrupt();
        if (this.stopReason >= 0) break;
      }
      if (this.halted) {
        // HLT with IF = 0 can never wake (no NMI source): the machine is idle for good.
        if ((this.flags & IF) === 0 || !clock.skipToNextDeadline()) {
          reason = StopReason.Idle;
          break;
        }
        // Timers that never raise INTR must not keep run() spinning: idle time is bounded too.
        if (++idleSkips >= maxInstructions) break;
        continue;
      }
      let retired: number;
      let block =
        this.blockCompiler && this.codeBig && !this.shadow && maxInstructions - n >= MAX_BLOCK
          ? this.lookupBlock()
          : null;
      // A block must not pass a timer deadline before its last instruction: the interpreter
      // would run the due timers (and take the interrupt) there, so it runs those instead.
      if (block !== null && clock.cycles + block.guard >= clock.nextDeadline) block = null;
      if (block !== null) {
        // Chain blocks while nothing needs the outer loop: no fault, exit, HLT, shadow, pending
        // interrupt, timer deadline, or budget end.
        const regs = this.regs;
        const limit = maxInstructions - MAX_BLOCK;
        const gen = this.csGen;
        let cb = block;
        retired = 0;
        for (;;) {
          this.codeDirty = false;
          this.recent[this.recentPos] = this.eip;
          this.recentPos = (this.recentPos + 1) & (RECENT - 1);
          const k = cb.fn(this, regs);
          retired += k;
          clock.cycles += k * instCost;
          if (
            this.pend >= 0 ||
            this.breakOut ||
            this.halted ||
            this.shadow ||
            n + retired > limit ||
            (this.intrLine && (this.flags & IF) !== 0) ||
            this.csGen !== gen
          ) {
            break;
          }
          // Chain to a remembered successor. CS is unchanged since `block` was looked up, and a
          // successor was linked under the same CS state, so what is left to check is that it
          // starts at EIP, is valid and was found translating to its physical page since the
          // last change of any translation (gen): then it is what lookupBlock would return.
          const eip = this.eip;
          const tg = this.tlbGen;
          let next = cb.s0;
          if (next === null || next.eip !== eip || !next.valid || next.gen !== tg) {
            next = cb.s1;
            if (next === null || next.eip !== eip || !next.valid || next.gen !== tg) {
              next = this.lookupBlock();
              if (next === null) break;
              cb.s1 = cb.s0;
              cb.s0 = next;
            }
          }
          // Also the deadline check: guard >= 0 covers a deadline that is already due.
          if (clock.cycles + next.guard >= clock.nextDeadline) break;
          cb = next;
        }
        n += retired;
      } else {
        this.shadow = false;
        this.startEip = this.eip;
        this.startEsp = this.regs[ESP]!;
        this.recent[this.recentPos] = this.eip;
        this.recentPos = (this.recentPos + 1) & (RECENT - 1);
        this.step();
        retired = this.pend >= 0 ? 0 : 1;
        n += retired;
        clock.cycles += retired * instCost;
      }
      if (this.pend >= 0) {
        this.raisePending();
        if (this.stopReason >= 0) break;
      }
      if (clock.cycles >= clock.nextDeadline) clock.runDue();
      if (this.breakOut) {
        this.breakOut = false;
        if (this.stopReason >= 0) break;
        if (this.stop.requested) {
          reason = StopReason.Exit;
          break;
        }
      }
    }
    this.stats.instructions += n;
    this.stats.cycles = clock.cycles;
    if (this.stopReason >= 0) {
      reason = this.stopReason as StopReason;
      this.stopReason = -1;
    }
    return reason;
  }

  /** The last `n` instructions executed (oldest first), disassembled at their CS offsets. */
  recentInstructions(n: number): string[] {
    const out: string[] = [];
    const count = Math.min(n, RECENT, this.stats.instructions);
    for (let i = count; i >= 1; i--) {
      const eip = this.recent[(this.recentPos - i + RECENT) & (RECENT - 1)]! >>> 0;
      out.push(this.disassembleAt(eip));
    }
    return out;
  }

  /** Disassembles the instruction at CS:`eip` through the current translation (no side effects). */
  disassembleAt(eip: number): string {
    const bytes = new Uint8Array(15);
    let got = 0;
    for (; got < 15; got++) {
      const lin = (this.segBase[CS]! + eip + got) >>> 0;
      const phys = this.peekTranslate(lin);
      if (phys < 0 || phys >= this.memSize) break;
      bytes[got] = this.u8[phys]!;
    }
    const text = disassembleAt(bytes.subarray(0, got), eip >>> 0, this.codeBig);
    return `${(eip >>> 0).toString(16).padStart(8, "0")}: ${text.text}`;
  }

  /** Linear to physical without side effects (no A/D updates, no faults): -1 if unmapped. */
  peekTranslate(lin: number): number {
    if (!this.paging.enabled) return lin >>> 0;
    const pde = this.peekPhys32(((this.cr3v & ~0xfff) + ((lin >>> 22) << 2)) >>> 0);
    if ((pde & 1) === 0) return -1;
    if ((pde & 0x80) !== 0 && (this.cr4v & CR4_PSE) !== 0)
      return ((pde & 0xffc00000) | (lin & 0x3fffff)) >>> 0;
    const pte = this.peekPhys32(((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0);
    if ((pte & 1) === 0) return -1;
    return ((pte & ~0xfff) | (lin & 0xfff)) >>> 0;
  }

  private peekPhys32(p: number): number {
    return p + 4 <= this.memSize ? this.dv.getInt32(p, true) : -1;
  }

  // =====================================================================================
  // Compiled blocks
  // =====================================================================================

  /** The compiled block for CS:EIP, compiling it on first use; null to interpret instead. */
  private lookupBlock(): CodeBlock | null {
    const eip = this.eip;
    const csBase = this.segBase[CS]!;
    const lin = (csBase + eip) | 0;
    const e = this.tlb[lin >>> 12]!;
    const mask = this.rdMask;
    if ((e & mask) !== mask) return null; // let the interpreter walk the page tables
    const phys = ((e & ~0xfff) | (lin & 0xfff)) >>> 0;
    if (phys >= this.memSize) return null;
    const csLimit = this.segLimit[CS]!;
    const cpl = this.cplv;
    const slot = (lin ^ (lin >>> 11)) & BLOCK_CACHE_MASK;
    let b = this.blockCache[slot];
    if (
      b === undefined ||
      b.lin !== lin ||
      b.phys !== phys ||
      b.csBase !== csBase ||
      b.csLimit !== csLimit ||
      b.cpl !== cpl ||
      !b.valid
    ) {
      b = this.blocks.get(lin);
      while (
        b !== undefined &&
        (b.phys !== phys || b.csBase !== csBase || b.csLimit !== csLimit || b.cpl !== cpl || !b.valid)
      ) {
        b = b.alt ?? undefined;
      }
      if (b === undefined) {
        // Compile only code that runs again: one-shot code (start-up, a return address an
        // interrupt left in the middle of a block) is cheaper to interpret than to compile.
        const heat = this.blockHeat;
        if (heat[slot]! < this.compileThreshold) {
          heat[slot]!++;
          return null;
        }
        heat[slot] = 0;
        return this.compileAt(lin, eip, phys);
      }
      this.blockCache[slot] = b;
    }
    b.gen = this.tlbGen;
    return b.fn === noBlock ? null : b;
  }

  private compileAt(lin: number, eip: number, phys: number): CodeBlock | null {
    if (this.liveBlocks >= 1 << 16) this.dropAllBlocks();
    this.liveBlocks++;
    const csLimit = this.segLimit[CS]!;
    // Bytes of code the CS limit allows from EIP (the block must not run past it).
    const room = (csLimit >>> 0) - (eip >>> 0) + 1;
    const src = room <= 0 ? null : compileBlock(this.u8, phys, eip, Math.min(room, 0x1000), csLimit >>> 0);
    const page = phys >>> 12;
    // The block compiler's output comes from our own templates over decoded guest code (no guest strings).
    const fn = src === null ? null : (new Function("c", "r", src.body) as BlockFn);
    const block: CodeBlock = {
      fn: fn ?? noBlock,
      lin,
      eip,
      phys,
      page,
      csBase: this.segBase[CS]!,
      csLimit,
      cpl: this.cplv,
      gen: this.tlbGen,
      guard:
        src === null
          ? 0
          : (src.count - 1) * this.cost.instruction +
            src.multiplies * this.cost.multiply +
            src.divides * this.cost.divide,
      valid: true,
      s0: null,
      s1: null,
      alt: null,
    };
    // Newest first; stale (invalid) variants and those beyond MAX_ALTS are dropped.
    let prev = block;
    let old = this.blocks.get(lin);
    for (let k = 1; old !== undefined && k < MAX_ALTS; old = old.alt ?? undefined) {
      if (!old.valid) continue;
      prev.alt = old;
      prev = old;
      k++;
    }
    prev.alt = null;
    this.blocks.set(lin, block);
    this.blockCache[(lin ^ (lin >>> 11)) & BLOCK_CACHE_MASK] = block;
    let list = this.pageBlocks.get(page);
    if (list === undefined) {
      list = [];
      this.pageBlocks.set(page, list);
      this.mem.watchPage(page, true);
    }
    list.push(block);
    this.blocksCompiled++;
    return fn === null ? null : block;
  }

  /** Watch handler: a store into a page with compiled code drops that page's blocks. */
  private onCodeWrite(paddr: number): void {
    const page = paddr >>> 12;
    const list = this.pageBlocks.get(page);
    if (list === undefined) return;
    for (const b of list) b.valid = false;
    this.liveBlocks -= list.length;
    this.pageBlocks.delete(page);
    this.mem.watchPage(page, false);
    this.codeDirty = true;
  }

  private dropAllBlocks(): void {
    for (const [page, list] of this.pageBlocks) {
      for (const b of list) b.valid = false;
      this.mem.watchPage(page, false);
    }
    this.pageBlocks.clear();
    this.liveBlocks = 0;
    this.blocks.clear();
    this.blockCache.fill(undefined);
  }

  // =====================================================================================
  // Internal state helpers
  // =====================================================================================

  private setCache(i: number, sel: number, base: number, limit: number, attr: number, valid: boolean): void {
    this.segSel[i] = sel & 0xffff;
    this.segBase[i] = base | 0;
    this.segLimit[i] = limit | 0;
    this.segAttr[i] = attr;
    const lim = limit >>> 0;
    let rights = valid ? SR_VALID : 0;
    let lo = 0;
    let hi = lim;
    if (valid && i < 6) {
      if ((attr & ATTR_CODE) !== 0) {
        if ((attr & ATTR_RW) !== 0) rights |= SR_READ;
      } else {
        rights |= SR_READ;
        if ((attr & ATTR_RW) !== 0) rights |= SR_WRITE;
        if ((attr & ATTR_DC) !== 0) {
          // Expand-down: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF by the B bit.
          lo = lim + 1;
          hi = (attr & ATTR_DB) !== 0 ? 0xffffffff : 0xffff;
        }
      }
      if (lo === 0 && hi === 0xffffffff) {
        if (rights & SR_READ) rights |= SR_READ_FAST;
        if (rights & SR_WRITE) rights |= SR_WRITE_FAST;
      }
    }
    this.segRights[i] = rights;
    this.segLo[i] = lo;
    this.segHi[i] = hi;
    if (i === CS) {
      this.codeBig = (attr & ATTR_DB) !== 0;
      this.csGen++;
      this.invalidateFetch();
    } else if (i === SS) {
      this.stackBig = (attr & ATTR_DB) !== 0;
    }
    // Every data segment has a fast-path mask (segRdTlb/segWrTlb); ES/SS/DS also decide flatLimit.
    if (i < 6) this.updateFlat();
  }

  /** Recomputes flatLimit and the segments' TLB masks (see there) after a segment, CPL, CR0 or oracle change. */
  private updateFlat(): void {
    const fast = SR_READ_FAST | SR_WRITE_FAST;
    const r = this.segRights;
    const b = this.segBase;
    for (let i = 0; i < 6; i++) {
      // Base 0 and expand-up: an offset is the linear address, valid up to segHi (the limit).
      const zero = b[i] === 0 && this.segLo[i] === 0;
      this.segRdTlb[i] = zero && (r[i]! & SR_READ) !== 0 ? this.rdMask | TLB_RAM : TLB_NEVER;
      this.segWrTlb[i] = zero && (r[i]! & SR_WRITE) !== 0 ? this.wrMask | TLB_RAM : TLB_NEVER;
    }
    const flat =
      !this.paging.enabled &&
      this.mem.oracle === null &&
      this.stackBig &&
      (r[ES]! & r[SS]! & r[DS]! & fast) === fast &&
      (b[ES]! | b[SS]! | b[DS]!) === 0;
    this.flatLimit = flat ? this.memSize & ~3 : 0;
  }

  private setCpl(cpl: number): void {
    this.cplv = cpl;
    this.csGen++;
    const user = cpl === 3;
    // Bit 64 is never set in a TLB entry: with an oracle every access misses the fast path.
    const slow = this.mem.oracle !== null ? TLB_NEVER : 0;
    this.rdMask = (user ? TLB_READ_USER : TLB_READ_SUP) | slow;
    this.wrMask = (user ? TLB_WRITE_USER : TLB_WRITE_SUP) | slow;
    this.invalidateFetch();
    this.updateFlat();
  }

  private invalidateFetch(): void {
    this.fetchLo = 0;
    this.fetchHi = 0;
  }

  private flushTlb(keepGlobal: boolean): void {
    this.paging.flush(keepGlobal); // onFlush drops the fetch window
  }

  private writeCr0(v: number): void {
    // ET is hardwired to 1 on i486+; PE stays 1: real mode is not simulated.
    const nv =
      (v | CR0_ET | CR0_PE) &
      (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG);
    this.cr0v = nv | 0;
    this.paging.enabled = (nv & CR0_PG) !== 0;
    this.paging.wp = (nv & CR0_WP) !== 0;
    this.flushTlb(false);
    this.updateFlat();
  }

  private fault(vector: number, err: number, hasErr: boolean): void {
    if (this.pend >= 0) return;
    this.pend = vector;
    this.pendErr = err & 0xffff;
    this.pendHasErr = hasErr;
  }
  private gp(err: number): void {
    this.fault(Vector.GP, err, true);
  }
  private ud(): void {
    this.fault(Vector.UD, 0, false);
  }

  // =====================================================================================
  // Flags
  // =====================================================================================

  private getCF(): number {
    return (this.lf.lazy & CF) !== 0 ? this.lf.materialize(this.flags) & CF : this.flags & CF;
  }

  /** Materialises the lazy flags into `flags`. */
  private syncFlags(): void {
    if (this.lf.lazy !== 0) {
      this.flags = this.lf.materialize(this.flags);
      this.lf.lazy = 0;
    }
  }

  private getZF(): boolean {
    const lf = this.lf;
    return (lf.lazy & ZF) !== 0 ? lf.res << (31 - lf.sizeBit) === 0 : (this.flags & ZF) !== 0;
  }
  private getSF(): boolean {
    const lf = this.lf;
    return (lf.lazy & SF) !== 0 ? ((lf.res >>> lf.sizeBit) & 1) !== 0 : (this.flags & SF) !== 0;
  }
  private getOF(): boolean {
    const lf = this.lf;
    return (lf.lazy & OF) !== 0
      ? !!((((lf.a ^ lf.sum) & (lf.b ^ lf.sum)) >>> lf.sizeBit) & 1)
      : (this.flags & OF) !== 0;
  }
  private getCFb(): boolean {
    const lf = this.lf;
    return (lf.lazy & CF) !== 0
      ? !!(((lf.a ^ ((lf.a ^ lf.b) & (lf.b ^ lf.sum))) >>> lf.sizeBit) & 1)
      : (this.flags & CF) !== 0;
  }

  /** Evaluates condition code `c` (SDM Vol. 1 Table B-1), deriving only the flags it needs. */
  private cond(c: number): boolean {
    let r: boolean;
    switch (c >> 1) {
      case 0:
        r = this.getOF();
        break;
      case 1:
        r = this.getCFb();
        break;
      case 2:
        r = this.getZF();
        break;
      case 3:
        r = this.getCFb() || this.getZF();
        break;
      case 4:
        r = this.getSF();
        break;
      case 5:
        r = ((this.lf.lazy !== 0 ? this.lf.materialize(this.flags) : this.flags) & PF) !== 0;
        break;
      case 6:
        r = this.getSF() !== this.getOF();
        break;
      default:
        r = this.getZF() || this.getSF() !== this.getOF();
        break;
    }
    return (c & 1) !== 0 ? !r : r;
  }

  /** Records an addition a + b (+ carry) = sum for lazy OSZAPC. */
  private setAdd(sizeBit: number, a: number, b: number, sum: number, lazy: number): void {
    const lf = this.lf;
    // INC/DEC keep CF: fold a still-lazy CF into the materialised flags first.
    if ((lf.lazy & ~lazy) !== 0) {
      this.flags = (this.flags & ~CF) | (this.getCFb() ? CF : 0);
    }
    lf.lazy = lazy;
    lf.a = a;
    lf.b = b;
    lf.sum = sum;
    lf.res = sum;
    lf.sizeBit = sizeBit;
  }

  /** Records a subtraction d - s (- borrow) = r as the addition r + s (+ borrow) = d. */
  private setSub(sizeBit: number, d: number, s: number, r: number): void {
    const lf = this.lf;
    lf.lazy = OSZAPC;
    lf.a = r;
    lf.b = s;
    lf.sum = d;
    lf.res = r;
    lf.sizeBit = sizeBit;
  }

  /** Logic result: CF = OF = 0, AF = 0 (undefined in the SDM), SF/ZF/PF from the result. */
  private setLogic(sizeBit: number, r: number): void {
    const lf = this.lf;
    this.flags &= ~(CF | OF | AF);
    lf.lazy = SZP;
    lf.res = r;
    lf.sizeBit = sizeBit;
  }

  /** Sets CF and OF explicitly; the other lazy flags stay lazy (rotates). */
  private setCfOf(cf: number, of: number): void {
    this.lf.lazy &= ~(CF | OF);
    this.flags = (this.flags & ~(CF | OF)) | cf | (of ? OF : 0);
  }

  /** Sets CF/OF/AF explicitly and SF/ZF/PF from `r` (shifts, multiplies). */
  private setExplicit(sizeBit: number, r: number, cfofaf: number): void {
    const lf = this.lf;
    this.flags = (this.flags & ~(CF | OF | AF)) | cfofaf;
    lf.lazy = SZP;
    lf.res = r;
    lf.sizeBit = sizeBit;
  }

  // =====================================================================================
  // Registers by size (size in bytes: 1, 2, 4)
  // =====================================================================================

  private getReg(size: number, r: number): number {
    const regs = this.regs;
    if (size === 4) return regs[r]!;
    if (size === 2) return regs[r]! & 0xffff;
    return r < 4 ? regs[r]! & 0xff : (regs[r - 4]! >> 8) & 0xff;
  }

  private setReg(size: number, r: number, v: number): void {
    const regs = this.regs;
    if (size === 4) regs[r] = v;
    else if (size === 2) regs[r] = (regs[r]! & ~0xffff) | (v & 0xffff);
    else if (r < 4) regs[r] = (regs[r]! & ~0xff) | (v & 0xff);
    else regs[r - 4] = (regs[r - 4]! & ~0xff00) | ((v & 0xff) << 8);
  }

  // =====================================================================================
  // Memory: segment checks, translation, typed access
  // =====================================================================================

  /** Segment check of `off`..`off+size-1`; returns the linear address or SEG_FAULT. */
  private segCheck(seg: number, off: number, size: number, write: boolean): number {
    const r = this.segRights[seg]!;
    const o = off >>> 0;
    const isSS = seg === SS;
    if ((r & SR_VALID) === 0 || (r & (write ? SR_WRITE : SR_READ)) === 0) {
      this.fault(isSS ? Vector.SS : Vector.GP, 0, true);
      return SEG_FAULT;
    }
    if (o < this.segLo[seg]! || o + size - 1 > this.segHi[seg]!) {
      this.fault(isSS ? Vector.SS : Vector.GP, 0, true);
      return SEG_FAULT;
    }
    return (this.segBase[seg]! + o) | 0;
  }

  /** Translates a linear address, raising #PF on failure: physical address or -1. */
  private translate(lin: number, write: boolean, user: boolean): number {
    const e = this.tlb[lin >>> 12]!;
    const mask = user ? (write ? TLB_WRITE_USER : TLB_READ_USER) : write ? TLB_WRITE_SUP : TLB_READ_SUP;
    let phys: number;
    if ((e & mask) === mask) phys = ((e & ~0xfff) | (lin & 0xfff)) >>> 0;
    else {
      phys = this.paging.walk(lin, write, user);
      if (phys < 0) {
        this.cr2 = lin >>> 0;
        this.fault(Vector.PF, this.paging.faultCode, true);
        return -1;
      }
    }
    const oracle = this.mem.oracle;
    if (oracle !== null && phys < this.memSize) oracle(phys, 1, write);
    return phys;
  }

  private physRead8(p: number): number {
    return p < this.memSize ? this.u8[p]! : 0xff;
  }
  private physWrite8(p: number, v: number): void {
    if (p >= this.memSize) return;
    this.u8[p] = v;
    if (this.watched[p >>> 12] !== 0) this.mem.notifyWatchedWrite(p, 1);
  }

  /** Reads `size` bytes at a linear address (little endian). `user` = CPL-3 access rights. */
  private linRead(lin: number, size: number, user: boolean): number {
    if ((lin & 0xfff) + size > 0x1000) {
      // Crossing a page: translate both pages before reading (either may fault).
      const p0 = this.translate(lin, false, user);
      if (p0 < 0) return 0;
      const lin2 = (lin + size - 1) | 0;
      const p1 = this.translate(lin2 & ~0xfff, false, user);
      if (p1 < 0) return 0;
      let v = 0;
      for (let i = 0; i < size; i++) {
        const l = (lin + i) | 0;
        const p = ((l ^ lin2) & ~0xfff) === 0 ? p1 + (l & 0xfff) : p0 + i;
        v |= this.physRead8(p) << (8 * i);
      }
      return size === 4 ? v : v & ((1 << (8 * size)) - 1);
    }
    const p = this.translate(lin, false, user);
    if (p < 0) return 0;
    if (p + size > this.memSize) return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    if (size === 1) return this.u8[p]!;
    if (size === 2) return this.dv.getUint16(p, true);
    return this.dv.getInt32(p, true);
  }

  /** Checks that `size` bytes at `lin` are writable (translating both pages); -1 on fault. */
  private linWriteProbe(lin: number, size: number, user: boolean): number {
    const p0 = this.translate(lin, true, user);
    if (p0 < 0) return -1;
    if ((lin & 0xfff) + size > 0x1000) {
      if (this.translate(((lin + size - 1) | 0) & ~0xfff, true, user) < 0) return -1;
    }
    return p0;
  }

  private linWrite(lin: number, size: number, v: number, user: boolean): void {
    const p0 = this.linWriteProbe(lin, size, user);
    if (p0 < 0) return;
    if ((lin & 0xfff) + size > 0x1000) {
      for (let i = 0; i < size; i++) {
        const l = (lin + i) | 0;
        const p = this.translate(l, true, user); // hits the TLB filled by the probe
        this.physWrite8(p, (v >>> (8 * i)) & 0xff);
      }
      return;
    }
    if (p0 + size > this.memSize) return;
    if (size === 1) this.u8[p0] = v;
    else if (size === 2) this.dv.setUint16(p0, v, true);
    else this.dv.setInt32(p0, v, true);
    if (this.watched[p0 >>> 12] !== 0) this.mem.notifyWatchedWrite(p0, size);
  }

  private rd8(seg: number, off: number): number {
    const lin =
      (this.segRights[seg]! & SR_READ_FAST) !== 0
        ? (this.segBase[seg]! + off) | 0
        : this.segCheck(seg, off, 1, false);
    if (lin === SEG_FAULT) return 0;
    const e = this.tlb[lin >>> 12]!;
    const m = this.rdMask;
    if ((e & m) === m) {
      const p = ((e & ~0xfff) | (lin & 0xfff)) >>> 0;
      if (p < this.memSize) return this.u8[p]!;
    }
    return this.linRead(lin, 1, this.cplv === 3);
  }

  private rd16(seg: number, off: number): number {
    const lin =
      (this.segRights[seg]! & SR_READ_FAST) !== 0
        ? (this.segBase[seg]! + off) | 0
        : this.segCheck(seg, off, 2, false);
    if (lin === SEG_FAULT) return 0;
    const e = this.tlb[lin >>> 12]!;
    const m = this.rdMask;
    if ((e & m) === m && (lin & 0xfff) <= 0xffe) {
      const p = ((e & ~0xfff) | (lin & 0xfff)) >>> 0;
      if (p + 2 <= this.memSize)
        return (p & 1) === 0 ? this.u8[p]! | (this.u8[p + 1]! << 8) : this.dv.getUint16(p, true);
    }
    return this.linRead(lin, 2, this.cplv === 3);
  }

  private rd32(seg: number, off: number): number {
    const lin =
      (this.segRights[seg]! & SR_READ_FAST) !== 0
        ? (this.segBase[seg]! + off) | 0
        : this.segCheck(seg, off, 4, false);
    if (lin === SEG_FAULT) return 0;
    const e = this.tlb[lin >>> 12]!;
    const m = this.rdMask;
    if ((e & m) === m && (lin & 0xfff) <= 0xffc) {
      const p = ((e & ~0xfff) | (lin & 0xfff)) >>> 0;
      if (p + 4 <= this.memSize) return (p & 3) === 0 ? this.i32[p >>> 2]! : this.dv.getInt32(p, true);
    }
    return this.linRead(lin, 4, this.cplv === 3);
  }

  private rdSz(size: number, seg: number, off: number): number {
    return size === 4 ? this.rd32(seg, off) : size === 2 ? this.rd16(seg, off) : this.rd8(seg, off);
  }

  /** Write access: returns nothing, faults pend. */
  private wr8(seg: number, off: number, v: number): void {
    const lin =
      (this.segRights[seg]! & SR_WRITE_FAST) !== 0
        ? (this.segBase[seg]! + off) | 0
        : this.segCheck(seg, off, 1, true);
    if (lin === SEG_FAULT) return;
    const e = this.tlb[lin >>> 12]!;
    const m = this.wrMask;
    if ((e & m) === m) {
      const p = ((e & ~0xfff) | (lin & 0xfff)) >>> 0;
      if (p < this.memSize) {
        this.u8[p] = v;
        if (this.watched[p >>> 12] !== 0) this.mem.notifyWatchedWrite(p, 1);
        return;
      }
    }
    this.linWrite(lin, 1, v, this.cplv === 3);
  }

  private wr16(seg: number, off: number, v: number): void {
    const lin =
      (this.segRights[seg]! & SR_WRITE_FAST) !== 0
        ? (this.segBase[seg]! + off) | 0
        : this.segCheck(seg, off, 2, true);
    if (lin === SEG_FAULT) return;
    const e = this.tlb[lin >>> 12]!;
    const m = this.wrMask;
    if ((e & m) === m && (lin & 0xfff) <= 0xffe) {
      const p = ((e & ~0xfff) | (lin & 0xfff)) >>> 0;
      if (p + 2 <= this.memSize) {
        this.dv.setUint16(p, v, true);
        if (this.watched[p >>> 12] !== 0) this.mem.notifyWatchedWrite(p, 2);
        return;
      }
    }
    this.linWrite(lin, 2, v, this.cplv === 3);
  }

  private wr32(seg: number, off: number, v: number): void {
    const lin =
      (this.segRights[seg]! & SR_WRITE_FAST) !== 0
        ? (this.segBase[seg]! + off) | 0
        : this.segCheck(seg, off, 4, true);
    if (lin === SEG_FAULT) return;
    const e = this.tlb[lin >>> 12]!;
    const m = this.wrMask;
    if ((e & m) === m && (lin & 0xfff) <= 0xffc) {
      const p = ((e & ~0xfff) | (lin & 0xfff)) >>> 0;
      if (p + 4 <= this.memSize) {
        if ((p & 3) === 0) this.i32[p >>> 2] = v;
        else this.dv.setInt32(p, v, true);
        if (this.watched[p >>> 12] !== 0) this.mem.notifyWatchedWrite(p, 4);
        return;
      }
    }
    this.linWrite(lin, 4, v, this.cplv === 3);
  }

  private wrSz(size: number, seg: number, off: number, v: number): void {
    if (size === 4) this.wr32(seg, off, v);
    else if (size === 2) this.wr16(seg, off, v);
    else this.wr8(seg, off, v);
  }

  /** Read with write intent (read-modify-write operands): checks write rights first. */
  private rdRmw(size: number, seg: number, off: number): number {
    const lin =
      (this.segRights[seg]! & SR_WRITE_FAST) !== 0
        ? (this.segBase[seg]! + off) | 0
        : this.segCheck(seg, off, size, true);
    if (lin === SEG_FAULT) return 0;
    const user = this.cplv === 3;
    if (this.linWriteProbe(lin, size, user) < 0) return 0;
    return this.linRead(lin, size, user);
  }

  /** Checks that `size` bytes at seg:off can be written, without writing (multi-part stores). */
  private probeWrite(seg: number, off: number, size: number): boolean {
    const lin = this.segCheck(seg, off, size, true);
    if (lin === SEG_FAULT) return false;
    return this.linWriteProbe(lin, size, this.cplv === 3) >= 0;
  }

  // Supervisor (implicit) accesses to system structures: GDT, LDT, IDT, TSS.
  private sysRead32(lin: number): number {
    return this.linRead(lin | 0, 4, false);
  }
  private sysRead16(lin: number): number {
    return this.linRead(lin | 0, 2, false);
  }
  private sysWrite32(lin: number, v: number): void {
    this.linWrite(lin | 0, 4, v, false);
  }

  // ModRM operand access
  private readE(size: number): number {
    return this.mod === 3 ? this.getReg(size, this.rm) : this.rdSz(size, this.eaSeg, this.ea);
  }
  private readERmw(size: number): number {
    return this.mod === 3 ? this.getReg(size, this.rm) : this.rdRmw(size, this.eaSeg, this.ea);
  }
  private writeE(size: number, v: number): void {
    if (this.mod === 3) this.setReg(size, this.rm, v);
    else this.wrSz(size, this.eaSeg, this.ea, v);
  }

  // =====================================================================================
  // Stack
  // =====================================================================================

  private spOff(esp: number): number {
    return this.stackBig ? esp : esp & 0xffff;
  }
  private newSp(esp: number, delta: number): number {
    return this.stackBig ? (esp + delta) | 0 : (esp & ~0xffff) | ((esp + delta) & 0xffff);
  }

  private push(size: number, v: number): void {
    const esp = this.newSp(this.regs[ESP]!, -size);
    if (size === 4) this.wr32(SS, this.spOff(esp), v);
    else this.wr16(SS, this.spOff(esp), v);
    if (this.pend < 0) this.regs[ESP] = esp;
  }

  /** Reads the stack word `index` slots above ESP without popping. */
  private peekStack(size: number, index: number): number {
    const off = this.spOff(this.newSp(this.regs[ESP]!, size * index));
    return size === 4 ? this.rd32(SS, off) : this.rd16(SS, off);
  }

  private pop(size: number): number {
    const v = this.peekStack(size, 0);
    if (this.pend < 0) this.regs[ESP] = this.newSp(this.regs[ESP]!, size);
    return v;
  }

  // =====================================================================================
  // Fetch and decode
  // =====================================================================================

  private refillFetch(): boolean {
    const eip = this.eip >>> 0;
    if (eip > this.segLimit[CS]! >>> 0) {
      this.gp(0);
      return false;
    }
    const lin = (this.segBase[CS]! + eip) >>> 0;
    const phys = this.translate(lin | 0, false, this.cplv === 3);
    if (phys < 0) return false;
    if (phys >= this.memSize) {
      this.invalidateFetch();
      return true;
    }
    const pageLo = lin & ~0xfff;
    this.fetchLo = (pageLo >>> 0) - (lin - eip); // in offset space: offset range of this page
    let hi = this.fetchLo + 0x1000;
    const limitEnd = (this.segLimit[CS]! >>> 0) + 1;
    if (hi > limitEnd) hi = limitEnd;
    this.fetchHi = hi;
    this.fetchDelta = phys - eip;
    return true;
  }

  /** Next instruction byte, or -1 with a fault pending. Advances EIP. */
  private fetch8(): number {
    const eip = this.eip >>> 0;
    if (eip < this.fetchLo || eip >= this.fetchHi) {
      if (!this.refillFetch()) return -1;
      if (this.fetchHi === 0) {
        // Beyond RAM: open bus.
        this.eip = (eip + 1) | 0;
        return 0xff;
      }
    }
    this.eip = (eip + 1) | 0;
    return this.u8[eip + this.fetchDelta]!;
  }

  private fetch16(): number {
    const a = this.fetch8();
    const b = this.fetch8();
    return a | (b << 8);
  }
  private fetch32(): number {
    const a = this.fetch8();
    const b = this.fetch8();
    const c = this.fetch8();
    const d = this.fetch8();
    return a | (b << 8) | (c << 16) | (d << 24);
  }

  private decodeModrm(): void {
    const m = this.fetch8();
    const mod = m >>> 6;
    this.mod = mod;
    this.reg = (m >>> 3) & 7;
    const rm = m & 7;
    this.rm = rm;
    if (mod === 3) return;
    const regs = this.regs;
    let seg = DS;
    this.eaBaseEsp = false;
    let ea: number;
    if (this.as32) {
      if (rm === 4) {
        const sib = this.fetch8();
        const base = sib & 7;
        const idx = (sib >>> 3) & 7;
        if (base === EBP && mod === 0) {
          ea = this.fetch32();
        } else {
          ea = regs[base]!;
          if (base === ESP || base === EBP) seg = SS;
          this.eaBaseEsp = base === ESP;
        }
        if (idx !== ESP) ea = (ea + (regs[idx]! << (sib >>> 6))) | 0;
      } else if (rm === EBP && mod === 0) {
        ea = this.fetch32();
      } else {
        ea = regs[rm]!;
        if (rm === EBP) seg = SS;
      }
      if (mod === 1) ea = (ea + ((this.fetch8() << 24) >> 24)) | 0;
      else if (mod === 2) ea = (ea + this.fetch32()) | 0;
    } else {
      if (mod === 0 && rm === 6) {
        ea = this.fetch16();
      } else {
        const b = MODRM16_BASE[rm]!;
        const x = MODRM16_INDEX[rm]!;
        ea = (b >= 0 ? regs[b]! : 0) + (x >= 0 ? regs[x]! : 0);
        if (b === EBP) seg = SS;
      }
      if (mod === 1) ea += (this.fetch8() << 24) >> 24;
      else if (mod === 2) ea += this.fetch16();
      ea &= 0xffff;
    }
    this.ea = ea;
    this.eaSeg = this.segOvr >= 0 ? this.segOvr : seg;
  }

  /** Decodes prefixes, opcode, ModRM and immediates, then executes. */
  private step(): void {
    this.os = this.codeBig ? 4 : 2;
    this.as32 = this.codeBig;
    this.segOvr = -1;
    this.rep = 0;
    let b = this.fetch8();
    let prefixes = 0;
    for (;;) {
      if (b < 0) return;
      switch (b) {
        case 0x26:
          this.segOvr = ES;
          break;
        case 0x2e:
          this.segOvr = CS;
          break;
        case 0x36:
          this.segOvr = SS;
          break;
        case 0x3e:
          this.segOvr = DS;
          break;
        case 0x64:
          this.segOvr = FS;
          break;
        case 0x65:
          this.segOvr = GS;
          break;
        case 0x66:
          this.os = this.codeBig ? 2 : 4;
          break;
        case 0x67:
          this.as32 = !this.codeBig;
          break;
        case 0xf0:
          break; // LOCK: one CPU, every instruction is atomic already.
        case 0xf2:
        case 0xf3:
          this.rep = b;
          break;
        default:
          prefixes = -1;
          break;
      }
      if (prefixes < 0) break;
      if (++prefixes >= 15) {
        this.gp(0); // SDM Vol. 2 §2.3.11: instructions longer than 15 bytes raise #GP(0).
        return;
      }
      b = this.fetch8();
    }
    if (b === 0x0f) {
      const b2 = this.fetch8();
      if (b2 < 0) return;
      b = 0x100 | b2;
    }
    if (HAS_MODRM[b] !== 0) this.decodeModrm();
    const ik = IMM_KIND[b]!;
    if (ik !== Imm.None && (IMM_ONLY_REG01[b] === 0 || this.reg < 2)) {
      switch (ik) {
        case Imm.B:
          this.imm = this.fetch8();
          break;
        case Imm.BS:
          this.imm = (this.fetch8() << 24) >> 24;
          break;
        case Imm.W:
          this.imm = this.fetch16();
          break;
        case Imm.Z:
          this.imm = this.os === 4 ? this.fetch32() : this.fetch16();
          break;
        case Imm.P:
          this.imm = this.os === 4 ? this.fetch32() : this.fetch16();
          this.imm2 = this.fetch16();
          break;
        case Imm.O:
          this.imm = this.as32 ? this.fetch32() : this.fetch16();
          break;
        case Imm.WB:
          this.imm = this.fetch16();
          this.imm2 = this.fetch8();
          break;
      }
    }
    if (this.pend >= 0) return;
    if (this.eip - this.startEip > 15 && this.codeBig) {
      this.gp(0);
      return;
    }
    this.execute(b);
  }

  /** Effective segment for a string source (DS unless overridden). */
  private get srcSeg(): number {
    return this.segOvr >= 0 ? this.segOvr : DS;
  }

  // =====================================================================================
  // Execute
  // =====================================================================================

  private execute(b: number): void {
    const regs = this.regs;
    const os = this.os;
    switch (b) {
      // --- ALU 00-3F (add or adc sbb and sub xor cmp) ---
      case 0x00:
      case 0x08:
      case 0x10:
      case 0x18:
      case 0x20:
      case 0x28:
      case 0x30:
      case 0x38:
      case 0x01:
      case 0x09:
      case 0x11:
      case 0x19:
      case 0x21:
      case 0x29:
      case 0x31:
      case 0x39: {
        const size = (b & 1) === 0 ? 1 : os;
        const aop = b >>> 3;
        const a = aop === 7 ? this.readE(size) : this.readERmw(size);
        if (this.pend >= 0) return;
        const r = this.alu(aop, size, a, this.getReg(size, this.reg));
        if (aop !== 7) this.writeE(size, r);
        return;
      }
      case 0x02:
      case 0x0a:
      case 0x12:
      case 0x1a:
      case 0x22:
      case 0x2a:
      case 0x32:
      case 0x3a:
      case 0x03:
      case 0x0b:
      case 0x13:
      case 0x1b:
      case 0x23:
      case 0x2b:
      case 0x33:
      case 0x3b: {
        const size = (b & 1) === 0 ? 1 : os;
        const src = this.readE(size);
        if (this.pend >= 0) return;
        const aop = b >>> 3;
        const r = this.alu(aop, size, this.getReg(size, this.reg), src);
        if (aop !== 7) this.setReg(size, this.reg, r);
        return;
      }
      case 0x04:
      case 0x0c:
      case 0x14:
      case 0x1c:
      case 0x24:
      case 0x2c:
      case 0x34:
      case 0x3c: {
        const aop = b >>> 3;
        const r = this.alu(aop, 1, regs[EAX]! & 0xff, this.imm);
        if (aop !== 7) this.setReg(1, EAX, r);
        return;
      }
      case 0x05:
      case 0x0d:
      case 0x15:
      case 0x1d:
      case 0x25:
      case 0x2d:
      case 0x35:
      case 0x3d: {
        const aop = b >>> 3;
        const r = this.alu(aop, os, this.getReg(os, EAX), this.imm);
        if (aop !== 7) this.setReg(os, EAX, r);
        return;
      }
      case 0x06:
      case 0x0e:
      case 0x16:
      case 0x1e:
        this.push(os, this.segSel[b >>> 3]!);
        return;
      case 0x1a0:
      case 0x1a8:
        this.push(os, this.segSel[b === 0x1a0 ? FS : GS]!);
        return;
      case 0x07:
      case 0x17:
      case 0x1f:
      case 0x1a1:
      case 0x1a9: {
        const seg = b === 0x1a1 ? FS : b === 0x1a9 ? GS : b >>> 3;
        const sel = this.peekStack(os, 0);
        if (this.pend >= 0) return;
        this.loadSegment(seg, sel & 0xffff);
        if (this.pend >= 0) return;
        regs[ESP] = this.newSp(regs[ESP]!, os);
        if (seg === SS) this.shadow = true;
        return;
      }
      case 0x27:
        this.daa();
        return;
      case 0x2f:
        this.das();
        return;
      case 0x37:
        this.aaa(1);
        return;
      case 0x3f:
        this.aaa(-1);
        return;
      case 0x40:
      case 0x41:
      case 0x42:
      case 0x43:
      case 0x44:
      case 0x45:
      case 0x46:
      case 0x47:
        this.setReg(os, b & 7, this.incdec(os, this.getReg(os, b & 7), 1));
        return;
      case 0x48:
      case 0x49:
      case 0x4a:
      case 0x4b:
      case 0x4c:
      case 0x4d:
      case 0x4e:
      case 0x4f:
        this.setReg(os, b & 7, this.incdec(os, this.getReg(os, b & 7), -1));
        return;
      case 0x50:
      case 0x51:
      case 0x52:
      case 0x53:
      case 0x54:
      case 0x55:
      case 0x56:
      case 0x57:
        this.push(os, this.getReg(os, b & 7));
        return;
      case 0x58:
      case 0x59:
      case 0x5a:
      case 0x5b:
      case 0x5c:
      case 0x5d:
      case 0x5e:
      case 0x5f: {
        const v = this.pop(os);
        if (this.pend >= 0) return;
        this.setReg(os, b & 7, v);
        return;
      }
      case 0x60: {
        // PUSHA: all eight stores must succeed before ESP changes.
        const esp = regs[ESP]!;
        if (!this.probeWrite(SS, this.spOff(this.newSp(esp, -8 * os)), 8 * os)) return;
        // The ESP image is its value before the first push (SDM PUSHA).
        for (let r = 0; r < 8; r++) this.push(os, r === ESP ? esp : this.getReg(os, r));
        return;
      }
      case 0x61: {
        const vals = this.popaScratch;
        for (let r = 0; r < 8; r++) vals[7 - r] = this.peekStack(os, r);
        if (this.pend >= 0) return;
        for (let r = 0; r < 8; r++) if (r !== ESP) this.setReg(os, r, vals[r]!);
        regs[ESP] = this.newSp(regs[ESP]!, 8 * os);
        return;
      }
      case 0x62: {
        // BOUND: #BR when the index is outside [lower, upper] (signed).
        const idx = os === 4 ? regs[this.reg]! : (regs[this.reg]! << 16) >> 16;
        const lo = os === 4 ? this.rd32(this.eaSeg, this.ea) : (this.rd16(this.eaSeg, this.ea) << 16) >> 16;
        const hi =
          os === 4
            ? this.rd32(this.eaSeg, this.ea + 4)
            : (this.rd16(this.eaSeg, (this.ea + 2) & 0xffff) << 16) >> 16;
        if (this.pend >= 0) return;
        if (idx < lo || idx > hi) this.fault(Vector.BR, 0, false);
        return;
      }
      case 0x63:
        this.arpl();
        return;
      case 0x68:
      case 0x6a:
        this.push(os, this.imm);
        return;
      case 0x69:
      case 0x6b:
      case 0x1af: {
        const src = this.readE(os);
        if (this.pend >= 0) return;
        const r = this.imul2(os, src, b === 0x1af ? this.getReg(os, this.reg) : this.imm);
        this.setReg(os, this.reg, r);
        return;
      }
      case 0x6c:
      case 0x6d:
      case 0x6e:
      case 0x6f:
        this.stringIo(b);
        return;
      case 0x70:
      case 0x71:
      case 0x72:
      case 0x73:
      case 0x74:
      case 0x75:
      case 0x76:
      case 0x77:
      case 0x78:
      case 0x79:
      case 0x7a:
      case 0x7b:
      case 0x7c:
      case 0x7d:
      case 0x7e:
      case 0x7f:
        if (this.cond(b & 15)) this.jumpRel(this.imm);
        return;
      case 0x180:
      case 0x181:
      case 0x182:
      case 0x183:
      case 0x184:
      case 0x185:
      case 0x186:
      case 0x187:
      case 0x188:
      case 0x189:
      case 0x18a:
      case 0x18b:
      case 0x18c:
      case 0x18d:
      case 0x18e:
      case 0x18f:
        if (this.cond(b & 15)) this.jumpRel(this.imm);
        return;
      case 0x80:
      case 0x81:
      case 0x82:
      case 0x83: {
        const size = b === 0x81 || b === 0x83 ? os : 1;
        const aop = this.reg;
        const a = aop === 7 ? this.readE(size) : this.readERmw(size);
        if (this.pend >= 0) return;
        const r = this.alu(aop, size, a, this.imm);
        if (aop !== 7) this.writeE(size, r);
        return;
      }
      case 0x84:
      case 0x85: {
        const size = b === 0x84 ? 1 : os;
        const a = this.readE(size);
        if (this.pend >= 0) return;
        this.alu(4, size, a, this.getReg(size, this.reg));
        return;
      }
      case 0x86:
      case 0x87: {
        const size = b === 0x86 ? 1 : os;
        const a = this.readERmw(size);
        if (this.pend >= 0) return;
        const g = this.getReg(size, this.reg);
        this.writeE(size, g);
        this.setReg(size, this.reg, a);
        return;
      }
      case 0x88:
        this.writeE(1, this.getReg(1, this.reg));
        return;
      case 0x89:
        this.writeE(os, regs[this.reg]!);
        return;
      case 0x8a:
      case 0x8b: {
        const size = b === 0x8a ? 1 : os;
        const v = this.readE(size);
        if (this.pend >= 0) return;
        this.setReg(size, this.reg, v);
        return;
      }
      case 0x8c: {
        if (this.reg > 5) {
          this.ud();
          return;
        }
        const sel = this.segSel[this.reg]!;
        // To a register with 32-bit operand size the upper bits are zeroed (Pentium Pro+ and QEMU).
        if (this.mod === 3) this.setReg(os, this.rm, sel);
        else this.wr16(this.eaSeg, this.ea, sel);
        return;
      }
      case 0x8d:
        if (this.mod === 3) {
          this.ud();
          return;
        }
        this.setReg(os, this.reg, this.ea);
        return;
      case 0x8e: {
        if (this.reg > 5 || this.reg === CS) {
          this.ud();
          return;
        }
        const sel = this.readE(2);
        if (this.pend >= 0) return;
        this.loadSegment(this.reg, sel);
        if (this.reg === SS) this.shadow = true;
        return;
      }
      case 0x8f: {
        if (this.reg !== 0) {
          this.ud();
          return;
        }
        // POP r/m: ESP is incremented before the destination address is used (SDM POP).
        const v = this.peekStack(os, 0);
        if (this.pend >= 0) return;
        const oldEsp = regs[ESP]!;
        regs[ESP] = this.newSp(oldEsp, os);
        if (this.mod !== 3 && this.eaBaseEsp) {
          // The ESP-based address was computed with the old ESP; redo it with the new one.
          this.ea = (this.ea + os) | 0;
        }
        this.writeE(os, v);
        if (this.pend >= 0) regs[ESP] = oldEsp;
        return;
      }
      case 0x90:
        return;
      case 0x91:
      case 0x92:
      case 0x93:
      case 0x94:
      case 0x95:
      case 0x96:
      case 0x97: {
        const a = this.getReg(os, EAX);
        this.setReg(os, EAX, this.getReg(os, b & 7));
        this.setReg(os, b & 7, a);
        return;
      }
      case 0x98:
        if (os === 4) regs[EAX] = (regs[EAX]! << 16) >> 16;
        else this.setReg(2, EAX, (regs[EAX]! << 24) >> 24);
        return;
      case 0x99:
        if (os === 4) regs[EDX] = regs[EAX]! >> 31;
        else this.setReg(2, EDX, (regs[EAX]! << 16) >> 31);
        return;
      case 0x9a:
        this.farCall(this.imm2, os === 4 ? this.imm : this.imm & 0xffff);
        return;
      case 0x9b:
        if ((this.cr0v & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) this.fault(Vector.NM, 0, false);
        return;
      case 0x9c:
        this.pushf();
        return;
      case 0x9d:
        this.popf();
        return;
      case 0x9e: {
        this.syncFlags();
        const ah = (regs[EAX]! >> 8) & 0xff;
        this.flags = (this.flags & ~(SF | ZF | AF | PF | CF)) | (ah & (SF | ZF | AF | PF | CF));
        return;
      }
      case 0x9f:
        this.setReg(1, 4, (this.getEflags() & 0xff) | 2);
        return;
      case 0xa0:
      case 0xa1: {
        const size = b === 0xa0 ? 1 : os;
        const v = this.rdSz(size, this.srcSeg, this.imm);
        if (this.pend >= 0) return;
        this.setReg(size, EAX, v);
        return;
      }
      case 0xa2:
      case 0xa3: {
        const size = b === 0xa2 ? 1 : os;
        this.wrSz(size, this.srcSeg, this.imm, this.getReg(size, EAX));
        return;
      }
      case 0xa4:
      case 0xa5:
      case 0xa6:
      case 0xa7:
      case 0xaa:
      case 0xab:
      case 0xac:
      case 0xad:
      case 0xae:
      case 0xaf:
        this.stringOp(b);
        return;
      case 0xa8:
        this.alu(4, 1, regs[EAX]! & 0xff, this.imm);
        return;
      case 0xa9:
        this.alu(4, os, this.getReg(os, EAX), this.imm);
        return;
      case 0xb0:
      case 0xb1:
      case 0xb2:
      case 0xb3:
      case 0xb4:
      case 0xb5:
      case 0xb6:
      case 0xb7:
        this.setReg(1, b & 7, this.imm);
        return;
      case 0xb8:
      case 0xb9:
      case 0xba:
      case 0xbb:
      case 0xbc:
      case 0xbd:
      case 0xbe:
      case 0xbf:
        this.setReg(os, b & 7, this.imm);
        return;
      case 0xc0:
      case 0xc1:
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3: {
        const size = (b & 1) === 0 ? 1 : os;
        const count = b <= 0xc1 ? this.imm : b <= 0xd1 ? 1 : regs[ECX]! & 0xff;
        const v = this.readERmw(size);
        if (this.pend >= 0) return;
        const r = this.shift(this.reg, size, v, count & 31);
        this.writeE(size, r);
        return;
      }
      case 0xc2:
      case 0xc3: {
        const target = this.peekStack(os, 0);
        if (this.pend >= 0) return;
        const t = os === 4 ? target : target & 0xffff;
        if (!this.checkCodeLimit(t)) return;
        regs[ESP] = this.newSp(regs[ESP]!, os + (b === 0xc2 ? this.imm : 0));
        this.eip = t;
        return;
      }
      case 0xc4:
      case 0xc5:
      case 0x1b2:
      case 0x1b4:
      case 0x1b5: {
        if (this.mod === 3) {
          this.ud();
          return;
        }
        const seg = b === 0xc4 ? ES : b === 0xc5 ? DS : b === 0x1b2 ? SS : b === 0x1b4 ? FS : GS;
        const off = this.rdSz(os, this.eaSeg, this.ea);
        const sel = this.rd16(this.eaSeg, (this.ea + os) | 0);
        if (this.pend >= 0) return;
        this.loadSegment(seg, sel);
        if (this.pend >= 0) return;
        this.setReg(os, this.reg, off);
        return;
      }
      case 0xc6:
      case 0xc7:
        if (this.reg !== 0) {
          this.ud();
          return;
        }
        this.writeE(b === 0xc6 ? 1 : os, this.imm);
        return;
      case 0xc8:
        this.enter(this.imm, this.imm2 & 31);
        return;
      case 0xc9: {
        // LEAVE: ESP = EBP, then pop EBP.
        const ebp = regs[EBP]!;
        const v = os === 4 ? this.rd32(SS, this.spOff(ebp)) : this.rd16(SS, this.spOff(ebp));
        if (this.pend >= 0) return;
        regs[ESP] = this.stackBig ? ebp : (regs[ESP]! & ~0xffff) | (ebp & 0xffff);
        regs[ESP] = this.newSp(regs[ESP]!, os);
        this.setReg(os, EBP, v);
        return;
      }
      case 0xca:
      case 0xcb:
        this.farReturn(b === 0xca ? this.imm : 0);
        return;
      case 0xcc:
        this.softwareInterrupt(Vector.BP);
        return;
      case 0xcd:
        this.softwareInterrupt(this.imm);
        return;
      case 0xce:
        if (this.cond(0)) this.softwareInterrupt(Vector.OF);
        return;
      case 0xcf:
        this.iret();
        return;
      case 0xd4: {
        if (this.imm === 0) {
          this.fault(Vector.DE, 0, false);
          return;
        }
        const al = regs[EAX]! & 0xff;
        const r = al % this.imm;
        this.setReg(2, EAX, (((al / this.imm) | 0) << 8) | r);
        this.setLogic(7, r);
        return;
      }
      case 0xd5: {
        const al = regs[EAX]! & 0xff;
        const ah = (regs[EAX]! >> 8) & 0xff;
        const r = (al + ah * this.imm) & 0xff;
        this.setReg(2, EAX, r);
        this.setLogic(7, r);
        return;
      }
      case 0xd6:
        this.setReg(1, EAX, this.getCF() ? 0xff : 0);
        return;
      case 0xd7: {
        const off = this.as32
          ? (regs[EBX]! + (regs[EAX]! & 0xff)) | 0
          : (regs[EBX]! + (regs[EAX]! & 0xff)) & 0xffff;
        const v = this.rd8(this.srcSeg, off);
        if (this.pend >= 0) return;
        this.setReg(1, EAX, v);
        return;
      }
      case 0xd8:
      case 0xd9:
      case 0xda:
      case 0xdb:
      case 0xdc:
      case 0xdd:
      case 0xde:
      case 0xdf:
        // No FPU: #NM if CR0.EM or CR0.TS (SDM Vol. 3A §2.5, Table 2-2), else #UD.
        if ((this.cr0v & (CR0_EM | CR0_TS)) !== 0) this.fault(Vector.NM, 0, false);
        else this.ud();
        return;
      case 0xe0:
      case 0xe1:
      case 0xe2: {
        const cnt = this.as32 ? (regs[ECX]! - 1) | 0 : (regs[ECX]! - 1) & 0xffff;
        let take = cnt !== 0;
        if (b === 0xe0) take = take && !this.cond(4);
        else if (b === 0xe1) take = take && this.cond(4);
        if (take && !this.checkCodeLimit(this.relTarget(this.imm))) return;
        if (this.as32) regs[ECX] = cnt;
        else this.setReg(2, ECX, cnt);
        if (take) this.eip = this.relTarget(this.imm);
        return;
      }
      case 0xe3: {
        const c = this.as32 ? regs[ECX]! : regs[ECX]! & 0xffff;
        if (c === 0) this.jumpRel(this.imm);
        return;
      }
      case 0xe4:
      case 0xe5:
      case 0xec:
      case 0xed: {
        const size = (b & 1) === 0 ? 1 : os;
        const port = b <= 0xe5 ? this.imm : regs[EDX]! & 0xffff;
        if (!this.ioAllowed(port, size)) return;
        this.setReg(size, EAX, this.portIn(port, size));
        return;
      }
      case 0xe6:
      case 0xe7:
      case 0xee:
      case 0xef: {
        const size = (b & 1) === 0 ? 1 : os;
        const port = b <= 0xe7 ? this.imm : regs[EDX]! & 0xffff;
        if (!this.ioAllowed(port, size)) return;
        this.portOut(port, size, this.getReg(size, EAX));
        return;
      }
      case 0xe8: {
        const t = this.relTarget(this.imm);
        if (!this.checkCodeLimit(t)) return;
        this.push(os, this.eip);
        if (this.pend >= 0) return;
        this.eip = t;
        return;
      }
      case 0xe9:
      case 0xeb:
        this.jumpRel(this.imm);
        return;
      case 0xea:
        this.farJump(this.imm2, os === 4 ? this.imm : this.imm & 0xffff);
        return;
      case 0xf1:
        this.deliverEvent(Vector.DB, 0, false, EV_SOFTWARE, true);
        return;
      case 0xf4:
        if (this.cplv !== 0) {
          this.gp(0);
          return;
        }
        this.halted = true;
        this.breakOut = this.interceptExceptions;
        return;
      case 0xf5:
        this.syncFlags();
        this.flags ^= CF;
        return;
      case 0xf6:
      case 0xf7:
        this.group3(b === 0xf6 ? 1 : os);
        return;
      case 0xf8:
      case 0xf9:
        this.syncFlags();
        this.flags = b === 0xf8 ? this.flags & ~CF : this.flags | CF;
        return;
      case 0xfa:
      case 0xfb:
        if (this.cplv > (this.flags & IOPL_MASK) >>> IOPL_SHIFT) {
          this.gp(0);
          return;
        }
        if (b === 0xfa) this.flags &= ~IF;
        else {
          if ((this.flags & IF) === 0) this.shadow = true;
          this.flags |= IF;
        }
        return;
      case 0xfc:
        this.flags &= ~DF;
        return;
      case 0xfd:
        this.flags |= DF;
        return;
      case 0xfe: {
        if (this.reg > 1) {
          this.ud();
          return;
        }
        const v = this.readERmw(1);
        if (this.pend >= 0) return;
        this.writeE(1, this.incdec(1, v, this.reg === 0 ? 1 : -1));
        return;
      }
      case 0xff:
        this.group5();
        return;

      // --- 0F map ---
      case 0x100:
        this.group6();
        return;
      case 0x101:
        this.group7();
        return;
      case 0x102:
      case 0x103:
        this.larLsl(b === 0x103);
        return;
      case 0x106:
        if (this.cplv !== 0) {
          this.gp(0);
          return;
        }
        this.cr0v &= ~CR0_TS;
        return;
      case 0x108:
      case 0x109:
        if (this.cplv !== 0) {
          this.gp(0);
          return;
        }
        return;
      case 0x10b: {
        this.ud();
        return;
      }
      case 0x118:
      case 0x119:
      case 0x11a:
      case 0x11b:
      case 0x11c:
      case 0x11d:
      case 0x11e:
      case 0x11f:
        return;
      case 0x120:
      case 0x121:
      case 0x122:
      case 0x123:
        this.movCrDr(b);
        return;
      case 0x130:
      case 0x132: // No MSRs are implemented: RDMSR/WRMSR of any index is #GP(0) (SDM: reserved MSR).
        {
          this.gp(0);
          return;
        }
      case 0x131: {
        if ((this.cr4v & CR4_TSD) !== 0 && this.cplv !== 0) {
          this.gp(0);
          return;
        }
        // The time-stamp counter is the simulated cycle count (one cycle = one TSC tick).
        const c = this.clock.cycles;
        regs[EAX] = (c % 0x100000000) | 0;
        regs[EDX] = Math.floor(c / 0x100000000) | 0;
        return;
      }
      case 0x190:
      case 0x191:
      case 0x192:
      case 0x193:
      case 0x194:
      case 0x195:
      case 0x196:
      case 0x197:
      case 0x198:
      case 0x199:
      case 0x19a:
      case 0x19b:
      case 0x19c:
      case 0x19d:
      case 0x19e:
      case 0x19f:
        this.writeE(1, this.cond(b & 15) ? 1 : 0);
        return;
      case 0x1a2:
        this.cpuid();
        return;
      case 0x1a3:
      case 0x1ab:
      case 0x1b3:
      case 0x1bb:
        this.bitTest(
          b === 0x1a3 ? 0 : b === 0x1ab ? 1 : b === 0x1b3 ? 2 : 3,
          this.getReg(os, this.reg),
          true,
        );
        return;
      case 0x1ba:
        if (this.reg < 4) {
          this.ud();
          return;
        }
        this.bitTest(this.reg - 4, this.imm, false);
        return;
      case 0x1a4:
      case 0x1a5:
      case 0x1ac:
      case 0x1ad:
        this.shiftDouble(b === 0x1a4 || b === 0x1a5, b === 0x1a4 || b === 0x1ac ? this.imm : regs[ECX]!);
        return;
      case 0x1b0:
      case 0x1b1: {
        const size = b === 0x1b0 ? 1 : os;
        const dst = this.readERmw(size);
        if (this.pend >= 0) return;
        const acc = this.getReg(size, EAX);
        this.alu(7, size, acc, dst);
        if (this.lfZero(size, acc, dst)) this.writeE(size, this.getReg(size, this.reg));
        else {
          // The destination is written back unchanged on failure (SDM CMPXCHG: "write cycle").
          this.writeE(size, dst);
          if (this.pend >= 0) return;
          this.setReg(size, EAX, dst);
        }
        return;
      }
      case 0x1b6:
      case 0x1b7:
      case 0x1be:
      case 0x1bf: {
        const srcSize = b === 0x1b6 || b === 0x1be ? 1 : 2;
        let v = this.readE(srcSize);
        if (this.pend >= 0) return;
        if (b >= 0x1be) v = srcSize === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
        this.setReg(os, this.reg, v);
        return;
      }
      case 0x1bc:
      case 0x1bd: {
        const v = this.readE(os);
        if (this.pend >= 0) return;
        const x = os === 4 ? v >>> 0 : v & 0xffff;
        this.syncFlags();
        if (x === 0) {
          // Destination unchanged when the source is zero (as every Intel CPU and QEMU do).
          this.flags |= ZF;
          return;
        }
        this.flags &= ~ZF;
        const bit = b === 0x1bc ? 31 - Math.clz32(x & -x) : 31 - Math.clz32(x);
        this.setReg(os, this.reg, bit);
        return;
      }
      case 0x1c0:
      case 0x1c1: {
        const size = b === 0x1c0 ? 1 : os;
        const dst = this.readERmw(size);
        if (this.pend >= 0) return;
        const src = this.getReg(size, this.reg);
        const sum = this.alu(0, size, dst, src);
        if (this.mod === 3) {
          // SDM XADD: SRC ← DEST, then DEST ← TEMP, so with one register the sum wins.
          this.setReg(size, this.reg, dst);
          this.setReg(size, this.rm, sum);
          return;
        }
        this.writeE(size, sum);
        if (this.pend >= 0) return;
        this.setReg(size, this.reg, dst);
        return;
      }
      case 0x1c7:
        if (this.reg !== 1 || this.mod === 3) {
          this.ud();
          return;
        }
        this.cmpxchg8b();
        return;
      case 0x1c8:
      case 0x1c9:
      case 0x1ca:
      case 0x1cb:
      case 0x1cc:
      case 0x1cd:
      case 0x1ce:
      case 0x1cf: {
        const v = regs[b & 7]!;
        regs[b & 7] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
        return;
      }
      default:
        this.ud();
        return;
    }
  }

  /** After `alu(7, …)` (a compare): true when the compared values were equal. */
  private lfZero(size: number, a: number, b: number): boolean {
    const m = size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    return (a & m) === (b & m);
  }

  private relTarget(disp: number): number {
    return this.os === 4 ? (this.eip + disp) | 0 : (this.eip + disp) & 0xffff;
  }

  private checkCodeLimit(target: number): boolean {
    if (target >>> 0 > this.segLimit[CS]! >>> 0) {
      this.gp(0);
      return false;
    }
    return true;
  }

  private jumpRel(disp: number): void {
    const t = this.relTarget(disp);
    if (this.checkCodeLimit(t)) this.eip = t;
  }

  // =====================================================================================
  // Arithmetic
  // =====================================================================================

  private alu(aop: number, size: number, a: number, b: number): number {
    const sb = size * 8 - 1;
    let r: number;
    switch (aop) {
      case 0:
        r = (a + b) | 0;
        this.setAdd(sb, a, b, r, OSZAPC);
        break;
      case 1:
        r = a | b;
        this.setLogic(sb, r);
        break;
      case 2: {
        const c = this.getCF();
        r = (a + b + c) | 0;
        this.setAdd(sb, a, b, r, OSZAPC);
        break;
      }
      case 3: {
        const c = this.getCF();
        r = (a - b - c) | 0;
        this.setSub(sb, a, b, r);
        break;
      }
      case 4:
        r = a & b;
        this.setLogic(sb, r);
        break;
      case 5:
      case 7:
        r = (a - b) | 0;
        this.setSub(sb, a, b, r);
        break;
      default:
        r = a ^ b;
        this.setLogic(sb, r);
        break;
    }
    return r;
  }

  private incdec(size: number, v: number, d: number): number {
    const r = (v + d) | 0;
    if (d > 0) this.setAdd(size * 8 - 1, v, 1, r, OSZAP);
    else {
      // v - 1 = r is stored as r + 1 = v, keeping CF.
      this.setAdd(size * 8 - 1, r, 1, v, OSZAP);
      this.lf.res = r;
    }
    return r;
  }

  /**
   * Shifts and rotates (group 2). `count` is already masked to 5 bits (SDM SAL/SAR/SHL/SHR:
   * "the count is masked to 5 bits"); a zero count changes no flags. OF is computed with the
   * 1-bit formula for every count (the SDM leaves it undefined for counts > 1).
   */
  private shift(kind: number, size: number, v: number, count: number): number {
    if (count === 0) return v;
    const bits = size * 8;
    const sb = bits - 1;
    const mask = size === 4 ? -1 : (1 << bits) - 1;
    const x = v & mask;
    let r: number;
    let cf: number;
    let of: number;
    switch (kind) {
      case 0: {
        // ROL
        const n = count & sb;
        r = n === 0 ? x : ((x << n) | (x >>> (bits - n))) & mask;
        cf = r & 1;
        of = ((r >>> sb) & 1) ^ cf;
        this.setCfOf(cf, of);
        return r;
      }
      case 1: {
        // ROR
        const n = count & sb;
        r = n === 0 ? x : ((x >>> n) | (x << (bits - n))) & mask;
        cf = (r >>> sb) & 1;
        of = cf ^ ((r >>> (sb - 1)) & 1);
        this.setCfOf(cf, of);
        return r;
      }
      case 2:
      case 3: {
        // RCL / RCR rotate through CF: the count is taken modulo size + 1 for 8/16 bits.
        const n = size === 4 ? count : count % (bits + 1);
        this.syncFlags();
        if (n === 0) return v;
        let c = this.flags & CF;
        r = x;
        // Bit by bit keeps 33-bit arithmetic out of the way; counts are at most 31.
        for (let i = 0; i < n; i++) {
          if (kind === 2) {
            const out = (r >>> sb) & 1;
            r = ((r << 1) | c) & mask;
            c = out;
          } else {
            const out = r & 1;
            r = ((r >>> 1) | (c << sb)) & mask;
            c = out;
          }
        }
        of = kind === 2 ? ((r >>> sb) & 1) ^ c : ((r >>> sb) & 1) ^ ((r >>> (sb - 1)) & 1);
        this.flags = (this.flags & ~(CF | OF)) | c | (of ? OF : 0);
        return r;
      }
      case 4:
      case 6: {
        // SHL / SAL
        r = count < 32 ? (x << count) & mask : 0;
        cf = count <= bits ? (x >>> (bits - count)) & 1 : 0;
        of = ((r >>> sb) & 1) ^ cf;
        this.setExplicit(sb, r, cf | (of ? OF : 0));
        return r;
      }
      case 5: {
        // SHR
        r = count < bits ? x >>> count : 0;
        cf = count <= bits ? (x >>> (count - 1)) & 1 : 0;
        of = (x >>> sb) & 1;
        this.setExplicit(sb, r, cf | (of ? OF : 0));
        return r;
      }
      default: {
        // SAR
        const sx = (x << (32 - bits)) >> (32 - bits);
        r = (sx >> (count < bits ? count : sb)) & mask;
        cf = (sx >> (count - 1 < bits ? count - 1 : sb)) & 1;
        this.setExplicit(sb, r, cf);
        return r;
      }
    }
  }

  /** SHLD/SHRD (SDM: count masked to 5 bits; a count above the operand size is undefined). */
  private shiftDouble(left: boolean, countRaw: number): void {
    const os = this.os;
    const count = countRaw & 31;
    const dst = this.readERmw(os);
    if (this.pend >= 0) return;
    if (count === 0) return;
    const src = this.getReg(os, this.reg);
    const bits = os * 8;
    const sb = bits - 1;
    let r: number;
    let cf: number;
    if (os === 4) {
      if (left) {
        r = (dst << count) | (src >>> (32 - count));
        cf = (dst >>> (32 - count)) & 1;
      } else {
        r = (dst >>> count) | (src << (32 - count));
        cf = (dst >>> (count - 1)) & 1;
      }
    } else {
      // 16-bit: shift the 32-bit concatenation (QEMU's model for counts above 16, too).
      if (left) {
        const cat = ((dst & 0xffff) << 16) | (src & 0xffff);
        const wide = count <= 16 ? cat << count : ((cat << 16) | (dst & 0xffff)) << (count - 16);
        r = (wide >>> 16) & 0xffff;
        cf = count <= 16 ? (cat >>> (32 - count)) & 1 : ((src & 0xffff) >>> (32 - count)) & 1;
      } else {
        const cat = ((src & 0xffff) << 16) | (dst & 0xffff);
        const wide = count <= 16 ? cat >>> count : ((cat >>> 16) | ((dst & 0xffff) << 16)) >>> (count - 16);
        r = wide & 0xffff;
        cf = count <= 16 ? (cat >>> (count - 1)) & 1 : (src >>> (count - 17)) & 1;
      }
    }
    const of = ((r ^ dst) >>> sb) & 1;
    this.writeE(os, r);
    if (this.pend >= 0) return;
    this.setExplicit(sb, r, cf | (of ? OF : 0));
  }

  /** BT/BTS/BTR/BTC; a register bit offset addresses memory beyond the operand (SDM BT). */
  private bitTest(kind: number, offset: number, fromReg: boolean): void {
    const os = this.os;
    let v: number;
    let bit: number;
    let seg = this.eaSeg;
    let ea = this.ea;
    if (this.mod === 3) {
      bit = offset & (os * 8 - 1);
      v = this.getReg(os, this.rm);
    } else {
      if (fromReg) {
        const off = os === 4 ? offset : (offset << 16) >> 16;
        ea = (ea + (off >> (os === 4 ? 5 : 4)) * os) | 0;
        if (!this.as32) ea &= 0xffff;
        bit = off & (os * 8 - 1);
      } else {
        bit = offset & (os * 8 - 1);
      }
      seg = this.eaSeg;
      v = kind === 0 ? this.rdSz(os, seg, ea) : this.rdRmw(os, seg, ea);
      if (this.pend >= 0) return;
    }
    const cf = (v >>> bit) & 1;
    let r = v;
    if (kind === 1) r = v | (1 << bit);
    else if (kind === 2) r = v & ~(1 << bit);
    else if (kind === 3) r = v ^ (1 << bit);
    if (kind !== 0) {
      if (this.mod === 3) this.setReg(os, this.rm, r);
      else {
        this.wrSz(os, seg, ea, r);
        if (this.pend >= 0) return;
      }
    }
    this.syncFlags();
    this.flags = (this.flags & ~CF) | cf;
  }

  /** Unsigned 32 x 32 → 64 multiply: sets `mulHi` and returns the low half. */
  private mulHi = 0;
  private mul32(a: number, b: number): number {
    const x = a >>> 0;
    const y = b >>> 0;
    const xl = x & 0xffff;
    const xh = x >>> 16;
    const yl = y & 0xffff;
    const yh = y >>> 16;
    const ll = xl * yl;
    const lh = xl * yh;
    const hl = xh * yl;
    const hh = xh * yh;
    const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
    this.mulHi = (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
    return (mid << 16) | (ll & 0xffff) | 0;
  }

  /** Signed 32 x 32 → 64: the unsigned product corrected in the high half. */
  private imul32(a: number, b: number): number {
    const lo = this.mul32(a, b);
    let hi = this.mulHi;
    if (a < 0) hi = (hi - b) | 0;
    if (b < 0) hi = (hi - a) | 0;
    this.mulHi = hi;
    return lo;
  }

  /** Two- and three-operand IMUL: CF = OF = 1 when the result does not fit the operand size. */
  private imul2(size: number, a: number, b: number): number {
    this.clock.cycles += this.cost.multiply;
    let r: number;
    let over: boolean;
    if (size === 4) {
      r = this.imul32(a, b);
      over = this.mulHi !== r >> 31;
    } else {
      const p = ((a << 16) >> 16) * ((b << 16) >> 16);
      r = p & 0xffff;
      over = p !== (r << 16) >> 16;
    }
    this.setExplicit(size * 8 - 1, r, over ? CF | OF : 0);
    return r;
  }

  private group3(size: number): void {
    const regs = this.regs;
    const sb = size * 8 - 1;
    switch (this.reg) {
      case 0:
      case 1: {
        const v = this.readE(size);
        if (this.pend >= 0) return;
        this.alu(4, size, v, this.imm);
        return;
      }
      case 2: {
        const v = this.readERmw(size);
        if (this.pend >= 0) return;
        this.writeE(size, ~v);
        return;
      }
      case 3: {
        const v = this.readERmw(size);
        if (this.pend >= 0) return;
        const r = (0 - v) | 0;
        this.writeE(size, r);
        if (this.pend >= 0) return;
        this.alu(5, size, 0, v);
        return;
      }
      case 4:
      case 5: {
        const v = this.readE(size);
        if (this.pend >= 0) return;
        this.clock.cycles += this.cost.multiply;
        const signed = this.reg === 5;
        if (size === 1) {
          const p = signed ? ((regs[EAX]! << 24) >> 24) * ((v << 24) >> 24) : (regs[EAX]! & 0xff) * v;
          this.setReg(2, EAX, p);
          const over = signed ? p !== (p << 24) >> 24 : (p & 0xff00) !== 0;
          this.setExplicit(7, p & 0xff, over ? CF | OF : 0);
        } else if (size === 2) {
          const p = signed ? ((regs[EAX]! << 16) >> 16) * ((v << 16) >> 16) : (regs[EAX]! & 0xffff) * v;
          this.setReg(2, EAX, p);
          this.setReg(2, EDX, p >> 16);
          const over = signed ? p !== (p << 16) >> 16 : (p & 0xffff0000) !== 0;
          this.setExplicit(15, p & 0xffff, over ? CF | OF : 0);
        } else {
          const lo = signed ? this.imul32(regs[EAX]!, v) : this.mul32(regs[EAX]!, v);
          const hi = this.mulHi;
          regs[EAX] = lo;
          regs[EDX] = hi;
          const over = signed ? hi !== lo >> 31 : hi !== 0;
          this.setExplicit(31, lo, over ? CF | OF : 0);
        }
        return;
      }
      default: {
        const v = this.readE(size);
        if (this.pend >= 0) return;
        this.clock.cycles += this.cost.divide;
        this.divide(size, v, this.reg === 7, sb);
        return;
      }
    }
  }

  /** DIV/IDIV: #DE on a zero divisor or a quotient that does not fit (SDM DIV, IDIV). */
  private divide(size: number, v: number, signed: boolean, _sb: number): void {
    const regs = this.regs;
    if (size === 1) {
      const d = signed ? (v << 24) >> 24 : v & 0xff;
      if (d === 0) {
        this.fault(Vector.DE, 0, false);
        return;
      }
      const n = signed ? (regs[EAX]! << 16) >> 16 : regs[EAX]! & 0xffff;
      const q = Math.trunc(n / d);
      const r = n - q * d;
      if (signed ? q < -128 || q > 127 : q > 0xff) {
        this.fault(Vector.DE, 0, false);
        return;
      }
      this.setReg(2, EAX, ((r & 0xff) << 8) | (q & 0xff));
      return;
    }
    if (size === 2) {
      const d = signed ? (v << 16) >> 16 : v & 0xffff;
      if (d === 0) {
        this.fault(Vector.DE, 0, false);
        return;
      }
      const n = signed
        ? ((regs[EDX]! & 0xffff) << 16) | (regs[EAX]! & 0xffff)
        : (((regs[EDX]! & 0xffff) << 16) | (regs[EAX]! & 0xffff)) >>> 0;
      const q = Math.trunc(n / d);
      const r = n - q * d;
      if (signed ? q < -32768 || q > 32767 : q > 0xffff) {
        this.fault(Vector.DE, 0, false);
        return;
      }
      this.setReg(2, EAX, q);
      this.setReg(2, EDX, r);
      return;
    }
    const lo = regs[EAX]!;
    const hi = regs[EDX]!;
    if (v === 0) {
      this.fault(Vector.DE, 0, false);
      return;
    }
    let q: number;
    let r: number;
    if (!signed) {
      const d = v >>> 0;
      if (hi === 0) {
        const n = lo >>> 0;
        q = Math.floor(n / d);
        r = n - q * d;
      } else {
        if (hi >>> 0 >= d) {
          this.fault(Vector.DE, 0, false);
          return;
        }
        // Exact 64-bit division; rare in compiled code (EDX is 0 before an unsigned DIV).
        const n = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
        const bd = BigInt(d);
        q = Number(n / bd);
        r = Number(n % bd);
      }
    } else {
      const d = v | 0;
      if (hi === lo >> 31) {
        const n = lo;
        if (n === -0x80000000 && d === -1) {
          this.fault(Vector.DE, 0, false);
          return;
        }
        q = Math.trunc(n / d);
        r = n - q * d;
      } else {
        const n = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
        const bd = BigInt(d);
        const bq = n / bd;
        if (bq > 0x7fffffffn || bq < -0x80000000n) {
          this.fault(Vector.DE, 0, false);
          return;
        }
        q = Number(bq);
        r = Number(n % bd);
      }
    }
    regs[EAX] = q | 0;
    regs[EDX] = r | 0;
  }

  private group5(): void {
    const os = this.os;
    switch (this.reg) {
      case 0:
      case 1: {
        const v = this.readERmw(os);
        if (this.pend >= 0) return;
        this.writeE(os, this.incdec(os, v, this.reg === 0 ? 1 : -1));
        return;
      }
      case 2: {
        let t = this.readE(os);
        if (this.pend >= 0) return;
        if (os === 2) t &= 0xffff;
        if (!this.checkCodeLimit(t)) return;
        this.push(os, this.eip);
        if (this.pend >= 0) return;
        this.eip = t;
        return;
      }
      case 3:
      case 5: {
        if (this.mod === 3) {
          this.ud();
          return;
        }
        const off = this.rdSz(os, this.eaSeg, this.ea);
        const sel = this.rd16(this.eaSeg, (this.ea + os) | 0);
        if (this.pend >= 0) return;
        const t = os === 4 ? off : off & 0xffff;
        if (this.reg === 3) this.farCall(sel, t);
        else this.farJump(sel, t);
        return;
      }
      case 4: {
        let t = this.readE(os);
        if (this.pend >= 0) return;
        if (os === 2) t &= 0xffff;
        if (this.checkCodeLimit(t)) this.eip = t;
        return;
      }
      case 6: {
        const v = this.readE(os);
        if (this.pend >= 0) return;
        this.push(os, v);
        return;
      }
      default:
        this.ud();
    }
  }

  private cmpxchg8b(): void {
    const regs = this.regs;
    const lo = this.rdRmw(4, this.eaSeg, this.ea);
    const hi = this.rdRmw(4, this.eaSeg, (this.ea + 4) | 0);
    if (this.pend >= 0) return;
    this.syncFlags();
    if (lo === regs[EAX] && hi === regs[EDX]) {
      this.wr32(this.eaSeg, this.ea, regs[EBX]!);
      this.wr32(this.eaSeg, (this.ea + 4) | 0, regs[ECX]!);
      if (this.pend >= 0) return;
      this.flags |= ZF;
    } else {
      this.wr32(this.eaSeg, this.ea, lo);
      this.wr32(this.eaSeg, (this.ea + 4) | 0, hi);
      if (this.pend >= 0) return;
      regs[EAX] = lo;
      regs[EDX] = hi;
      this.flags &= ~ZF;
    }
  }

  private daa(): void {
    this.syncFlags();
    const oldAl = this.regs[EAX]! & 0xff;
    const oldCf = this.flags & CF;
    let al = oldAl;
    let cf = 0;
    let af = 0;
    if ((al & 0x0f) > 9 || (this.flags & AF) !== 0) {
      al = (al + 6) & 0xff;
      af = AF;
    }
    if (oldAl > 0x99 || oldCf !== 0) {
      al = (al + 0x60) & 0xff;
      cf = CF;
    }
    this.setReg(1, EAX, al);
    this.setExplicit(7, al, cf | af);
  }

  private das(): void {
    this.syncFlags();
    const oldAl = this.regs[EAX]! & 0xff;
    const oldCf = this.flags & CF;
    let al = oldAl;
    let cf = 0;
    let af = 0;
    if ((al & 0x0f) > 9 || (this.flags & AF) !== 0) {
      // SDM DAS: CF ← old_CF or (borrow from AL ← AL − 6); no ELSE CF ← 0 follows (unlike DAA).
      if (al < 6) cf = CF;
      al = (al - 6) & 0xff;
      af = AF;
    }
    if (oldAl > 0x99 || oldCf !== 0) {
      al = (al - 0x60) & 0xff;
      cf = CF;
    }
    this.setReg(1, EAX, al);
    this.setExplicit(7, al, cf | af);
  }

  /** AAA (dir 1) / AAS (dir -1). */
  private aaa(dir: number): void {
    this.syncFlags();
    let ax = this.regs[EAX]! & 0xffff;
    let f = this.flags & ~(CF | AF);
    if ((ax & 0x0f) > 9 || (this.flags & AF) !== 0) {
      // SDM: AAA AX ← AX + 106H; AAS AX ← AX − 6, AH ← AH − 1 (AL − 6 borrows from AH too).
      ax = dir > 0 ? (ax + 0x106) & 0xffff : (ax - 6 - 0x100) & 0xffff;
      f |= CF | AF;
    }
    ax &= 0xff0f;
    this.setReg(2, EAX, ax);
    this.flags = f;
  }

  private arpl(): void {
    const dst = this.readERmw(2);
    if (this.pend >= 0) return;
    const src = this.getReg(2, this.reg);
    this.syncFlags();
    if ((dst & 3) < (src & 3)) {
      this.writeE(2, (dst & ~3) | (src & 3));
      if (this.pend >= 0) return;
      this.flags |= ZF;
    } else {
      this.flags &= ~ZF;
    }
  }

  private enter(frameSize: number, level: number): void {
    const regs = this.regs;
    const os = this.os;
    const esp0 = regs[ESP]!;
    // Probe the whole frame first so a fault leaves no partial state behind.
    const total = os * (level + 1) + frameSize;
    if (!this.probeWrite(SS, this.spOff(this.newSp(esp0, -total)), total)) return;
    this.push(os, this.getReg(os, EBP));
    const frameTemp = this.getReg(os, ESP);
    let ebp = regs[EBP]!;
    for (let i = 1; i < level; i++) {
      ebp = this.newSp(ebp, -os);
      const v = this.rdSz(os, SS, this.spOff(ebp));
      if (this.pend >= 0) {
        regs[ESP] = esp0;
        return;
      }
      this.push(os, v);
    }
    if (level > 0) this.push(os, frameTemp);
    if (this.pend >= 0) {
      regs[ESP] = esp0;
      return;
    }
    this.setReg(os, EBP, frameTemp);
    regs[ESP] = this.newSp(regs[ESP]!, -frameSize);
  }

  private cpuid(): void {
    const regs = this.regs;
    const leaf = regs[EAX]!;
    if (leaf === 0) {
      regs[EAX] = CPUID_MAX_LEAF;
      regs[EBX] = CPUID_VENDOR_EBX;
      regs[EDX] = CPUID_VENDOR_EDX;
      regs[ECX] = CPUID_VENDOR_ECX;
    } else if (leaf === 1) {
      regs[EAX] = CPUID_SIGNATURE;
      regs[EBX] = 0;
      regs[ECX] = 0;
      regs[EDX] = CPUID_FEATURES_EDX;
    } else {
      // Leaves above the maximum return the highest basic leaf's data (SDM CPUID); here zeros.
      regs[EAX] = 0;
      regs[EBX] = 0;
      regs[ECX] = 0;
      regs[EDX] = 0;
    }
  }

  // =====================================================================================
  // String instructions
  // =====================================================================================

  /** MOVS/CMPS/STOS/LODS/SCAS with REP/REPE/REPNE; each iteration commits, as on hardware. */
  private stringOp(b: number): void {
    const regs = this.regs;
    const size = (b & 1) === 0 ? 1 : this.os;
    const step = (this.flags & DF) !== 0 ? -size : size;
    const a32 = this.as32;
    const amask = a32 ? -1 : 0xffff;
    const src = this.srcSeg;
    const rep = this.rep;
    const kind = b & 0xfe;
    let iterations = 0;
    for (;;) {
      if (rep !== 0) {
        if ((regs[ECX]! & amask) === 0) break;
      }
      const si = regs[ESI]! & amask;
      const di = regs[EDI]! & amask;
      switch (kind) {
        case 0xa4: {
          const v = this.rdSz(size, src, si);
          if (this.pend >= 0) return;
          this.wrSz(size, ES, di, v);
          if (this.pend >= 0) return;
          this.advance(ESI, step, a32);
          this.advance(EDI, step, a32);
          break;
        }
        case 0xa6: {
          const x = this.rdSz(size, src, si);
          const y = this.rdSz(size, ES, di);
          if (this.pend >= 0) return;
          this.alu(7, size, x, y);
          this.advance(ESI, step, a32);
          this.advance(EDI, step, a32);
          break;
        }
        case 0xaa:
          this.wrSz(size, ES, di, this.getReg(size, EAX));
          if (this.pend >= 0) return;
          this.advance(EDI, step, a32);
          break;
        case 0xac: {
          const v = this.rdSz(size, src, si);
          if (this.pend >= 0) return;
          this.setReg(size, EAX, v);
          this.advance(ESI, step, a32);
          break;
        }
        default: {
          // SCAS
          const y = this.rdSz(size, ES, di);
          if (this.pend >= 0) return;
          this.alu(7, size, this.getReg(size, EAX), y);
          this.advance(EDI, step, a32);
          break;
        }
      }
      if (rep === 0) return;
      if (a32) regs[ECX] = (regs[ECX]! - 1) | 0;
      else this.setReg(2, ECX, regs[ECX]! - 1);
      iterations++;
      if (kind === 0xa6 || kind === 0xae) {
        const zf = this.cond(4);
        if (rep === 0xf3 ? !zf : zf) break;
      }
      // Long strings are interruptible between iterations (SDM REP): give timers their turn.
      if ((iterations & 0x3ff) === 0) {
        this.clock.cycles += 0x400 * this.cost.instruction;
        if (this.clock.cycles >= this.clock.nextDeadline && (regs[ECX]! & amask) !== 0) {
          this.eip = this.startEip;
          return;
        }
      }
    }
    this.clock.cycles += (iterations & 0x3ff) * this.cost.instruction;
  }

  private advance(r: number, step: number, a32: boolean): void {
    if (a32) this.regs[r] = (this.regs[r]! + step) | 0;
    else this.setReg(2, r, this.regs[r]! + step);
  }

  private stringIo(b: number): void {
    const regs = this.regs;
    const size = (b & 1) === 0 ? 1 : this.os;
    const port = regs[EDX]! & 0xffff;
    if (!this.ioAllowed(port, size)) return;
    const step = (this.flags & DF) !== 0 ? -size : size;
    const a32 = this.as32;
    const amask = a32 ? -1 : 0xffff;
    for (;;) {
      if (this.rep !== 0 && (regs[ECX]! & amask) === 0) break;
      if (b <= 0x6d) {
        const di = regs[EDI]! & amask;
        // The destination must be writable before the port is read (a port read has effects).
        if (!this.probeWrite(ES, di, size)) return;
        this.wrSz(size, ES, di, this.portIn(port, size));
        this.advance(EDI, step, a32);
      } else {
        const v = this.rdSz(size, this.srcSeg, regs[ESI]! & amask);
        if (this.pend >= 0) return;
        this.portOut(port, size, v);
        this.advance(ESI, step, a32);
      }
      if (this.rep === 0) return;
      if (a32) regs[ECX] = (regs[ECX]! - 1) | 0;
      else this.setReg(2, ECX, regs[ECX]! - 1);
      if (this.stop.requested) {
        if ((regs[ECX]! & amask) !== 0) this.eip = this.startEip;
        return;
      }
    }
  }

  // =====================================================================================
  // Port I/O
  // =====================================================================================

  /**
   * IOPL and the TSS I/O permission bitmap (SDM Vol. 1 §18.5.2): at CPL > IOPL every bit for
   * the accessed ports must be 0 in the bitmap at TSS base + [0x66], within the TSS limit.
   */
  private ioAllowed(port: number, size: number): boolean {
    if (this.cplv <= (this.flags & IOPL_MASK) >>> IOPL_SHIFT) return true;
    const type = this.segAttr[TR]! & 0xf;
    const limit = this.segLimit[TR]! >>> 0;
    if ((type !== SysType.Tss32Busy && type !== SysType.Tss32Avail) || limit < 0x67) {
      this.gp(0);
      return false;
    }
    const base = this.segBase[TR]!;
    const mapBase = this.sysRead16(base + 0x66);
    if (this.pend >= 0) return false;
    const off = mapBase + (port >>> 3);
    if (off + 1 > limit) {
      this.gp(0);
      return false;
    }
    const bits = this.sysRead16(base + off);
    if (this.pend >= 0) return false;
    const mask = ((1 << size) - 1) << (port & 7);
    if ((bits & mask) !== 0) {
      this.gp(0);
      return false;
    }
    return true;
  }

  private portIn(port: number, size: number): number {
    this.clock.cycles += this.cost.deviceRegister;
    const v = this.ports.read(port, size as PortSize);
    if (this.stop.requested) this.breakOut = true;
    return v;
  }

  private portOut(port: number, size: number, v: number): void {
    this.clock.cycles += this.cost.deviceRegister;
    const m = size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
    this.ports.write(port, size as PortSize, m);
    if (this.stop.requested) this.breakOut = true;
  }

  // =====================================================================================
  // EFLAGS instructions
  // =====================================================================================

  private pushf(): void {
    // VM and RF are cleared in the image (SDM PUSHF).
    const f = this.getEflags() & ~(RF | 0x20000);
    this.push(this.os, f);
  }

  /**
   * POPF (SDM POPF, Table "Effect of POPF"): at CPL 0 every writable flag changes; at
   * 0 < CPL <= IOPL all but IOPL; at CPL > IOPL neither IOPL nor IF — silently, no fault.
   */
  private popf(): void {
    const v = this.pop(this.os);
    if (this.pend >= 0) return;
    this.syncFlags();
    let mask = OSZAPC | TF | DF | NT | (this.os === 4 ? AC | ID : 0);
    if (this.cplv === 0) mask |= IOPL_MASK | IF;
    else if (this.cplv <= (this.flags & IOPL_MASK) >>> IOPL_SHIFT) mask |= IF;
    if (this.os === 2) mask &= 0xffff;
    this.flags = (this.flags & ~mask) | (v & mask) | EFLAGS_FIXED1;
  }

  // =====================================================================================
  // Segment loading and descriptor checks (SDM Vol. 3A §5.5-5.10, MOV/POP/LDS pages)
  // =====================================================================================

  // The descriptor last read and where it lives. Paths that read a second descriptor (the
  // stack's) before committing the first save and restore all three: markAccessed writes at
  // descAddr, so restoring only descLo/descHi would set the code Accessed bit in the stack slot.
  private descLo = 0;
  private descHi = 0;
  private descAddr = 0;

  /** Reads the descriptor for `sel` into descLo/descHi; false with #GP(sel) if outside the table. */
  private readDescriptor(sel: number, errVector: number): boolean {
    const index = sel & ~7;
    let base: number;
    let limit: number;
    if ((sel & 4) !== 0) {
      if ((this.segRights[LDTR]! & SR_VALID) === 0 || (this.segSel[LDTR]! & ~3) === 0) {
        this.fault(errVector, sel & 0xfffc, true);
        return false;
      }
      base = this.segBase[LDTR]!;
      limit = this.segLimit[LDTR]! >>> 0;
    } else {
      base = this.gdtrBase;
      limit = this.gdtrLimit;
    }
    if (index + 7 > limit) {
      this.fault(errVector, sel & 0xfffc, true);
      return false;
    }
    this.descAddr = (base + index) | 0;
    this.descLo = this.sysRead32(this.descAddr);
    this.descHi = this.sysRead32(this.descAddr + 4);
    return this.pend < 0;
  }

  /** Sets the Accessed bit of the descriptor just read (the hardware's locked write). */
  private markAccessed(): void {
    if ((this.descHi & 0x100) === 0) {
      this.descHi |= 0x100;
      this.sysWrite32(this.descAddr + 4, this.descHi);
    }
  }

  private loadFromDesc(seg: number, sel: number): void {
    this.setCache(
      seg,
      sel,
      descBase(this.descLo, this.descHi),
      descLimit(this.descLo, this.descHi),
      descAttr(this.descHi),
      true,
    );
  }

  /** MOV/POP/LDS-family loads of a data or stack segment register, with every check. */
  private loadSegment(seg: number, sel: number): void {
    sel &= 0xffff;
    const rpl = sel & 3;
    const cpl = this.cplv;
    if ((sel & ~3) === 0) {
      if (seg === SS) {
        this.gp(0);
        return;
      }
      // A null selector may be loaded into DS/ES/FS/GS; using it faults later.
      this.setCache(seg, sel, 0, 0, 0, false);
      return;
    }
    if (!this.readDescriptor(sel, Vector.GP)) return;
    const attr = descAttr(this.descHi);
    const dpl = attrDpl(attr);
    const err = sel & 0xfffc;
    if ((attr & ATTR_S) === 0) {
      this.gp(err);
      return;
    }
    if (seg === SS) {
      if (rpl !== cpl || dpl !== cpl || (attr & ATTR_CODE) !== 0 || (attr & ATTR_RW) === 0) {
        this.gp(err);
        return;
      }
      if ((attr & ATTR_P) === 0) {
        this.fault(Vector.SS, err, true);
        return;
      }
    } else {
      const code = (attr & ATTR_CODE) !== 0;
      if (code && (attr & ATTR_RW) === 0) {
        this.gp(err);
        return;
      }
      const conforming = code && (attr & ATTR_DC) !== 0;
      if (!conforming && (dpl < cpl || dpl < rpl)) {
        this.gp(err);
        return;
      }
      if ((attr & ATTR_P) === 0) {
        this.fault(Vector.NP, err, true);
        return;
      }
    }
    this.markAccessed();
    if (this.pend >= 0) return;
    this.loadFromDesc(seg, sel);
  }

  /** Checks a code-segment descriptor (already read) as a far JMP/CALL target. */
  private checkCodeTarget(sel: number, attr: number): boolean {
    const err = sel & 0xfffc;
    const dpl = attrDpl(attr);
    if ((attr & ATTR_DC) !== 0) {
      if (dpl > this.cplv) {
        this.gp(err);
        return false;
      }
    } else if ((sel & 3) > this.cplv || dpl !== this.cplv) {
      this.gp(err);
      return false;
    }
    if ((attr & ATTR_P) === 0) {
      this.fault(Vector.NP, err, true);
      return false;
    }
    return true;
  }

  /** Commits a CS load at privilege `cpl` (RPL := CPL) and jumps to `eip`. */
  private commitCs(sel: number, cpl: number, eip: number): void {
    this.markAccessed();
    if (this.pend >= 0) return;
    const lo = this.descLo;
    const hi = this.descHi;
    const limit = descLimit(lo, hi);
    if (eip >>> 0 > limit) {
      this.gp(0);
      return;
    }
    this.setCache(CS, (sel & ~3) | cpl, descBase(lo, hi), limit, descAttr(hi), true);
    if (cpl !== this.cplv) this.setCpl(cpl);
    this.eip = eip;
  }

  private farJump(sel: number, eip: number): void {
    if ((sel & ~3) === 0) {
      this.gp(0);
      return;
    }
    if (!this.readDescriptor(sel, Vector.GP)) return;
    const attr = descAttr(this.descHi);
    if ((attr & ATTR_S) !== 0) {
      if ((attr & ATTR_CODE) === 0) {
        this.gp(sel & 0xfffc);
        return;
      }
      if (!this.checkCodeTarget(sel, attr)) return;
      this.commitCs(sel, this.cplv, eip);
      return;
    }
    const type = attr & 0xf;
    if (type === SysType.CallGate16 || type === SysType.CallGate32) {
      const gate = this.readGate(sel, attr);
      if (gate < 0) return;
      const tattr = descAttr(this.descHi);
      const tdpl = attrDpl(tattr);
      // JMP through a call gate never changes privilege (SDM Vol. 3A §5.8.4).
      if ((tattr & ATTR_DC) !== 0 ? tdpl > this.cplv : tdpl !== this.cplv) {
        this.gp(this.gateSel & 0xfffc);
        return;
      }
      if ((tattr & ATTR_P) === 0) {
        this.fault(Vector.NP, this.gateSel & 0xfffc, true);
        return;
      }
      this.commitCs(this.gateSel, this.cplv, this.gateEip);
      return;
    }
    // Task switches are not simulated.
    this.gp(sel & 0xfffc);
  }

  private gateSel = 0;
  private gateEip = 0;
  private gateParams = 0;
  private gate32 = true;

  /**
   * Validates the call gate read from `sel` and loads its target code descriptor into
   * descLo/descHi; returns 0, or -1 with a fault pending.
   */
  private readGate(sel: number, attr: number): number {
    const dpl = attrDpl(attr);
    if (dpl < this.cplv || dpl < (sel & 3)) {
      this.gp(sel & 0xfffc);
      return -1;
    }
    if ((attr & ATTR_P) === 0) {
      this.fault(Vector.NP, sel & 0xfffc, true);
      return -1;
    }
    this.gate32 = (attr & 0xf) === SysType.CallGate32;
    this.gateSel = gateSelector(this.descLo);
    this.gateEip = gateOffset(this.descLo, this.descHi);
    if (!this.gate32) this.gateEip &= 0xffff;
    this.gateParams = gateParamCount(this.descHi);
    if ((this.gateSel & ~3) === 0) {
      this.gp(0);
      return -1;
    }
    if (!this.readDescriptor(this.gateSel, Vector.GP)) return -1;
    const tattr = descAttr(this.descHi);
    if ((tattr & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE) || attrDpl(tattr) > this.cplv) {
      this.gp(this.gateSel & 0xfffc);
      return -1;
    }
    return 0;
  }

  private farCall(sel: number, eip: number): void {
    const os = this.os;
    if ((sel & ~3) === 0) {
      this.gp(0);
      return;
    }
    if (!this.readDescriptor(sel, Vector.GP)) return;
    const attr = descAttr(this.descHi);
    if ((attr & ATTR_S) !== 0) {
      if ((attr & ATTR_CODE) === 0) {
        this.gp(sel & 0xfffc);
        return;
      }
      if (!this.checkCodeTarget(sel, attr)) return;
      // Push the return address first (may fault), then commit CS:EIP.
      const esp = this.regs[ESP]!;
      if (!this.probeWrite(SS, this.spOff(this.newSp(esp, -2 * os)), 2 * os)) return;
      const lo = this.descLo;
      const addr = this.descAddr;
      const hi = this.descHi;
      this.push(os, this.segSel[CS]!);
      this.push(os, this.eip);
      this.descLo = lo;
      this.descAddr = addr;
      this.descHi = hi;
      this.commitCs(sel, this.cplv, eip);
      if (this.pend >= 0) this.regs[ESP] = esp;
      return;
    }
    const type = attr & 0xf;
    if (type !== SysType.CallGate16 && type !== SysType.CallGate32) {
      this.gp(sel & 0xfffc);
      return;
    }
    if (this.readGate(sel, attr) < 0) return;
    const tattr = descAttr(this.descHi);
    const tdpl = attrDpl(tattr);
    const tsel = this.gateSel;
    if ((tattr & ATTR_P) === 0) {
      this.fault(Vector.NP, tsel & 0xfffc, true);
      return;
    }
    const gsize = this.gate32 ? 4 : 2;
    if ((tattr & ATTR_DC) === 0 && tdpl < this.cplv) {
      // More privileged: switch to the TSS stack for tdpl and copy the parameters.
      const codeLo = this.descLo;
      const codeAddr = this.descAddr;
      const codeHi = this.descHi;
      if (!this.tssStack(tdpl)) return;
      const newSs = this.tssSs;
      const newEsp = this.tssEsp;
      const ssLo = this.descLo;
      const ssAddr = this.descAddr;
      const ssHi = this.descHi;
      const ssAttr = descAttr(ssHi);
      const ssBase = descBase(ssLo, ssHi);
      const ssBig = (ssAttr & ATTR_DB) !== 0;
      const nParams = this.gateParams;
      const oldSs = this.segSel[SS]!;
      const oldEsp = this.regs[ESP]!;
      const params: number[] = [];
      for (let i = nParams - 1; i >= 0; i--) {
        params.push(this.rdSz(gsize, SS, this.spOff(this.newSp(oldEsp, i * gsize))));
      }
      if (this.pend >= 0) return;
      const frame = [oldSs, oldEsp, ...params, this.segSel[CS]!, this.eip];
      let sp = newEsp;
      const user = tdpl === 3;
      for (const v of frame) {
        sp = ssBig ? (sp - gsize) | 0 : (sp & ~0xffff) | ((sp - gsize) & 0xffff);
        const lin = (ssBase + (ssBig ? sp : sp & 0xffff)) | 0;
        this.linWrite(lin, gsize, v, user);
        if (this.pend >= 0) {
          this.pendErr = this.pend === Vector.PF ? this.pendErr : newSs & 0xfffc;
          return;
        }
      }
      this.descLo = ssLo;
      this.descAddr = ssAddr;
      this.descHi = ssHi;
      this.markAccessed();
      this.loadFromDesc(SS, newSs);
      this.regs[ESP] = sp;
      this.descLo = codeLo;
      this.descAddr = codeAddr;
      this.descHi = codeHi;
      this.commitCs(tsel, tdpl, this.gateEip);
      return;
    }
    const esp = this.regs[ESP]!;
    if (!this.probeWrite(SS, this.spOff(this.newSp(esp, -2 * gsize)), 2 * gsize)) return;
    const lo = this.descLo;
    const addr = this.descAddr;
    const hi = this.descHi;
    const saveOs = this.os;
    this.os = gsize;
    this.push(gsize, this.segSel[CS]!);
    this.push(gsize, this.eip);
    this.os = saveOs;
    this.descLo = lo;
    this.descAddr = addr;
    this.descHi = hi;
    this.commitCs(tsel, this.cplv, this.gateEip);
    if (this.pend >= 0) this.regs[ESP] = esp;
  }

  private tssSs = 0;
  private tssEsp = 0;

  /**
   * Reads SSn:ESPn for privilege `dpl` from the 32-bit TSS (SDM Vol. 3A Figure 7-2: ESP0 at 4,
   * SS0 at 8, 8 bytes per level) and validates SS (#TS(selector) on any failure, SDM §6.12.1).
   * Leaves the SS descriptor in descLo/descHi.
   */
  private tssStack(dpl: number): boolean {
    const trBase = this.segBase[TR]!;
    const trLimit = this.segLimit[TR]! >>> 0;
    const type = this.segAttr[TR]! & 0xf;
    const trSel = this.segSel[TR]! & 0xfffc;
    if (type !== SysType.Tss32Busy && type !== SysType.Tss32Avail) {
      this.fault(Vector.TS, trSel, true);
      return false;
    }
    const off = 4 + dpl * 8;
    if (off + 5 > trLimit) {
      this.fault(Vector.TS, trSel, true);
      return false;
    }
    const esp = this.sysRead32(trBase + off);
    const ss = this.sysRead16(trBase + off + 4);
    if (this.pend >= 0) return false;
    const err = ss & 0xfffc;
    if ((ss & ~3) === 0) {
      this.fault(Vector.TS, err, true);
      return false;
    }
    if (!this.readDescriptor(ss, Vector.TS)) return false;
    const attr = descAttr(this.descHi);
    if (
      (ss & 3) !== dpl ||
      attrDpl(attr) !== dpl ||
      (attr & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)
    ) {
      this.fault(Vector.TS, err, true);
      return false;
    }
    if ((attr & ATTR_P) === 0) {
      this.fault(Vector.SS, err, true);
      return false;
    }
    this.tssSs = ss;
    this.tssEsp = esp;
    return true;
  }

  /** After a return to an outer ring, data segments the new CPL may not use become null (SDM RET). */
  private nullInaccessibleSegments(): void {
    for (const s of [ES, DS, FS, GS]) {
      const attr = this.segAttr[s]!;
      if ((this.segRights[s]! & SR_VALID) === 0) continue;
      const dataOrNonConforming = (attr & ATTR_CODE) === 0 || (attr & ATTR_DC) === 0;
      if (dataOrNonConforming && attrDpl(attr) < this.cplv) this.setCache(s, 0, 0, 0, 0, false);
    }
  }

  /**
   * The checks far RET and IRET make on the code selector they pop (SDM Vol. 2, RET/IRET
   * "return to same/outer privilege level"): not null, a code segment, RPL ≥ CPL, DPL = RPL
   * (≤ RPL if conforming), present. Leaves the descriptor in descLo/descHi/descAddr; false if
   * it raised #GP/#NP.
   */
  private loadReturnCodeDescriptor(sel: number): boolean {
    const rpl = sel & 3;
    if ((sel & ~3) === 0) {
      this.gp(0);
      return false;
    }
    if (!this.readDescriptor(sel, Vector.GP)) return false;
    const attr = descAttr(this.descHi);
    const err = sel & 0xfffc;
    if ((attr & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE) || rpl < this.cplv) {
      this.gp(err);
      return false;
    }
    const dpl = attrDpl(attr);
    if ((attr & ATTR_DC) !== 0 ? dpl > rpl : dpl !== rpl) {
      this.gp(err);
      return false;
    }
    if ((attr & ATTR_P) === 0) {
      this.fault(Vector.NP, err, true);
      return false;
    }
    return true;
  }

  private farReturn(extra: number): void {
    const os = this.os;
    const regs = this.regs;
    const eip = this.peekStack(os, 0);
    const sel = this.peekStack(os, 1) & 0xffff;
    if (this.pend >= 0) return;
    const t = os === 4 ? eip : eip & 0xffff;
    const rpl = sel & 3;
    if (!this.loadReturnCodeDescriptor(sel)) return;
    if (rpl === this.cplv) {
      const esp = regs[ESP]!;
      regs[ESP] = this.newSp(esp, 2 * os + extra);
      this.commitCs(sel, rpl, t);
      if (this.pend >= 0) regs[ESP] = esp;
      return;
    }
    // Return to an outer ring: pop SS:ESP after the immediate adjustment.
    const newEsp = this.peekStack(os, 2 + extra / os);
    const newSs = this.peekStack(os, 3 + extra / os) & 0xffff;
    if (this.pend >= 0) return;
    const codeLo = this.descLo;
    const codeAddr = this.descAddr;
    const codeHi = this.descHi;
    if (!this.checkOuterStack(newSs, rpl)) return;
    const ssLo = this.descLo;
    const ssAddr = this.descAddr;
    const ssHi = this.descHi;
    this.descLo = codeLo;
    this.descAddr = codeAddr;
    this.descHi = codeHi;
    this.commitCs(sel, rpl, t);
    if (this.pend >= 0) return;
    this.descLo = ssLo;
    this.descAddr = ssAddr;
    this.descHi = ssHi;
    this.markAccessed();
    this.loadFromDesc(SS, newSs);
    const e = os === 4 ? newEsp : newEsp & 0xffff;
    regs[ESP] = this.stackBig ? (e + extra) | 0 : (e + extra) & 0xffff;
    this.nullInaccessibleSegments();
  }

  /** Validates the SS selector popped for a return to privilege `rpl` (#GP(sel), #SS(sel)). */
  private checkOuterStack(ss: number, rpl: number): boolean {
    const err = ss & 0xfffc;
    if ((ss & ~3) === 0) {
      this.gp(0);
      return false;
    }
    if (!this.readDescriptor(ss, Vector.GP)) return false;
    const attr = descAttr(this.descHi);
    if (
      (ss & 3) !== rpl ||
      attrDpl(attr) !== rpl ||
      (attr & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)
    ) {
      this.gp(err);
      return false;
    }
    if ((attr & ATTR_P) === 0) {
      this.fault(Vector.SS, err, true);
      return false;
    }
    return true;
  }

  /**
   * IRET in protected mode (SDM IRET, "PROTECTED-MODE" and "RETURN-TO-OUTER-PRIVILEGE-LEVEL").
   * EFLAGS: IOPL changes only at CPL 0, IF only at CPL <= IOPL. NT = 1 (task return) and
   * VM = 1 (return to virtual-8086 mode) are not simulated: #GP(0).
   */
  private iret(): void {
    const os = this.os;
    const regs = this.regs;
    this.syncFlags();
    if ((this.flags & NT) !== 0) {
      this.gp(0);
      return;
    }
    const eip = this.peekStack(os, 0);
    const sel = this.peekStack(os, 1) & 0xffff;
    const fl = this.peekStack(os, 2);
    if (this.pend >= 0) return;
    const t = os === 4 ? eip : eip & 0xffff;
    if (os === 4 && (fl & 0x20000) !== 0 && this.cplv === 0) {
      this.gp(0);
      return;
    }
    const rpl = sel & 3;
    if (!this.loadReturnCodeDescriptor(sel)) return;
    const oldCpl = this.cplv;
    const oldIopl = (this.flags & IOPL_MASK) >>> IOPL_SHIFT;
    let mask = OSZAPC | TF | DF | NT | RF | (os === 4 ? AC | ID : 0);
    if (oldCpl === 0) mask |= IOPL_MASK | IF;
    else if (oldCpl <= oldIopl) mask |= IF;
    if (os === 2) mask &= 0xffff;
    const newFlags = (this.flags & ~mask) | (fl & mask) | EFLAGS_FIXED1;
    this.clock.cycles += this.cost.exceptionReturn;
    if (rpl === oldCpl) {
      const esp = regs[ESP]!;
      regs[ESP] = this.newSp(esp, 3 * os);
      this.commitCs(sel, rpl, t);
      if (this.pend >= 0) {
        regs[ESP] = esp;
        return;
      }
      this.flags = newFlags & ~RF;
      return;
    }
    const newEsp = this.peekStack(os, 3);
    const newSs = this.peekStack(os, 4) & 0xffff;
    if (this.pend >= 0) return;
    const codeLo = this.descLo;
    const codeAddr = this.descAddr;
    const codeHi = this.descHi;
    if (!this.checkOuterStack(newSs, rpl)) return;
    const ssLo = this.descLo;
    const ssAddr = this.descAddr;
    const ssHi = this.descHi;
    this.descLo = codeLo;
    this.descAddr = codeAddr;
    this.descHi = codeHi;
    this.commitCs(sel, rpl, t);
    if (this.pend >= 0) return;
    this.descLo = ssLo;
    this.descAddr = ssAddr;
    this.descHi = ssHi;
    this.markAccessed();
    this.loadFromDesc(SS, newSs);
    regs[ESP] = os === 4 ? newEsp : (regs[ESP]! & ~0xffff) | (newEsp & 0xffff);
    this.flags = newFlags & ~RF;
    this.nullInaccessibleSegments();
  }

  // =====================================================================================
  // System instructions (0F 00, 0F 01, LAR/LSL, MOV CRn/DRn)
  // =====================================================================================

  private group6(): void {
    switch (this.reg) {
      case 0:
      case 1: {
        // SLDT / STR: to a register with 32-bit operand size the upper half is zeroed.
        const sel = this.segSel[this.reg === 0 ? LDTR : TR]!;
        if (this.mod === 3) this.setReg(this.os, this.rm, sel);
        else this.wr16(this.eaSeg, this.ea, sel);
        return;
      }
      case 2:
      case 3: {
        if (this.cplv !== 0) {
          this.gp(0);
          return;
        }
        const sel = this.readE(2);
        if (this.pend >= 0) return;
        if (this.reg === 2) this.lldt(sel);
        else this.ltr(sel);
        return;
      }
      case 4:
      case 5: {
        const sel = this.readE(2);
        if (this.pend >= 0) return;
        this.verrw(sel, this.reg === 5);
        return;
      }
      default:
        this.ud();
    }
  }

  private lldt(sel: number): void {
    if ((sel & ~3) === 0) {
      this.setCache(LDTR, sel, 0, 0, 0, false);
      return;
    }
    if ((sel & 4) !== 0) {
      this.gp(sel & 0xfffc);
      return;
    }
    if (!this.readDescriptor(sel, Vector.GP)) return;
    const attr = descAttr(this.descHi);
    if ((attr & ATTR_S) !== 0 || (attr & 0xf) !== SysType.Ldt) {
      this.gp(sel & 0xfffc);
      return;
    }
    if ((attr & ATTR_P) === 0) {
      this.fault(Vector.NP, sel & 0xfffc, true);
      return;
    }
    this.loadFromDesc(LDTR, sel);
  }

  private ltr(sel: number): void {
    if ((sel & ~3) === 0 || (sel & 4) !== 0) {
      this.gp(sel & 0xfffc);
      return;
    }
    if (!this.readDescriptor(sel, Vector.GP)) return;
    const attr = descAttr(this.descHi);
    const type = attr & 0xf;
    if ((attr & ATTR_S) !== 0 || (type !== SysType.Tss32Avail && type !== SysType.Tss16Avail)) {
      this.gp(sel & 0xfffc);
      return;
    }
    if ((attr & ATTR_P) === 0) {
      this.fault(Vector.NP, sel & 0xfffc, true);
      return;
    }
    // LTR marks the TSS busy in the GDT (type bit 1).
    this.descHi |= 0x200;
    this.sysWrite32(this.descAddr + 4, this.descHi);
    if (this.pend >= 0) return;
    this.loadFromDesc(TR, sel);
  }

  /** Reads a descriptor for LAR/LSL/VERR/VERW without faulting on a bad selector: false → ZF=0. */
  private probeDescriptor(sel: number): boolean {
    if ((sel & ~3) === 0) return false;
    const index = sel & ~7;
    let base: number;
    let limit: number;
    if ((sel & 4) !== 0) {
      if ((this.segRights[LDTR]! & SR_VALID) === 0) return false;
      base = this.segBase[LDTR]!;
      limit = this.segLimit[LDTR]! >>> 0;
    } else {
      base = this.gdtrBase;
      limit = this.gdtrLimit;
    }
    if (index + 7 > limit) return false;
    this.descLo = this.sysRead32(base + index);
    this.descHi = this.sysRead32(base + index + 4);
    return this.pend < 0;
  }

  /** Whether the descriptor just probed is visible at CPL and RPL (conforming code always is). */
  private descVisible(sel: number, attr: number): boolean {
    const conformingCode = (attr & (ATTR_S | ATTR_CODE | ATTR_DC)) === (ATTR_S | ATTR_CODE | ATTR_DC);
    if (conformingCode) return true;
    const dpl = attrDpl(attr);
    return dpl >= this.cplv && dpl >= (sel & 3);
  }

  private setZf(on: boolean): void {
    this.syncFlags();
    this.flags = on ? this.flags | ZF : this.flags & ~ZF;
  }

  private verrw(sel: number, write: boolean): void {
    let ok = this.probeDescriptor(sel);
    if (this.pend >= 0) return;
    if (ok) {
      const attr = descAttr(this.descHi);
      if ((attr & ATTR_S) === 0 || !this.descVisible(sel, attr)) ok = false;
      else if (write) ok = (attr & (ATTR_CODE | ATTR_RW)) === ATTR_RW;
      else ok = (attr & ATTR_CODE) === 0 || (attr & ATTR_RW) !== 0;
    }
    this.setZf(ok);
  }

  /** LAR (access rights, masked 0x00F0FF00) / LSL (byte limit); ZF = 1 when valid (SDM LAR, LSL). */
  private larLsl(lsl: boolean): void {
    const sel = this.readE(2);
    if (this.pend >= 0) return;
    let ok = this.probeDescriptor(sel);
    if (this.pend >= 0) return;
    if (ok) {
      const attr = descAttr(this.descHi);
      if (!this.descVisible(sel, attr)) ok = false;
      else if ((attr & ATTR_S) === 0) {
        const t = attr & 0xf;
        // Valid system types (SDM Tables in LAR/LSL): TSS and LDT for both, gates for LAR only.
        const lslTypes = [1, 2, 3, 9, 11];
        const larTypes = [1, 2, 3, 4, 5, 9, 11, 12];
        ok = (lsl ? lslTypes : larTypes).includes(t);
      }
    }
    if (ok) {
      const v = lsl ? descLimit(this.descLo, this.descHi) : this.descHi & 0x00f0ff00;
      this.setReg(this.os, this.reg, v);
    }
    this.setZf(ok);
  }

  private group7(): void {
    const reg = this.reg;
    if (reg === 4) {
      // SMSW: low 16 bits of CR0 (to a 32-bit register all of CR0, as i486+ do).
      if (this.mod === 3) this.setReg(this.os, this.rm, this.cr0v);
      else this.wr16(this.eaSeg, this.ea, this.cr0v);
      return;
    }
    if (reg === 6) {
      if (this.cplv !== 0) {
        this.gp(0);
        return;
      }
      const v = this.readE(2);
      if (this.pend >= 0) return;
      // LMSW changes PE/MP/EM/TS only and cannot clear PE.
      this.writeCr0((this.cr0v & ~0xe) | (v & 0xf));
      return;
    }
    if (this.mod === 3 || reg === 5) {
      this.ud();
      return;
    }
    if (reg === 0 || reg === 1) {
      // SGDT/SIDT: 16-bit limit then 32-bit base (with 16-bit operand size the top byte is 0).
      const base = reg === 0 ? this.gdtrBase : this.idtrBase;
      const limit = reg === 0 ? this.gdtrLimit : this.idtrLimit;
      if (!this.probeWrite(this.eaSeg, this.ea, 6)) return;
      this.wr16(this.eaSeg, this.ea, limit);
      this.wr32(this.eaSeg, (this.ea + 2) | 0, this.os === 4 ? base : base & 0x00ffffff);
      return;
    }
    if (this.cplv !== 0) {
      this.gp(0);
      return;
    }
    if (reg === 7) {
      this.paging.invalidate((this.segBase[this.eaSeg]! + this.ea) | 0); // and the fetch window
      return;
    }
    const limit = this.rd16(this.eaSeg, this.ea);
    let base = this.rd32(this.eaSeg, (this.ea + 2) | 0);
    if (this.pend >= 0) return;
    if (this.os === 2) base &= 0x00ffffff;
    if (reg === 2) {
      this.gdtrBase = base | 0;
      this.gdtrLimit = limit;
    } else {
      this.idtrBase = base | 0;
      this.idtrLimit = limit;
    }
  }

  private movCrDr(b: number): void {
    if (this.cplv !== 0) {
      this.gp(0);
      return;
    }
    const n = this.reg;
    const r = this.rm;
    const regs = this.regs;
    switch (b) {
      case 0x120:
        if (n === 0) regs[r] = this.cr0v;
        else if (n === 2) regs[r] = this.cr2;
        else if (n === 3) regs[r] = this.cr3v;
        else if (n === 4) regs[r] = this.cr4v;
        else this.ud();
        return;
      case 0x122: {
        const v = regs[r]!;
        if (n === 0) {
          if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) {
            this.gp(0);
            return;
          }
          this.writeCr0(v);
        } else if (n === 2) this.cr2 = v;
        else if (n === 3) this.cr3 = v;
        else if (n === 4) {
          if ((v & ~(CR4_TSD | CR4_PSE | CR4_PGE | 0x8 | 0x1 | 0x2 | 0x40 | 0x100)) !== 0) {
            this.gp(0);
            return;
          }
          this.cr4 = v;
        } else this.ud();
        return;
      }
      case 0x121:
        regs[r] = n === 4 ? this.dr[6]! : n === 5 ? this.dr[7]! : this.dr[n]!;
        return;
      default: {
        const idx = n === 4 ? 6 : n === 5 ? 7 : n;
        this.dr[idx] = regs[r]!;
      }
    }
  }

  // =====================================================================================
  // Interrupts and exceptions
  // =====================================================================================

  private softwareInterrupt(vector: number): void {
    this.deliverEvent(vector, 0, false, EV_SOFTWARE, true);
  }

  private externalInterrupt(): void {
    const ctl = this.interruptController;
    if (ctl === null) return;
    const vector = ctl.acknowledge() & 0xff;
    this.startEip = this.eip;
    this.startEsp = this.regs[ESP]!;
    if (this.interceptExceptions) {
      this.recordTrap(vector, 0, false, "external", this.eip);
      return;
    }
    this.deliverEvent(vector, 0, false, EV_EXTERNAL, false);
    if (this.pend >= 0) this.raisePending();
  }

  private recordTrap(
    vector: number,
    err: number,
    hasErr: boolean,
    kind: X86Trap["kind"],
    nextEip: number,
  ): void {
    const t = this.trap;
    t.vector = vector;
    t.errorCode = err;
    t.hasErrorCode = hasErr;
    t.eip = kind === "external" ? this.eip : this.startEip;
    t.nextEip = nextEip;
    t.cr2 = this.cr2;
    t.kind = kind;
    this.stats.exceptions[vector]! += 1;
    this.stopReason = StopReason.Trap;
  }

  /** Delivers the pending exception (after rolling back the instruction) with #DF escalation. */
  private raisePending(): void {
    let vector = this.pend;
    let err = this.pendErr;
    let hasErr = this.pendHasErr;
    this.pend = -1;
    this.eip = this.startEip;
    this.regs[ESP] = this.startEsp;
    if (this.interceptExceptions) {
      this.recordTrap(vector, err, hasErr, "exception", this.startEip);
      return;
    }
    for (;;) {
      this.deliverEvent(vector, err, hasErr, EV_EXCEPTION, false);
      if (this.pend < 0) return;
      const second = this.pend;
      this.pend = -1;
      this.eip = this.startEip;
      this.regs[ESP] = this.startEsp;
      if (vector === Vector.DF) {
        this.shutdown(`triple fault: exception ${second} while delivering a double fault`);
        return;
      }
      const escalate =
        (isContributory(vector) && isContributory(second)) ||
        (vector === Vector.PF && (isContributory(second) || second === Vector.PF));
      if (escalate) {
        vector = Vector.DF;
        err = 0;
        hasErr = true;
      } else {
        vector = second;
        err = this.pendErr;
        hasErr = this.pendHasErr;
      }
    }
  }

  private shutdown(why: string): void {
    this.diagnostic = `${why} at ${this.segSel[CS]!.toString(16)}:${(this.eip >>> 0).toString(16)} (CPL ${this.cplv}, IDTR base 0x${(this.idtrBase >>> 0).toString(16)} limit 0x${this.idtrLimit.toString(16)})`;
    this.stopReason = StopReason.Shutdown;
    this.halted = true;
  }

  /**
   * Vectors through the IDT (SDM Vol. 3A §6.12): interrupt/trap gates (16/32-bit), privilege
   * checks (software INT needs gate DPL >= CPL), the TSS stack switch for a more privileged
   * non-conforming handler, and the frame [SS, ESP,] EFLAGS, CS, EIP[, error code].
   * Faults pend for raisePending; `soft` events resume after the instruction.
   */
  private deliverEvent(vector: number, err: number, hasErr: boolean, kind: number, soft: boolean): void {
    if (soft && this.interceptExceptions) {
      this.recordTrap(vector, 0, false, "software", this.eip);
      this.eip = this.startEip;
      this.breakOut = true;
      return;
    }
    const ext = kind === EV_SOFTWARE ? 0 : 1;
    const idtErr = vector * 8 + 2 + ext;
    if (vector * 8 + 7 > this.idtrLimit) {
      this.gp(idtErr);
      return;
    }
    const lo = this.sysRead32(this.idtrBase + vector * 8);
    const hi = this.sysRead32(this.idtrBase + vector * 8 + 4);
    if (this.pend >= 0) return;
    const attr = descAttr(hi);
    const type = attr & 0xf;
    const isInt = type === SysType.IntGate32 || type === SysType.IntGate16;
    const isTrap = type === SysType.TrapGate32 || type === SysType.TrapGate16;
    if ((attr & ATTR_S) !== 0 || (!isInt && !isTrap)) {
      this.gp(idtErr);
      return;
    } // task gates: not simulated
    if (kind === EV_SOFTWARE && attrDpl(attr) < this.cplv) {
      this.gp(idtErr);
      return;
    }
    if ((attr & ATTR_P) === 0) {
      this.fault(Vector.NP, idtErr, true);
      return;
    }
    const g32 = type === SysType.IntGate32 || type === SysType.TrapGate32;
    const gsize = g32 ? 4 : 2;
    const sel = gateSelector(lo);
    const target = g32 ? gateOffset(lo, hi) : lo & 0xffff;
    if ((sel & ~3) === 0) {
      this.gp(ext);
      return;
    }
    if (!this.readDescriptor(sel, Vector.GP)) {
      this.pendErr |= ext;
      return;
    }
    const cattr = descAttr(this.descHi);
    const cdpl = attrDpl(cattr);
    if ((cattr & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE) || cdpl > this.cplv) {
      this.gp((sel & 0xfffc) | ext);
      return;
    }
    if ((cattr & ATTR_P) === 0) {
      this.fault(Vector.NP, (sel & 0xfffc) | ext, true);
      return;
    }
    const codeLo = this.descLo;
    const codeAddr = this.descAddr;
    const codeHi = this.descHi;
    const eflags = this.getEflags();
    const retEip = soft ? this.eip : this.startEip;
    const inner = (cattr & ATTR_DC) === 0 && cdpl < this.cplv;
    let ssBase: number;
    let ssBig: boolean;
    let sp: number;
    let newSs = 0;
    let ssLo = 0;
    let ssAddr = 0;
    let ssHi = 0;
    const newCpl = inner ? cdpl : this.cplv;
    const frame: number[] = this.frameScratch;
    frame.length = 0;
    if (inner) {
      if (!this.tssStack(cdpl)) {
        this.pendErr |= ext;
        return;
      }
      newSs = this.tssSs;
      ssLo = this.descLo;
      ssAddr = this.descAddr;
      ssHi = this.descHi;
      ssBase = descBase(ssLo, ssHi);
      ssBig = (descAttr(ssHi) & ATTR_DB) !== 0;
      sp = this.tssEsp;
      frame.push(this.segSel[SS]!, this.regs[ESP]!);
    } else {
      ssBase = this.segBase[SS]!;
      ssBig = this.stackBig;
      sp = this.regs[ESP]!;
    }
    frame.push(eflags, this.segSel[CS]!, retEip);
    if (hasErr) frame.push(err);
    const user = newCpl === 3;
    for (const v of frame) {
      sp = ssBig ? (sp - gsize) | 0 : (sp & ~0xffff) | ((sp - gsize) & 0xffff);
      const lin = (ssBase + (ssBig ? sp : sp & 0xffff)) | 0;
      this.linWrite(lin, gsize, v, user);
      if (this.pend >= 0) {
        // A fault pushing the frame on a new stack is #SS(new SS) except for #PF.
        if (this.pend !== Vector.PF && inner) this.pendErr = (newSs & 0xfffc) | ext;
        return;
      }
    }
    this.descLo = codeLo;
    this.descAddr = codeAddr;
    this.descHi = codeHi;
    this.commitCs(sel, newCpl, target);
    if (this.pend >= 0) return;
    if (inner) {
      this.descLo = ssLo;
      this.descAddr = ssAddr;
      this.descHi = ssHi;
      this.markAccessed();
      this.loadFromDesc(SS, newSs);
    }
    this.regs[ESP] = sp;
    this.syncFlags();
    this.flags &= ~(TF | NT | RF | 0x20000);
    if (isInt) this.flags &= ~IF;
    this.stats.exceptions[vector]! += 1;
    this.clock.cycles += this.cost.exceptionEntry;
  }

  private readonly frameScratch: number[] = [];
  private readonly popaScratch = new Int32Array(8);
}
