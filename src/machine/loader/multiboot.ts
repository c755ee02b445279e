/**
 * Multiboot v1 loading as `qemu-system-i386 -M pc -kernel` does it (QEMU 7.2:
 * hw/i386/multiboot.c places the image and builds the info structure; its option ROM
 * pc-bios/optionrom/multiboot.S fills mem_lower/mem_upper and the memory map from SeaBIOS's
 * INT 12h / INT 15h E820 answers). Layouts from the Multiboot Specification 0.6.96, section 3.1
 * "OS image format" and 3.3 "Boot information format".
 *
 * What the guest finds, checked against QEMU by samples/guests/x86/mbinfo.elf:
 *  - the image: ELF PT_LOAD segments at their p_paddr (header flag 16 clear), or the a.out
 *    kludge (flag 16 set: header_addr/load_addr/load_end_addr/bss_end_addr/entry_addr);
 *  - right after the image, page aligned: the command line "<file> <cmdline>" and then the
 *    boot loader name "qemu" (QEMU's mb_buf layout, with no modules);
 *  - the e820 memory map at 0x9000 (entries of 24 bytes, size field 20) and the 88-byte info
 *    structure at 0x9500 (QEMU's MULTIBOOT_STRUCT_ADDR + 0x500) with flags 0x24F
 *    (MEMORY | BOOT_DEVICE | CMDLINE | MODS | MMAP | LOADER_NAME), boot_device 0x8000FFFF;
 *  - machine state (for the CPU's resetMultiboot): EAX = 0x2BADB002, EBX = 0x9500, CR0 = 0x11
 *    (PE, and ET which QEMU forces), CS = 0x08 and DS/ES/FS/GS/SS = 0x10 flat 4 GiB, IF = 0.
 *
 * Like QEMU, header flags bits 0–15 other than "page align" and "memory info" (which QEMU
 * honours by always providing both) are not refused: bit 2 (video mode) only yields a warning.
 */
import { LoaderError } from "../errors.js";
import type { PhysicalMemory } from "../memory.js";
import { EM_386, type LoadedElf, loadElf32 } from "./elf.js";

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
/** The header lies in the first 8 KiB, 4-byte aligned (spec 3.1.1); QEMU scans to 8192 − 48. */
export const MULTIBOOT_SEARCH_BYTES = 8192;
/** Header flags (spec 3.1.2). */
export const MBH_PAGE_ALIGN = 1 << 0;
export const MBH_MEMORY_INFO = 1 << 1;
export const MBH_VIDEO_MODE = 1 << 2;
export const MBH_AOUT_KLUDGE = 1 << 16;

/** Info structure flags (spec 3.3). */
export const MBI_FLAG_MEMORY = 1 << 0;
export const MBI_FLAG_BOOT_DEVICE = 1 << 1;
export const MBI_FLAG_CMDLINE = 1 << 2;
export const MBI_FLAG_MODS = 1 << 3;
export const MBI_FLAG_MMAP = 1 << 6;
export const MBI_FLAG_LOADER_NAME = 1 << 9;

/**
 * struct multiboot_info offsets (spec 3.3): flags 0, mem_lower 4, mem_upper 8, boot_device 12,
 * cmdline 16, mods_count 20, mods_addr 24, syms 28..43, mmap_length 44, mmap_addr 48,
 * drives_length 52, drives_addr 56, config_table 60, boot_loader_name 64, apm_table 68,
 * vbe_* 72..87. QEMU's MBI_SIZE is 88.
 */
export const MBI = {
  flags: 0,
  memLower: 4,
  memUpper: 8,
  bootDevice: 12,
  cmdline: 16,
  modsCount: 20,
  modsAddr: 24,
  mmapLength: 44,
  mmapAddr: 48,
  bootLoaderName: 64,
  size: 88,
} as const;

/** Where QEMU puts the e820 map and the info structure (hw/i386/multiboot.c). */
export const MULTIBOOT_MMAP_ADDR = 0x9000;
export const MULTIBOOT_INFO_ADDR = 0x9500;
/** QEMU's boot_device value ("XXX: use the -boot switch?"). */
export const MULTIBOOT_BOOT_DEVICE = 0x8000ffff;
export const MULTIBOOT_LOADER_NAME = "qemu";

