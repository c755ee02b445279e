import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LoaderError, PhysicalMemory } from "../../../src/machine/index.js";
import { EM_386, EM_MIPS, loadElf32, mipsKseg0ToPhys, parseElf32 } from "../../../src/machine/loader/elf.js";
import { makeElf, words } from "./make-elf.js";

const HELLO = "samples/guests/mips/hello.elf";
const hello = new Uint8Array(readFileSync(HELLO));
const MIPS = { machine: EM_MIPS, toPhysical: mipsKseg0ToPhys };

function expectLoaderError(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LoaderError);
  expect((err as Error).message).toMatch(pattern);
}

describe("ELF32 loader", () => {
  it("loads the hello sample at p_paddr & 0x1FFFFFFF with the file's bytes", () => {
    const mem = new PhysicalMemory(4 << 20);
    const loaded = loadElf32(hello, mem, { file: HELLO, ...MIPS });
    expect(loaded.entry).toBe(0x80100000);
    const seg = loaded.image.loadSegments[0]!;
    expect(loaded.segments[0]!.physical).toBe(0x100000);
    expect(mem.readBytes(0x100000, seg.filesz)).toEqual(hello.subarray(seg.offset, seg.offset + seg.filesz));
    expect(loaded.image.symbols.some((s) => s.name === "main")).toBe(true);
    expect(loaded.image.sections.some((s) => s.name === ".text")).toBe(true);
  });

  it("zero-fills p_memsz beyond p_filesz and maps kseg1 like kseg0", () => {
    const mem = new PhysicalMemory(1 << 20);
    mem.u8.fill(0xee);
    const elf = makeElf({
      entry: 0xa0001000,
      segments: [{ vaddr: 0xa0001000, data: words(0x1234, 0x5678), memsz: 16 }],
    });
    loadElf32(elf, mem, { file: "t.elf", ...MIPS });
    expect(mem.read32(0x1000)).toBe(0x1234);
    expect(mem.read32(0x1004)).toBe(0x5678);
    expect(mem.read32(0x1008)).toBe(0);
    expect(mem.read32(0x100c)).toBe(0);
    expect(mem.u8[0x1010]).toBe(0xee);
  });

  it("places by p_paddr, not p_vaddr (as QEMU's load_elf)", () => {
    const mem = new PhysicalMemory(1 << 20);
    const elf = makeElf({
      entry: 0xc0000000,
      segments: [{ vaddr: 0xc0000000, paddr: 0x80004000, data: words(0xcafe) }],
    });
    const l = loadElf32(elf, mem, { file: "t.elf", ...MIPS });
    expect(mem.read32(0x4000)).toBe(0xcafe);
    expect(l.entry).toBe(0xc0000000);
  });

  const cases: Array<[string, (b: Uint8Array) => Uint8Array, RegExp, object?]> = [
    ["bad magic", (b) => b.map((x, i) => (i === 1 ? 0 : x)), /t\.elf: not an ELF file: bad magic/],
    ["ELFCLASS64", (b) => b.map((x, i) => (i === 4 ? 2 : x)), /ELFCLASS64 is not supported/],
    [
      "big endian",
      (b) => b.map((x, i) => (i === 5 ? 2 : x)),
      /big-endian ELF, but this machine is little endian/,
    ],
    ["wrong machine", (b) => b, /built for EM_MIPS, but this board needs EM_386/, { machine: EM_386 }],
    ["ET_DYN", (b) => b.map((x, i) => (i === 16 ? 3 : x)), /ET_DYN/],
    ["truncated header", (b) => b.subarray(0, 40), /truncated: 40 bytes/],
    ["truncated segment", (b) => b.subarray(0, b.length - 1), /truncated: PT_LOAD segment 0/],
  ];
  for (const [name, mutate, pattern, extra] of cases) {
    it(`rejects ${name} with a message naming the file`, () => {
      const elf = makeElf({ entry: 0x80001000, segments: [{ vaddr: 0x80001000, data: words(1, 2, 3) }] });
      const mem = new PhysicalMemory(1 << 20);
      expectLoaderError(() => loadElf32(mutate(elf), mem, { file: "t.elf", ...MIPS, ...extra }), pattern);
    });
  }

  it("rejects an entry outside every segment", () => {
    const elf = makeElf({ entry: 0x80002000, segments: [{ vaddr: 0x80001000, data: words(1) }] });
    expectLoaderError(
      () => loadElf32(elf, new PhysicalMemory(1 << 20), { file: "t.elf", ...MIPS }),
      /entry point 0x80002000 is not inside any loaded segment/,
    );
  });

  it("rejects an entry in a non-executable segment", () => {
    const elf = makeElf({ entry: 0x80001000, segments: [{ vaddr: 0x80001000, data: words(1), flags: 6 }] });
    expectLoaderError(() => parseElf32(elf, { file: "t.elf" }), /not executable/);
  });

  it("rejects a segment outside RAM", () => {
    const elf = makeElf({
      entry: 0x80001000,
      segments: [{ vaddr: 0x80001000, data: words(1), memsz: 0x200000 }],
    });
    expectLoaderError(
      () => loadElf32(elf, new PhysicalMemory(1 << 20), { file: "t.elf", ...MIPS }),
      /does not fit in RAM \(physical 0\.\.0x100000\)/,
    );
  });

  it("rejects overlapping segments", () => {
    const elf = makeElf({
      entry: 0x80001000,
      segments: [
        { vaddr: 0x80001000, data: words(1, 2, 3, 4) },
        { vaddr: 0xa0001008, data: words(5) },
      ],
    });
    expectLoaderError(
      () => loadElf32(elf, new PhysicalMemory(1 << 20), { file: "t.elf", ...MIPS }),
      /segments 0 and 1 overlap in physical memory/,
    );
  });

  it("rejects p_filesz > p_memsz", () => {
    const elf = makeElf({
      entry: 0x80001000,
      segments: [{ vaddr: 0x80001000, data: words(1, 2), memsz: 4 }],
    });
    expectLoaderError(() => parseElf32(elf, { file: "t.elf" }), /p_filesz 0x8 exceeds p_memsz 0x4/);
  });

  it("random byte mutations of a valid ELF fail only with LoaderError", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: hello.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.option(fc.nat({ max: hello.length }), { nil: undefined }),
        (edits, cut) => {
          const b = new Uint8Array(hello);
          // Bias mutations to the headers, where they matter, half of the time.
          for (const [i, v] of edits) b[i % 2 === 0 ? i % 160 : i] = v;
          const input = cut === undefined ? b : b.subarray(0, cut);
          const mem = new PhysicalMemory(2 << 20);
          try {
            loadElf32(input, mem, { file: "m.elf", ...MIPS });
          } catch (e) {
            if (!(e instanceof LoaderError)) throw e;
            expect(e.message.startsWith("m.elf: ")).toBe(true);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
