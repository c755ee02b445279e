/**
 * The block compiler must be invisible: the same program gives the same registers, flags and
 * memory with compiled blocks and with the interpreter alone (property test over random
 * straight-line programs built from the opcode table's mnemonics, run under random code
 * segments: nonzero bases, limits just past the program), and stores into compiled
 * code take effect on the next execution (self-modifying code).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StopReason } from "../../../src/machine/index.js";
import { CS, DS } from "../../../src/machine/x86/index.js";
import { asm } from "./asm.js";
import { CODE, machine, type TestMachine } from "./harness.js";

const R32 = ["eax", "ecx", "edx", "ebx", "esi", "edi", "ebp"];
const R8 = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];
const R16 = ["ax", "cx", "dx", "bx", "si", "di", "bp"];
/** Aligned and unaligned dwords around 0x3000 (the compiled flat-memory path needs aligned ones). */
const MEMS = ["dword [0x3000]", "dword [0x3001]", "dword [0x3004]", "dword [0x3006]"];
const reg = fc.constantFrom(...R32);
const imm = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const small = fc.integer({ min: -128, max: 127 });
const ALU = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "test"];
const SHIFT = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sar"];
const MEM = "dword [0x3000]";

const instruction = fc.oneof(
  fc.tuple(fc.constantFrom(...ALU), reg, reg).map(([m, a, b]) => `${m} ${a}, ${b}`),
  fc.tuple(fc.constantFrom(...ALU.slice(0, 8)), reg, small).map(([m, a, v]) => `${m} ${a}, ${v}`),
  fc.tuple(fc.constantFrom(...ALU.slice(0, 8)), reg, imm).map(([m, a, v]) => `${m} ${a}, ${v}`),
  fc.tuple(fc.constantFrom(...ALU.slice(0, 8)), reg).map(([m, a]) => `${m} ${a}, ${MEM}`),
  fc.tuple(fc.constantFrom(...ALU.slice(0, 8)), reg).map(([m, a]) => `${m} ${MEM}, ${a}`),
  fc
    .tuple(fc.constantFrom(...ALU.slice(0, 8)), fc.constantFrom(...R8), fc.constantFrom(...R8))
    .map(([m, a, b]) => `${m} ${a}, ${b}`),
  fc
    .tuple(fc.constantFrom(...SHIFT), reg, fc.integer({ min: 0, max: 40 }))
    .map(([m, a, n]) => `${m} ${a}, ${n & 0xff}`),
  fc.tuple(fc.constantFrom(...SHIFT), reg).map(([m, a]) => `${m} ${a}, cl`),
  fc.tuple(fc.constantFrom("inc", "dec", "neg", "not", "bswap"), reg).map(([m, a]) => `${m} ${a}`),
  fc.tuple(reg, imm).map(([a, v]) => `mov ${a}, ${v}`),
  fc.tuple(reg, reg).map(([a, b]) => `mov ${a}, ${b}`),
  fc.tuple(reg, reg).map(([a, b]) => `imul ${a}, ${b}`),
  fc.tuple(reg, reg).map(([a, b]) => `lea ${a}, [${b}+${a}*4+0x10]`),
  fc.tuple(reg, fc.constantFrom(...R8)).map(([a, b]) => `movzx ${a}, ${b}`),
  fc.tuple(reg, fc.constantFrom(...R8)).map(([a, b]) => `movsx ${a}, ${b}`),
  fc
    .tuple(fc.integer({ min: 0, max: 15 }), fc.constantFrom(...R8))
    .map(
      ([c, r]) =>
        `set${["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"][c]} ${r}`,
    ),
  fc.tuple(reg, reg).map(([a, b]) => `push ${a}; pop ${b}`),
  fc.tuple(reg, fc.constantFrom(...R16)).map(([a, b]) => `movzx ${a}, ${b}`),
  fc.tuple(reg, fc.constantFrom(...R16)).map(([a, b]) => `movsx ${a}, ${b}`),
  fc.tuple(reg, fc.constantFrom(...MEMS)).map(([a, m]) => `mov ${a}, ${m}`),
  fc.tuple(reg, fc.constantFrom(...MEMS)).map(([a, m]) => `mov ${m}, ${a}`),
  fc
    .tuple(fc.constantFrom(...ALU.slice(0, 8)), reg, fc.constantFrom(...MEMS))
    .map(([o, a, m]) => `${o} ${a}, ${m}`),
  fc.tuple(reg, reg).map(([a, b]) => `push ${a}; mov ${b}, dword [esp]; add dword [esp], ${b}; pop ${a}`),
  fc.tuple(fc.constantFrom(...ALU.slice(0, 8)), imm).map(([o, v]) => `${o} eax, ${v}`),
  fc.tuple(reg, reg).map(([a, b]) => `xchg ${a}, ${b}`),
  fc.constantFrom(
    "stc",
    "clc",
    "cmc",
    "cdq",
    "cwde",
    "lahf",
    "sahf",
    "mul ecx",
    "imul ebx",
    "pushf; pop eax",
  ),
);

