/**
 * Compiled blocks with paging on and under a code segment with a nonzero base: random page
 * tables (U/S, R/W, not-present, aliases, CR0.WP, CPL 0 and 3, an FS with a base, a truncated
 * DS limit) with loads, stores, PTE rewrites
 * through a mapping of the page table, INVLPG and CR3 reloads, compared with the interpreter
 * (registers, flags, EIP, the trap, CR2, every data frame and the page table with its A/D
 * bits); self-modifying code under paging; a code-window-like alias (one frame executed through
 * a CS with a private base and written through another linear page); a monitor-style remap from
 * a watch handler in the middle of a block; the ownership oracle seeing every access; and the
 * kernel sample's simulated cycles and state identical with and without compiled blocks.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createBoard, StopReason } from "../../../src/machine/index.js";
import {
  CR0_PG,
  CR0_WP,
  CS,
  DS,
  FS,
  PTE_A,
  PTE_D,
  PTE_P,
  PTE_U,
  PTE_W,
  Vector,
  type X86Cpu,
} from "../../../src/machine/x86/index.js";
import { asm } from "./asm.js";
import { CODE, machine, setRing, type TestMachine, withSystemTables } from "./harness.js";

const PD = 0x100000;
const PT = 0x101000;
/** Linear pages 0x300..0x307 are the random data window; 0x308 maps the page table itself. */
const WINDOW = 0x300000;
const WINDOW_PAGES = 8;
const PT_ALIAS = 0x308000;
/** The window maps (randomly) onto frames 0x200..0x20b. */
const FRAME0 = 0x200;
const FRAMES = 12;

/**
 * Data segments for a run: FS base (0 = flat; FS-relative accesses are offset by it) and a DS
 * limit (0xffffffff, or truncated inside the window as a monitor truncates the guest's
 * segments below its hole: accesses past it #GP).
 */
interface DataSegments {
  fsBase: number;
  dsLimit: number;
}
const FLAT: DataSegments = { fsBase: 0, dsLimit: 0xffffffff };
const dataSegments: fc.Arbitrary<DataSegments> = fc.record({
  fsBase: fc.constantFrom(0, 0x1000, -0x1000, 3),
  dsLimit: fc.constantFrom(0xffffffff, WINDOW + 0x3fff, WINDOW + 0x5ffd),
});

/** Identity-maps 0-4 MiB (user, writable) except the window, which `pages` describes. */
function pagedMachine(src: string, ring: 0 | 3, wp: boolean, pages: number[], segs = FLAT): TestMachine {
  const t = machine(`${src}\nhlt`);
  withSystemTables(t);
  const m = t.memory;
  m.write32(PD, PT | PTE_P | PTE_W | PTE_U);
  for (let i = 0; i < 1024; i++) m.write32(PT + 4 * i, (i << 12) | PTE_P | PTE_W | PTE_U);
  for (let k = 0; k < WINDOW_PAGES; k++) m.write32(PT + 4 * ((WINDOW >>> 12) + k), pages[k]!);
  m.write32(PT + 4 * (PT_ALIAS >>> 12), PT | PTE_P | PTE_W | PTE_U);
  for (let f = 0; f < FRAMES; f++)
    for (let i = 0; i < 1024; i++) m.write32((FRAME0 + f) * 4096 + 4 * i, (f << 24) | (i * 0x10101));
  t.cpu.cr3 = PD;
  t.cpu.cr0 = t.cpu.cr0 | CR0_PG | (wp ? CR0_WP : 0);
  setRing(t, ring);
  const fs = t.cpu.getSegment(FS);
  t.cpu.setSegment(FS, { ...fs, base: segs.fsBase });
  t.cpu.setSegment(DS, { ...t.cpu.getSegment(DS), limit: segs.dsLimit });
  t.cpu.interceptExceptions = true;
  // Warm the TLB (code page and every window page, read access) so that compiled blocks start
  // at the first instruction and first accesses can already take the fast paths.
  t.cpu.paging.walk(CODE, false, ring === 3);
  for (let k = 0; k < WINDOW_PAGES; k++) t.cpu.paging.walk(WINDOW + k * 0x1000, false, ring === 3);
  return t;
}

