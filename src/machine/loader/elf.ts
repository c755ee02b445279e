/**
 * ELF32 parsing and loading, shared by both boards (the multiboot loader builds on it).
 *
 * Layouts from the System V gABI, "ELF header" / "Program header" / "Sections" (Elf32_Ehdr is
 * 52 bytes, Elf32_Phdr 32, Elf32_Shdr 40). The parser is arch-neutral: the expected machine and
 * byte order are parameters, and the board passes the virtual→physical mapping it uses.
 *
 * Placement follows QEMU's load_elf (include/hw/elf_ops.h): each PT_LOAD segment goes to
 * `toPhysical(p_paddr)` (mipssim passes cpu_mips_kseg0_to_phys, i.e. p_paddr & 0x1FFFFFFF),
 * file bytes first, then zeroes to p_memsz; the entry point is e_entry unchanged (a virtual
 * address). Everything QEMU would load silently wrong is an error here, naming the file.
 */
import { LoaderError } from "../errors.js";
import type { PhysicalMemory } from "../memory.js";

/** e_machine values (gABI). */
export const EM_386 = 3;
export const EM_MIPS = 8;
/** e_type: executable file. */
export const ET_EXEC = 2;
/** p_type: loadable segment. */
export const PT_LOAD = 1;
/** p_flags bits. */
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
/** sh_flags: executable instructions. */
export const SHF_EXECINSTR = 4;
/** sh_type values used here. */
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_NOBITS = 8;

const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;

/** MIPS kseg0/kseg1 → physical, as QEMU's cpu_mips_kseg0_to_phys (target/mips/cpu.c). */
export function mipsKseg0ToPhys(addr: number): number {
  return (addr & 0x1fffffff) >>> 0;
}

export interface ElfProgramHeader {
  type: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  flags: number;
  align: number;
}

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  /** STT_* type (low nibble of st_info): 1 object, 2 func. */
  type: number;
}

/** A parsed, validated ELF32 executable (nothing placed in memory yet). */
export interface ElfImage {
  file: string;
  machine: number;
  littleEndian: boolean;
  entry: number;
  programHeaders: ElfProgramHeader[];
  /** PT_LOAD headers only, in file order. */
  loadSegments: ElfProgramHeader[];
  /** Section headers if present and well-formed (optional in an executable). */
  sections: ElfSection[];
  /** Symbols from .symtab if present (for disassembly labels). */
  symbols: ElfSymbol[];
  /** The file bytes (not copied). */
  bytes: Uint8Array;
}

export interface ElfParseOptions {
  /** File name for messages. */
  file: string;
  /** Expected e_machine (EM_MIPS, EM_386); any if omitted. */
  machine?: number;
  /** Expected byte order; both boards are little endian (the default). */
  littleEndian?: boolean;
}

export interface ElfLoadOptions extends ElfParseOptions {
  /** Maps p_paddr to the physical address in `memory` (identity if omitted). */
  toPhysical?: (paddr: number) => number;
}