/**
 * A code segment for the program at linear CODE: CS base CODE - offset (EIP starts at `offset`)
 * and a limit that is 4 GiB or ends `slack` bytes past the program (never cutting it).
 */
interface CodeSegment {
  offset: number;
  slack: number;
}
const codeSegment: fc.Arbitrary<CodeSegment> = fc.record({
  offset: fc.oneof(fc.constant(0x1000), fc.integer({ min: 0, max: 0xfffff })),
  slack: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 64 })),
});

/** Moves the CPU onto code segment `cs` (the program of `length` bytes stays at linear CODE). */
function useCodeSegment(t: TestMachine, cs: CodeSegment, length: number): void {
  const seg = t.cpu.getSegment(CS);
  const limit = cs.slack < 0 ? 0xffffffff : cs.offset + length - 1 + cs.slack;
  t.cpu.setSegment(CS, { ...seg, base: (CODE - cs.offset) | 0, limit });
  t.cpu.eip = cs.offset;
}

function runBoth(program: string, cs: CodeSegment = { offset: CODE, slack: -1 }) {
  const results = [true, false].map((compiled) => {
    const code = asm(`${program}\nhlt`);
    const t = machine(code);
    useCodeSegment(t, cs, code.length);
    t.cpu.blockCompiler = compiled;
    t.memory.write32(0x3000, 0x12345678);
    const r = t.run();
    if (compiled) expect(t.cpu.blocksCompiled).toBeGreaterThan(0);
    return {
      r,
      regs: Array.from(t.cpu.regs),
      flags: t.cpu.getEflags(),
      mem: [t.memory.read32(0x3000), t.memory.read32(0x3004), t.memory.read32(0x3008)],
      eip: t.cpu.eip,
      cycles: t.clock.cycles,
    };
  });
  return results;
}