/** Everything a program can change: registers, flags, EIP, the trap, CR2, frames, tables. */
function snapshot(t: TestMachine, r: StopReason) {
  const cpu = t.cpu;
  const frames: number[] = [];
  for (let a = FRAME0 * 4096; a < (FRAME0 + FRAMES) * 4096; a += 4) frames.push(t.memory.read32(a));
  const ptes: number[] = [];
  for (let k = 0; k <= WINDOW_PAGES; k++) ptes.push(t.memory.read32(PT + 4 * ((WINDOW >>> 12) + k)));
  return {
    r,
    regs: Array.from(cpu.regs),
    flags: cpu.getEflags(),
    eip: cpu.eip,
    trap: r === StopReason.Trap ? { ...cpu.trap } : null,
    cr2: cpu.cr2,
    frames,
    ptes,
    pde: t.memory.read32(PD),
    stack: [0, 4, 8, 12, 16].map((o) => t.memory.read32(0x40000 - 16 + o)),
  };
}

const R32 = ["eax", "ecx", "edx", "ebx", "esi", "edi", "ebp"];
const R8 = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];
const reg = fc.constantFrom(...R32);
/** Window addresses: page starts, aligned dwords, the last dword, page-crossing words/dwords. */
const addr = fc
  .tuple(
    fc.integer({ min: 0, max: WINDOW_PAGES - 1 }),
    fc.oneof(
      fc.constantFrom(0, 4, 0xffc, 0xffd, 0xffe, 0xfff, 1, 2),
      fc.integer({ min: 0, max: 0x3ff }).map((i) => i * 4),
    ),
  )
  .map(([p, o]) => WINDOW + p * 0x1000 + o);
const pte = fc
  .tuple(
    fc.integer({ min: 0, max: FRAMES - 1 }),
    fc.boolean(),
    fc.boolean(),
    fc.boolean(),
    fc.integer({ min: 0, max: 9 }),
  )
  .map(
    ([f, u, w, d, p]) =>
      ((FRAME0 + f) << 12) | (p > 0 ? PTE_P : 0) | (u ? PTE_U : 0) | (w ? PTE_W : 0) | (d ? PTE_D : 0),
  );
const imm = fc.integer({ min: -0x80000000, max: 0x7fffffff });

function instruction(ring: 0 | 3) {
  const common = [
    fc.tuple(reg, addr).map(([r, a]) => `mov ${r}, dword [${a}]`),
    fc.tuple(reg, addr).map(([r, a]) => `mov ${r}, dword fs:[${a}]`),
    fc.tuple(reg, addr).map(([r, a]) => `mov dword fs:[${a}], ${r}`),
    fc.tuple(reg, addr).map(([r, a]) => `movzx ${r}, byte fs:[${a}]`),
    fc.tuple(reg, addr).map(([r, a]) => `mov dword [${a}], ${r}`),
    fc.tuple(reg, addr).map(([r, a]) => `add ${r}, dword [${a}]`),
    fc.tuple(reg, addr).map(([r, a]) => `add dword [${a}], ${r}`),
    fc.tuple(reg, addr).map(([r, a]) => `movzx ${r}, byte [${a}]`),
    fc.tuple(reg, addr).map(([r, a]) => `movsx ${r}, word [${a}]`),
    fc.tuple(fc.constantFrom(...R8), addr).map(([r, a]) => `mov byte [${a}], ${r}`),
    fc.tuple(reg, addr).map(([r, a]) => `mov ebx, ${a & ~0xff}; mov ${r}, dword [ebx+${a & 0xff}]`),
    fc.tuple(reg, addr).map(([r, a]) => `mov ebx, ${a & ~0xff}; mov dword [ebx+${a & 0xff}], ${r}`),
    fc.tuple(reg, imm).map(([r, v]) => `mov ${r}, ${v}`),
    fc.tuple(reg, reg).map(([a, b]) => `add ${a}, ${b}`),
    fc.tuple(reg, reg).map(([a, b]) => `push ${a}; pop ${b}`),
    addr.map((a) => `push dword [${a}]; pop eax`),
    // Rewrite a window PTE through the page table's own mapping (the TLB may keep the old one).
    fc
      .tuple(fc.integer({ min: 0, max: WINDOW_PAGES - 1 }), pte)
      .map(([k, v]) => `mov dword [${PT_ALIAS + 4 * ((WINDOW >>> 12) + k)}], ${v | 0}`),
  ];
  if (ring === 3) return fc.oneof(...common);
  return fc.oneof(
    ...common,
    addr.map((a) => `invlpg [${a}]`),
    fc.constant("mov eax, cr3; mov cr3, eax"),
  );
}