/** One segment as placed in RAM. */
export interface LoadedSegment {
  vaddr: number;
  physical: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface LoadedElf {
  image: ElfImage;
  entry: number;
  segments: LoadedSegment[];
  /** Lowest and one-past-highest physical byte written. */
  lowPhysical: number;
  highPhysical: number;
}

const MACHINE_NAMES: Record<number, string> = { [EM_386]: "EM_386 (i386)", [EM_MIPS]: "EM_MIPS" };

function machineName(m: number): string {
  return MACHINE_NAMES[m] ?? `e_machine ${m}`;
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/** Parses and validates the ELF32 headers. Throws LoaderError naming the file and the fault. */
export function parseElf32(bytes: Uint8Array, opts: ElfParseOptions): ElfImage {
  const file = opts.file;
  const fail = (what: string): never => {
    throw new LoaderError(`${file}: ${what}`);
  };
  if (bytes.length < 16) fail(`not an ELF file: only ${bytes.length} bytes`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    fail("not an ELF file: bad magic (expected 7f 45 4c 46)");
  }
  const cls = bytes[4]!;
  if (cls !== 1)
    fail(`ELF class ${cls === 2 ? "ELFCLASS64" : cls} is not supported: pvkit loads ELFCLASS32 only`);
  const data = bytes[5]!;
  if (data !== 1 && data !== 2) fail(`bad EI_DATA ${data} (expected 1 little endian or 2 big endian)`);
  const little = data === 1;
  const wantLittle = opts.littleEndian ?? true;
  if (little !== wantLittle) {
    fail(
      `${little ? "little" : "big"}-endian ELF, but this machine is ${wantLittle ? "little" : "big"} endian (build with mipsel-*, not mips-*)`,
    );
  }
  if (bytes[6] !== 1) fail(`bad EI_VERSION ${bytes[6]} (expected 1)`);
  if (bytes.length < EHDR_SIZE)
    fail(`truncated: ${bytes.length} bytes, the ELF header alone needs ${EHDR_SIZE}`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => view.getUint16(o, little);
  const u32 = (o: number) => view.getUint32(o, little);

  const type = u16(16);
  const machine = u16(18);
  if (opts.machine !== undefined && machine !== opts.machine) {
    fail(`built for ${machineName(machine)}, but this board needs ${machineName(opts.machine)}`);
  }
  if (type !== ET_EXEC) {
    const kind =
      type === 1
        ? "a relocatable object (ET_REL)"
        : type === 3
          ? "a shared object or PIE (ET_DYN)"
          : `e_type ${type}`;
    fail(`is ${kind}; link a static executable (ET_EXEC, -static -no-pie)`);
  }
  const entry = u32(24);
  const phoff = u32(28);
  const shoff = u32(32);
  const phentsize = u16(42);
  const phnum = u16(44);
  const shentsize = u16(46);
  const shnum = u16(48);
  const shstrndx = u16(50);

  if (phnum === 0) fail("has no program headers: nothing to load");
  if (phentsize !== PHDR_SIZE) fail(`e_phentsize is ${phentsize}, expected ${PHDR_SIZE} for ELF32`);
  if (phoff + phnum * PHDR_SIZE > bytes.length) {
    fail(
      `truncated: program header table at ${hex(phoff)} (${phnum} entries) runs past the end of the file (${bytes.length} bytes)`,
    );
  }

  const programHeaders: ElfProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * PHDR_SIZE;
    programHeaders.push({
      type: u32(o),
      offset: u32(o + 4),
      vaddr: u32(o + 8),
      paddr: u32(o + 12),
      filesz: u32(o + 16),
      memsz: u32(o + 20),
      flags: u32(o + 24),
      align: u32(o + 28),
    });
  }
  const loadSegments = programHeaders.filter((p) => p.type === PT_LOAD);
  if (loadSegments.length === 0) fail("has no PT_LOAD segment: nothing to load");
  loadSegments.forEach((p, i) => {
    const what = `PT_LOAD segment ${i} (vaddr ${hex(p.vaddr)})`;
    if (p.filesz > p.memsz) fail(`${what}: p_filesz ${hex(p.filesz)} exceeds p_memsz ${hex(p.memsz)}`);
    if (p.offset + p.filesz > bytes.length) {
      fail(
        `truncated: ${what} needs file bytes ${hex(p.offset)}..${hex(p.offset + p.filesz)} but the file has ${bytes.length}`,
      );
    }
    if (p.vaddr + p.memsz > 0x1_0000_0000) fail(`${what}: p_vaddr + p_memsz wraps past 4 GiB`);
    if (p.paddr + p.memsz > 0x1_0000_0000) fail(`${what}: p_paddr + p_memsz wraps past 4 GiB`);
  });
  // The entry must be an instruction the image provides: inside a segment's file bytes.
  const entrySeg = loadSegments.find((p) => entry >= p.vaddr && entry < p.vaddr + p.filesz);
  if (!entrySeg) fail(`entry point ${hex(entry)} is not inside any loaded segment`);
  if (entrySeg && (entrySeg.flags & PF_X) === 0) {
    fail(`entry point ${hex(entry)} lies in a segment that is not executable (p_flags ${entrySeg.flags})`);
  }

  // Sections and symbols are optional extras (stripped executables have none): a malformed
  // section table is ignored rather than fatal, since nothing is loaded from it.
  let sections: ElfSection[] = [];
  let symbols: ElfSymbol[] = [];
  if (shnum > 0 && shentsize === SHDR_SIZE && shoff + shnum * SHDR_SIZE <= bytes.length && shstrndx < shnum) {
    const raw: Array<ElfSection & { nameOff: number; link: number }> = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * SHDR_SIZE;
      raw.push({
        name: "",
        nameOff: u32(o),
        type: u32(o + 4),
        flags: u32(o + 8),
        addr: u32(o + 12),
        offset: u32(o + 16),
        size: u32(o + 20),
        link: u32(o + 24),
      });
    }
    const str = (sec: { offset: number; size: number; type: number } | undefined, off: number): string => {
      if (!sec || sec.type === SHT_NOBITS || off >= sec.size || sec.offset + sec.size > bytes.length)
        return "";
      let end = sec.offset + off;
      const limit = sec.offset + sec.size;
      while (end < limit && bytes[end] !== 0) end++;
      return new TextDecoder().decode(bytes.subarray(sec.offset + off, end));
    };
    const shstr = raw[shstrndx];
    for (const s of raw) s.name = str(shstr, s.nameOff);
    sections = raw.map(({ name, type, flags, addr, offset, size }) => ({
      name,
      type,
      flags,
      addr,
      offset,
      size,
    }));
    const symtab = raw.find((s) => s.type === SHT_SYMTAB);
    if (symtab && symtab.offset + symtab.size <= bytes.length && symtab.link < raw.length) {
      const strtab = raw[symtab.link];
      for (let o = symtab.offset; o + 16 <= symtab.offset + symtab.size; o += 16) {
        const name = str(strtab, u32(o));
        const info = bytes[o + 12]!;
        if (name !== "") symbols.push({ name, value: u32(o + 4), size: u32(o + 8), type: info & 0xf });
      }
      symbols = symbols.sort((a, b) => a.value - b.value);
    }
  }

  return {
    file,
    machine,
    littleEndian: little,
    entry,
    programHeaders,
    loadSegments,
    sections,
    symbols,
    bytes,
  };
}

/**
 * Validates placement and copies the PT_LOAD segments into RAM (file bytes, then zeroes up to
 * p_memsz). Segments must fit in RAM after `toPhysical` and must not overlap one another.
 */
export function loadElf32(bytes: Uint8Array, memory: PhysicalMemory, opts: ElfLoadOptions): LoadedElf {
  const image = parseElf32(bytes, opts);
  const toPhysical = opts.toPhysical ?? ((a: number) => a);
  const fail = (what: string): never => {
    throw new LoaderError(`${opts.file}: ${what}`);
  };
  const segments: LoadedSegment[] = image.loadSegments.map((p, i) => {
    const physical = toPhysical(p.paddr);
    const what = `PT_LOAD segment ${i} (vaddr ${hex(p.vaddr)}, paddr ${hex(p.paddr)} → physical ${hex(physical)}, ${p.memsz} bytes)`;
    if (!memory.contains(physical, p.memsz)) {
      fail(`${what} does not fit in RAM (physical 0..${hex(memory.size)}); link it inside RAM`);
    }
    return { vaddr: p.vaddr, physical, filesz: p.filesz, memsz: p.memsz, flags: p.flags };
  });
  const sorted = segments
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.memsz > 0)
    .sort((a, b) => a.s.physical - b.s.physical);
  for (let k = 1; k < sorted.length; k++) {
    const prev = sorted[k - 1]!;
    const cur = sorted[k]!;
    if (cur.s.physical < prev.s.physical + prev.s.memsz) {
      fail(
        `PT_LOAD segments ${prev.i} and ${cur.i} overlap in physical memory (${hex(prev.s.physical)}+${hex(prev.s.memsz)} and ${hex(cur.s.physical)})`,
      );
    }
  }
  let low = Number.POSITIVE_INFINITY;
  let high = 0;
  image.loadSegments.forEach((p, i) => {
    const seg = segments[i]!;
    if (seg.memsz === 0) return;
    memory.writeBytes(seg.physical, bytes.subarray(p.offset, p.offset + p.filesz));
    if (p.memsz > p.filesz) memory.writeBytes(seg.physical + p.filesz, new Uint8Array(p.memsz - p.filesz));
    low = Math.min(low, seg.physical);
    high = Math.max(high, seg.physical + seg.memsz);
  });
  return { image, entry: image.entry, segments, lowPhysical: low, highPhysical: high };
}