/** E820 types (ACPI): 1 usable RAM, 2 reserved. */
export const E820_RAM = 1;
export const E820_RESERVED = 2;

/** One memory-map entry as the guest sees it. */
export interface E820Entry {
  base: number;
  length: number;
  type: number;
}

/**
 * The e820 map SeaBIOS reports on QEMU's pc for `ramBytes` below the PCI hole (QEMU 7.2 +
 * SeaBIOS, observed with -m 64/128/300): 639 KiB conventional, the 1 KiB EBDA, the BIOS at
 * 0xF0000, RAM from 1 MiB up to 128 KiB below the top (SeaBIOS keeps that for its tables), and
 * the 256 KiB flash at 0xFFFC0000.
 */
export function pcE820Map(ramBytes: number): E820Entry[] {
  const top = ramBytes - 0x20000;
  return [
    { base: 0, length: 0x9fc00, type: E820_RAM },
    { base: 0x9fc00, length: 0x400, type: E820_RESERVED },
    { base: 0xf0000, length: 0x10000, type: E820_RESERVED },
    { base: 0x100000, length: top - 0x100000, type: E820_RAM },
    { base: top, length: 0x20000, type: E820_RESERVED },
    { base: 0xfffc0000, length: 0x40000, type: E820_RESERVED },
  ];
}