function runPaged(
  src: string,
  ring: 0 | 3,
  wp: boolean,
  pages: number[],
  segs: DataSegments,
  compiled: boolean,
) {
  const t = pagedMachine(src, ring, wp, pages, segs);
  t.cpu.blockCompiler = compiled;
  return { t, s: snapshot(t, t.run(20_000)) };
}

describe("x86 compiled blocks with paging on", () => {
  for (const ring of [0, 3] as const) {
    it(`random page tables and accesses at CPL ${ring}: compiled blocks = interpreter`, () => {
      fc.assert(
        fc.property(
          fc.array(instruction(ring), { minLength: 1, maxLength: 40 }),
          fc.array(pte, { minLength: WINDOW_PAGES, maxLength: WINDOW_PAGES }),
          fc.boolean(),
          dataSegments,
          (lines, pages, wp, segs) => {
            // CPL 3 ends at hlt with #GP; CPL 0 at hlt (idle); both may stop at a #PF or #GP first.
            const src = lines.join("\n");
            const a = runPaged(src, ring, wp, pages, segs, true);
            const b = runPaged(src, ring, wp, pages, segs, false);
            expect(a.s).toEqual(b.s);
            expect(a.t.cpu.stats.instructions).toBe(b.t.cpu.stats.instructions);
            expect(a.t.clock.cycles).toBe(b.t.clock.cycles);
          },
        ),
        { numRuns: 100 },
      );
    });
  }

  it("the fast paths run (no slow call) and a store through a clean entry walks once to set D", () => {
    // Page 0 of the window: present, writable, clean. One block reads it (TLB entry without D),
    // then writes it: the write must take the walk that sets D in the PTE, as the interpreter.
    const pages = Array.from(
      { length: WINDOW_PAGES },
      (_, k) => ((FRAME0 + k) << 12) | PTE_P | PTE_W | PTE_U,
    );
    const src = `mov eax, dword [${WINDOW}]; add eax, 1; mov dword [${WINDOW + 8}], eax; mov ecx, dword [${WINDOW + 8}]`;
    for (const compiled of [true, false]) {
      const t = pagedMachine(src, 0, true, pages);
      t.cpu.blockCompiler = compiled;
      expect(t.run()).toBe(StopReason.Idle);
      expect(t.memory.read32(PT + 4 * (WINDOW >>> 12)) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
      expect(t.memory.read32(PT + 4 * ((WINDOW >>> 12) + 1)) & PTE_D).toBe(0); // never written
      expect(t.cpu.regs[1]).toBe(((0 << 24) | 0) + 1);
      if (compiled) expect(t.cpu.blocksCompiled).toBeGreaterThan(0);
    }
  });

  it("a write-protected page at CPL 0 with CR0.WP faults precisely inside a block", () => {
    const pages = Array.from({ length: WINDOW_PAGES }, (_, k) => ((FRAME0 + k) << 12) | PTE_P | PTE_U);
    const src = `mov eax, 7; mov ebx, dword [${WINDOW}]; inc ebx; mov dword [${WINDOW + 4}], ebx; mov ecx, 9`;
    const [a, b] = [true, false].map((compiled) => {
      const t = pagedMachine(src, 0, true, pages);
      t.cpu.blockCompiler = compiled;
      return snapshot(t, t.run());
    });
    expect(a!.r).toBe(StopReason.Trap);
    expect(a!.trap?.vector).toBe(Vector.PF);
    expect(a!.cr2).toBe(WINDOW + 4);
    expect(a!.regs[1]).toBe(0); // ECX: the instruction after the fault did not run
    expect(a).toEqual(b);
  });
});

describe("x86 compiled blocks under a code segment with a private base", () => {
  /**
   * A VMware-style code window: CS base WIN - the code's offset, so CS:off runs linear WIN+off,
   * mapped read-only to frame F; the program patches itself through a writable alias page of F
   * (linear ALIAS). Calls, returns and loops are within the page.
   */
  const WIN = 0x380000;
  const ALIAS = 0x3c0000;
  const F = 0x150000;
  const OFF = 0x1000;
  function windowMachine(): TestMachine {
    const t = machine("hlt");
    const m = t.memory;
    m.write32(PD, PT | PTE_P | PTE_W | PTE_U);
    for (let i = 0; i < 1024; i++) m.write32(PT + 4 * i, (i << 12) | PTE_P | PTE_W | PTE_U);
    m.write32(PT + 4 * (WIN >>> 12), F | PTE_P); // code window page: read-only
    m.write32(PT + 4 * (ALIAS >>> 12), F | PTE_P | PTE_W); // the writable alias
    t.cpu.cr3 = PD;
    t.cpu.cr0 = t.cpu.cr0 | CR0_PG | CR0_WP;
    const cs = t.cpu.getSegment(CS);
    // Ring 1 with a private base, like the monitor's compressed ring-0 code descriptors.
    t.cpu.setSegment(CS, { ...cs, selector: 0x09, base: WIN - OFF, limit: 0xfffff });
    t.cpu.interceptExceptions = true;
    return t;
  }

  it("code written through one linear page and executed through another (alias) takes effect", () => {
    const body = (fAt: number) => `
      mov ecx, 3
      xor ebx, ebx
      again: call f
      add ebx, eax
      mov byte [${ALIAS + (fAt & 0xfff) + 1}], 5
      dec ecx
      jnz again
      hlt
      f: mov eax, 1
      ret`;
    // Two passes: find f's offset, then assemble with the patch address pointing at its immediate.
    const first = asm(body(0), OFF);
    const fAt = OFF + first.length - 6; // "mov eax, imm32; ret" = 5 + 1 bytes at the end
    const code = asm(body(fAt), OFF);
    for (const compiled of [true, false]) {
      const t = windowMachine();
      t.memory.writeBytes(F + (OFF & 0xfff), code);
      t.cpu.eip = OFF;
      t.cpu.blockCompiler = compiled;
      const r = t.run();
      // hlt at CPL 1 is #GP(0): the run stops there in intercept mode.
      expect(r).toBe(StopReason.Trap);
      expect(t.cpu.trap.vector).toBe(Vector.GP);
      expect(t.cpu.regs[3]).toBe(1 + 5 + 5);
      if (compiled) expect(t.cpu.blocksCompiled).toBeGreaterThan(0);
    }
  });

  it("self-modifying code under paging: a store into the running block's page ends it", () => {
    // The store rewrites the two INC ECX after it (through the alias) into NOPs before they run.
    const code = asm(
      `mov eax, 0x90909090; mov dword [${ALIAS + (OFF & 0xfff) + 16}], eax; nop; nop; nop; nop; nop`,
      OFF,
    );
    expect(code.length).toBe(16);
    const all = new Uint8Array([...code, 0x41, 0x41, 0x41, 0x41, 0xf4]);
    for (const compiled of [true, false]) {
      const t = windowMachine();
      t.memory.writeBytes(F + (OFF & 0xfff), all);
      t.cpu.eip = OFF;
      t.cpu.blockCompiler = compiled;
      t.run();
      expect(t.cpu.trap.vector).toBe(Vector.GP);
      expect(t.cpu.regs[1]).toBe(0);
    }
  });

  /** Random CS bases and limits over straight-line code with branches, calls and a limit cut. */
  it("random CS base and limit: compiled blocks = interpreter, limit faults at the same instruction", () => {
    const line = fc.oneof(
      fc.tuple(reg, reg).map(([a, b]) => `add ${a}, ${b}`),
      fc.tuple(reg, imm).map(([a, v]) => `mov ${a}, ${v}`),
      fc.tuple(reg, imm).map(([a, v]) => `xor ${a}, ${v}`),
      fc.tuple(reg, reg).map(([a, b]) => `push ${a}; pop ${b}`),
      fc.tuple(reg).map(([a]) => `mov ${a}, dword [0x3000]`),
      fc.tuple(reg).map(([a]) => `mov dword [0x3004], ${a}`),
      fc.constant("call f"),
      fc.tuple(reg).map(([a]) => `test ${a}, 1; jz skip_LABEL; inc ${a}; skip_LABEL: nop`),
    );
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 0xfff }),
        fc.oneof(fc.constant(-1), fc.integer({ min: -80, max: 40 })),
        fc.boolean(),
        (lines, baseLow, cut, paging) => {
          let n = 0;
          const src = `${lines.map((l) => l.replace(/LABEL/g, String(n++))).join("\n")}\nhlt\nf: ret`;
          // The code sits at linear CODE and starts at CS offset baseLow: CS base CODE - baseLow.
          const base = CODE - baseLow;
          const origin = baseLow;
          const bytes = asm(src, origin);
          const limit = cut === -1 ? 0xffffffff : Math.max(origin, origin + bytes.length - 1 + cut);
          const results = [true, false].map((compiled) => {
            const t = machine(bytes, CODE);
            if (paging) {
              const m = t.memory;
              m.write32(PD, PT | PTE_P | PTE_W | PTE_U);
              for (let i = 0; i < 1024; i++) m.write32(PT + 4 * i, (i << 12) | PTE_P | PTE_W | PTE_U);
              t.cpu.cr3 = PD;
              t.cpu.cr0 = t.cpu.cr0 | CR0_PG;
            }
            t.memory.write32(0x3000, 0x12345678);
            const cs = t.cpu.getSegment(CS);
            t.cpu.setSegment(CS, { ...cs, base, limit });
            t.cpu.eip = origin;
            t.cpu.blockCompiler = compiled;
            t.cpu.interceptExceptions = true;
            const r = t.run(100_000);
            return {
              r,
              trap: r === StopReason.Trap ? { ...t.cpu.trap } : null,
              regs: Array.from(t.cpu.regs),
              flags: t.cpu.getEflags(),
              eip: t.cpu.eip,
              mem: [t.memory.read32(0x3004), t.memory.read32(0x90000 - 4)],
              cycles: t.clock.cycles,
            };
          });
          expect(results[0]).toEqual(results[1]);
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe("x86 compiled blocks and monitors", () => {
  it("a watch handler that remaps the running code page (Paging.invalidate) redirects the next fetch", () => {
    // Code page linear 0x340000 → frame A; frame B holds the same code except that what follows
    // the store adds 100 instead of 1. The store hits a watched data page whose handler (a
    // monitor) points the code page at B and invalidates it: the next instruction comes from B.
    const LIN = 0x340000;
    const A = 0x160000;
    const B = 0x170000;
    const DATA = 0x180000;
    const make = (k: number) => asm(`nop; mov dword [${DATA}], eax; add ecx, ${k}; add ecx, ${k}; hlt`, LIN);
    for (const compiled of [true, false]) {
      const t = machine("hlt");
      const m = t.memory;
      m.write32(PD, PT | PTE_P | PTE_W | PTE_U);
      for (let i = 0; i < 1024; i++) m.write32(PT + 4 * i, (i << 12) | PTE_P | PTE_W | PTE_U);
      m.write32(PT + 4 * (LIN >>> 12), A | PTE_P);
      m.writeBytes(A, make(1));
      m.writeBytes(B, make(100));
      t.cpu.cr3 = PD;
      t.cpu.cr0 = t.cpu.cr0 | CR0_PG;
      const cpu: X86Cpu = t.cpu;
      m.watchPage(DATA >>> 12, true);
      m.addWatchHandler((paddr) => {
        if (paddr >>> 12 !== DATA >>> 12) return;
        m.u32[(PT + 4 * (LIN >>> 12)) >>> 2] = B | PTE_P;
        cpu.paging.invalidate(LIN);
      });
      t.cpu.eip = LIN;
      t.cpu.blockCompiler = compiled;
      // The NOP runs interpreted (it fills the TLB), the rest as one block (a compiled store
      // then the ADDs). Twice: the second run (A mapped again) reuses the compiled block.
      expect(t.run()).toBe(StopReason.Idle);
      expect(t.cpu.regs[1]).toBe(200);
      m.write32(PT + 4 * (LIN >>> 12), A | PTE_P);
      t.cpu.paging.invalidate(LIN);
      t.cpu.regs[1] = 0;
      t.cpu.eip = LIN;
      t.cpu.halted = false;
      expect(t.run()).toBe(StopReason.Idle);
      expect(t.cpu.regs[1]).toBe(200);
      if (compiled) expect(t.cpu.blocksCompiled).toBeGreaterThan(0);
    }
  });

  it("with an ownership oracle every data access is reported, compiled or not", () => {
    const src = `mov ecx, 50
      top: mov eax, dword [0x3000]
      add eax, ecx
      mov dword [0x3004], eax
      movzx edx, byte [0x3001]
      push eax
      pop ebx
      dec ecx
      jnz top`;
    const logs = [true, false].map((compiled) => {
      const t = machine(`${src}\nhlt`);
      const log: string[] = [];
      t.memory.oracle = (paddr, size, write) => {
        if (paddr >>> 12 === 3 || paddr >>> 12 === 0x8f) log.push(`${paddr.toString(16)}:${size}:${write}`);
      };
      t.cpu.blockCompiler = compiled;
      expect(t.run()).toBe(StopReason.Idle);
      return log;
    });
    expect(logs[0]!.length).toBe(50 * 5);
    expect(logs[0]).toEqual(logs[1]);
  });
});

describe("x86 simulated cycles do not depend on the implementation", () => {
  it("the kernel sample (paging, PIT preemption, two ring-3 processes): same state every 500 k instructions", () => {
    const file = fileURLToPath(new URL("../../../samples/guests/x86/kernel/kernel.elf", import.meta.url));
    const elf = new Uint8Array(readFileSync(file));
    const boards = [true, false].map((compiled) => {
      let out = "";
      const board = createBoard("x86", { console: (b) => (out += String.fromCharCode(b)) });
      board.loadGuest(elf, file);
      const cpu = (board as unknown as { cpu: X86Cpu }).cpu;
      cpu.blockCompiler = compiled;
      return { board, cpu, out: () => out };
    });
    // 4 M instructions: past paging on, the first timer interrupts and process switches.
    for (let slice = 0; slice < 8; slice++) {
      const states = boards.map(({ board, cpu, out }) => {
        board.run(500_000);
        const s = board.stats();
        return {
          cycles: s.cycles,
          instructions: s.instructions,
          eip: cpu.eip,
          regs: Array.from(cpu.regs),
          flags: cpu.getEflags(),
          cpl: cpu.cpl,
          cr3: cpu.cr3,
          out: out(),
        };
      });
      expect(states[0]).toEqual(states[1]);
    }
    expect(boards[0]!.cpu.cr0 & CR0_PG).not.toBe(0);
    expect(boards[0]!.out()).toContain("paging on");
    expect(boards[0]!.cpu.blocksCompiled).toBeGreaterThan(50);
    expect(boards[0]!.cpu.stats.exceptions[0x20]).toBeGreaterThan(0);
  });
});