describe("x86 block compiler", () => {
  it("random straight-line programs: compiled blocks = interpreter", () => {
    fc.assert(
      fc.property(fc.array(instruction, { minLength: 1, maxLength: 60 }), codeSegment, (lines, cs) => {
        const [a, b] = runBoth(lines.join("\n"), cs);
        expect(a!.r).toBe(StopReason.Idle);
        expect(a).toEqual(b);
      }),
      { numRuns: 150 },
    );
  });

  it("a fault inside a block sees the flags of every instruction before it (dead-flag elimination)", () => {
    fc.assert(
      fc.property(
        fc.array(instruction, { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        codeSegment,
        (lines, viaStore, cs) => {
          // ESI = 0 before the faulting DIV; a DS limit fault through a store is the other case.
          const fault = viaStore ? "mov dword [0x7ffffff0], eax" : "mov esi, 0; div esi";
          const results = [true, false].map((compiled) => {
            const code = asm(`${lines.join("\n")}\n${fault}\nhlt`);
            const t = machine(code);
            useCodeSegment(t, cs, code.length);
            t.cpu.blockCompiler = compiled;
            t.cpu.interceptExceptions = true;
            if (viaStore) t.cpu.setSegment(DS, { ...t.cpu.getSegment(DS), limit: 0x3fffff });
            const r = t.run();
            return { r, regs: Array.from(t.cpu.regs), flags: t.cpu.getEflags(), eip: t.cpu.eip };
          });
          expect(results[0]!.r).toBe(StopReason.Trap);
          expect(results[0]).toEqual(results[1]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("loops with branches compile the same as they interpret", () => {
    const src = `
      mov ecx, 1000; mov eax, 1; mov ebx, 0
      top: add ebx, eax; imul eax, eax, 3; xor eax, ebx; shr eax, 1; test ecx, 1; jz skip; add ebx, 7
      skip: dec ecx; jnz top
      call f; jmp done
      f: push ebx; pop edx; ret
      done: nop`;
    const [a, b] = runBoth(src);
    expect(a).toEqual(b);
    expect(a!.regs[2]).toBe(a!.regs[3]);
  });

  it("a store into compiled code takes effect the next time it runs (self-modifying code)", () => {
    // patch: the "mov eax, 1" immediate at label p is rewritten to 2 after the first pass.
    const src = `
      mov ecx, 2; mov ebx, 0
      again: nop
      p: mov eax, 1
      add ebx, eax
      mov byte [p + 1], 2
      dec ecx; jnz again`;
    const bytes = asm(src.replace("[p + 1]", "[0x1000]"));
    // Find the address of "mov eax, 1" (B8 01 00 00 00) and point the patch at its immediate.
    const at = bytes.findIndex((_, i) => bytes[i] === 0xb8 && bytes[i + 1] === 1 && bytes[i + 2] === 0);
    const fixed = asm(`${src.replace("[p + 1]", `[${0x1000 + at + 1}]`)}\nhlt`);
    for (const compiled of [true, false]) {
      const t = machine(fixed);
      t.cpu.blockCompiler = compiled;
      expect(t.run()).toBe(StopReason.Idle);
      expect(t.cpu.regs[3]).toBe(3);
    }
  });
  it("an aligned dword store into the running block takes effect at once (flat fast path notifies)", () => {
    // 0x1000 mov ebx, 0x1010; 0x1005 mov eax, 0x90909090; 0x100a mov [ebx], eax; 4 nops;
    // 0x1010 four "inc ecx", overwritten with NOPs by the store before they run.
    const code = new Uint8Array([
      0xbb, 0x10, 0x10, 0, 0, 0xb8, 0x90, 0x90, 0x90, 0x90, 0x89, 0x03, 0x90, 0x90, 0x90, 0x90, 0x41, 0x41,
      0x41, 0x41, 0xf4,
    ]);
    for (const compiled of [true, false]) {
      const t = machine(code);
      t.cpu.blockCompiler = compiled;
      expect(t.run()).toBe(StopReason.Idle);
      expect(t.cpu.regs[1]).toBe(0);
    }
  });

  it("a DS with a nonzero base turns the flat fast path off: compiled = interpreted", () => {
    const results = [true, false].map((compiled) => {
      const t = machine("mov eax, dword [0x3000]; add eax, dword [0x3004]; mov dword [0x3008], eax; hlt");
      t.cpu.blockCompiler = compiled;
      const ds = t.cpu.getSegment(DS);
      t.cpu.setSegment(DS, { ...ds, base: 0x100 });
      t.memory.write32(0x3100, 5);
      t.memory.write32(0x3104, 7);
      t.memory.write32(0x3000, 1000);
      expect(t.run()).toBe(StopReason.Idle);
      expect(t.cpu.flatLimit).toBe(0);
      return [t.cpu.regs[0], t.memory.read32(0x3108), t.memory.read32(0x3008)];
    });
    expect(results[0]).toEqual([12, 12, 0]);
    expect(results[1]).toEqual(results[0]);
  });
});