/** The multiboot header as found in the image. */
export interface MultibootHeader {
  /** File offset of the magic. */
  offset: number;
  flags: number;
  /** a.out kludge fields (valid when flags has bit 16). */
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

export interface MultibootLoadOptions {
  /** File name, for messages and for the command line ("<file> <cmdline>", as QEMU). */
  file: string;
  /** Kernel command line (QEMU -append); "" by default. */
  cmdline?: string;
}

export interface LoadedMultiboot {
  header: MultibootHeader;
  /** The ELF placement, when the image was loaded as ELF. */
  elf: LoadedElf | null;
  /** Entry point (EIP). */
  entry: number;
  /** Physical address of the info structure, for EBX. */
  infoAddress: number;
  /** EAX at entry. */
  magic: number;
  /** Lowest and one-past-highest physical byte of the image (bss included). */
  lowPhysical: number;
  highPhysical: number;
  cmdlineAddress: number;
  mmap: E820Entry[];
  /** What QEMU would print as a warning (the guest still boots). */
  warnings: string[];
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/**
 * Finds the multiboot header: magic at a 4-byte aligned offset below 8192 − 48 whose checksum
 * makes magic + flags + checksum = 0 (mod 2^32). Returns null if there is none.
 */
export function findMultibootHeader(bytes: Uint8Array): MultibootHeader | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = Math.min(MULTIBOOT_SEARCH_BYTES - 48, bytes.length - 12);
  const word = (o: number) => (o + 4 <= bytes.length ? view.getUint32(o, true) : 0);
  for (let i = 0; i <= limit; i += 4) {
    if (view.getUint32(i, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = view.getUint32(i + 4, true);
    const checksum = view.getUint32(i + 8, true);
    if ((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0 !== 0) continue;
    return {
      offset: i,
      flags,
      headerAddr: word(i + 12),
      loadAddr: word(i + 16),
      loadEndAddr: word(i + 20),
      bssEndAddr: word(i + 24),
      entryAddr: word(i + 28),
    };
  }
  return null;
}

/** Why the search failed, for the error message: a magic with a bad checksum is worth naming. */
function explainMissingHeader(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = Math.min(MULTIBOOT_SEARCH_BYTES - 48, bytes.length - 12);
  for (let i = 0; i <= limit; i += 4) {
    if (view.getUint32(i, true) === MULTIBOOT_HEADER_MAGIC) {
      const flags = view.getUint32(i + 4, true);
      const checksum = view.getUint32(i + 8, true);
      const want = (-(MULTIBOOT_HEADER_MAGIC + flags) >>> 0) >>> 0;
      return `not a multiboot kernel: the magic 0x1BADB002 at file offset ${hex(i)} has checksum ${hex(checksum)}, but flags ${hex(flags)} need ${hex(want)}`;
    }
  }
  return "not a multiboot kernel: no multiboot header (magic 0x1BADB002 with a valid checksum) in the first 8 KiB; add one as in samples/guests/x86/start.S";
}

/**
 * Loads a multiboot kernel into `memory` and writes the info structure and memory map where
 * QEMU does. Throws LoaderError naming the file for anything QEMU would refuse or load wrongly.
 */
export function loadMultiboot(
  bytes: Uint8Array,
  memory: PhysicalMemory,
  opts: MultibootLoadOptions,
): LoadedMultiboot {
  const file = opts.file;
  const fail = (what: string): never => {
    throw new LoaderError(`${file}: ${what}`);
  };
  if (memory.size < 0x200000)
    fail(`the PC board needs at least 2 MiB of RAM for a multiboot kernel, it has ${hex(memory.size)}`);
  const header = findMultibootHeader(bytes);
  if (!header) return fail(explainMissingHeader(bytes));
  const warnings: string[] = [];
  if ((header.flags & MBH_VIDEO_MODE) !== 0) {
    warnings.push(
      `${file}: the multiboot header asks for a video mode (flag 2); there is no display, ignored`,
    );
  }

  let elf: LoadedElf | null = null;
  let entry: number;
  let low: number;
  let high: number;
  if ((header.flags & MBH_AOUT_KLUDGE) === 0) {
    if (bytes.length >= 20 && bytes[4] === 2 && (bytes[18]! | (bytes[19]! << 8)) === 62) {
      fail("is an x86-64 ELF; the PC board loads 32-bit multiboot kernels only (QEMU: give a 32bit one)");
    }
    try {
      elf = loadElf32(bytes, memory, { file, machine: EM_386 });
    } catch (err) {
      if (err instanceof LoaderError) {
        throw new LoaderError(
          `${err.message} (the multiboot header flags ${hex(header.flags)} leave bit 16 clear, so the image must be an i386 ELF)`,
        );
      }
      throw err;
    }
    entry = elf.entry;
    low = elf.lowPhysical;
    high = elf.highPhysical;
  } else {
    const h = header;
    if (h.headerAddr < h.loadAddr)
      fail(`a.out kludge: header_addr ${hex(h.headerAddr)} is below load_addr ${hex(h.loadAddr)}`);
    const textOffset = h.offset - (h.headerAddr - h.loadAddr);
    if (textOffset < 0) {
      fail(
        `a.out kludge: header_addr − load_addr (${hex(h.headerAddr - h.loadAddr)}) exceeds the header's file offset ${hex(h.offset)}`,
      );
    }
    let loadSize: number;
    if (h.loadEndAddr !== 0) {
      if (h.loadEndAddr < h.loadAddr)
        fail(`a.out kludge: load_end_addr ${hex(h.loadEndAddr)} is below load_addr ${hex(h.loadAddr)}`);
      loadSize = h.loadEndAddr - h.loadAddr;
    } else {
      loadSize = bytes.length - textOffset;
    }
    if (textOffset + loadSize > bytes.length) {
      fail(
        `a.out kludge: ${hex(loadSize)} bytes from file offset ${hex(textOffset)} run past the end of the file (${bytes.length} bytes)`,
      );
    }
    let kernelSize = loadSize;
    if (h.bssEndAddr !== 0) {
      if (h.bssEndAddr < h.loadAddr + loadSize) {
        fail(
          `a.out kludge: bss_end_addr ${hex(h.bssEndAddr)} is below the end of the loaded text ${hex(h.loadAddr + loadSize)}`,
        );
      }
      kernelSize = h.bssEndAddr - h.loadAddr;
    }
    if (!memory.contains(h.loadAddr, kernelSize)) {
      fail(
        `a.out kludge: ${hex(kernelSize)} bytes at ${hex(h.loadAddr)} do not fit in RAM (0..${hex(memory.size)})`,
      );
    }
    memory.writeBytes(h.loadAddr, bytes.subarray(textOffset, textOffset + loadSize));
    if (kernelSize > loadSize)
      memory.writeBytes(h.loadAddr + loadSize, new Uint8Array(kernelSize - loadSize));
    entry = h.entryAddr;
    low = h.loadAddr;
    high = h.loadAddr + kernelSize;
  }
  if (low < MULTIBOOT_INFO_ADDR + MBI.size && high > MULTIBOOT_MMAP_ADDR) {
    fail(
      `the image (${hex(low)}..${hex(high)}) overlaps the multiboot info area at ${hex(MULTIBOOT_MMAP_ADDR)}; link it at 1 MiB`,
    );
  }

  // QEMU's mb_buf: the image, page aligned, then module records (none), then the command
  // lines, then the boot loader name.
  const bufEnd = low + alignUp(high - low, 0x1000);
  const encoder = new TextEncoder();
  const cmdline = encoder.encode(`${file} ${opts.cmdline ?? ""}\0`);
  const loaderName = encoder.encode(`${MULTIBOOT_LOADER_NAME}\0`);
  const cmdlineAddress = bufEnd;
  const loaderNameAddress = cmdlineAddress + cmdline.length;
  if (!memory.contains(cmdlineAddress, cmdline.length + loaderName.length)) {
    fail(`no room in RAM after the image (${hex(bufEnd)}) for the command line`);
  }
  memory.writeBytes(cmdlineAddress, cmdline);
  memory.writeBytes(loaderNameAddress, loaderName);

  const mmap = pcE820Map(memory.size);
  // Each entry: u32 size (20, not counting itself), u64 base, u64 length, u32 type.
  let p = MULTIBOOT_MMAP_ADDR;
  for (const e of mmap) {
    memory.write32(p, 20);
    memory.write32(p + 4, e.base >>> 0);
    memory.write32(p + 8, Math.floor(e.base / 0x1_0000_0000));
    memory.write32(p + 12, e.length >>> 0);
    memory.write32(p + 16, Math.floor(e.length / 0x1_0000_0000));
    memory.write32(p + 20, e.type);
    p += 24;
  }
  // mem_upper: KiB of RAM contiguous from 1 MiB (multiboot.S walks the map the same way).
  let upperEnd = 0x100000;
  for (let grown = true; grown; ) {
    grown = false;
    for (const e of mmap) {
      if (e.type === E820_RAM && e.base <= upperEnd && upperEnd < e.base + e.length) {
        upperEnd = e.base + e.length;
        grown = true;
      }
    }
  }
  const info = MULTIBOOT_INFO_ADDR;
  memory.writeBytes(info, new Uint8Array(MBI.size));
  memory.write32(
    info + MBI.flags,
    MBI_FLAG_MEMORY |
      MBI_FLAG_BOOT_DEVICE |
      MBI_FLAG_CMDLINE |
      MBI_FLAG_MODS |
      MBI_FLAG_MMAP |
      MBI_FLAG_LOADER_NAME,
  );
  memory.write32(info + MBI.memLower, 0x9fc00 >>> 10); // INT 12h: 639 KiB below the EBDA
  memory.write32(info + MBI.memUpper, (upperEnd - 0x100000) >>> 10);
  memory.write32(info + MBI.bootDevice, MULTIBOOT_BOOT_DEVICE);
  memory.write32(info + MBI.cmdline, cmdlineAddress);
  memory.write32(info + MBI.modsCount, 0);
  memory.write32(info + MBI.modsAddr, cmdlineAddress); // QEMU: mb_buf_phys + offset_mbinfo
  memory.write32(info + MBI.mmapLength, mmap.length * 24);
  memory.write32(info + MBI.mmapAddr, MULTIBOOT_MMAP_ADDR);
  memory.write32(info + MBI.bootLoaderName, loaderNameAddress);

  return {
    header,
    elf,
    entry,
    infoAddress: info,
    magic: MULTIBOOT_BOOTLOADER_MAGIC,
    lowPhysical: low,
    highPhysical: high,
    cmdlineAddress,
    mmap,
    warnings,
  };
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}
