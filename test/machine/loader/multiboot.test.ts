import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LoaderError } from "../../../src/machine/errors.js";
import {
  findMultibootHeader,
  loadMultiboot,
  MBI,
  MULTIBOOT_INFO_ADDR,
  pcE820Map,
} from "../../../src/machine/loader/multiboot.js";
import { PhysicalMemory } from "../../../src/machine/memory.js";

const HELLO = "samples/guests/x86/hello.elf";
const hello = () => new Uint8Array(readFileSync(HELLO));
const MiB = 1024 * 1024;

function cString(mem: PhysicalMemory, addr: number): string {
  let end = addr;
  while (mem.u8[end] !== 0) end++;
  return new TextDecoder().decode(mem.u8.subarray(addr, end));
}

describe("multiboot loader", () => {
  it("loads hello.elf and writes the info structure QEMU 7.2 writes (values seen by mbinfo.elf)", () => {
    const mem = new PhysicalMemory(128 * MiB);
    const mb = loadMultiboot(hello(), mem, { file: "hello.elf", cmdline: "a b" });
    expect(mb.entry).toBe(0x10000c);
    expect(mb.magic).toBe(0x2badb002);
    expect(mb.infoAddress).toBe(0x9500);
    // The image itself: the multiboot header at the start of .text (physical 1 MiB).
    expect(mem.read32(0x100000)).toBe(0x1badb002);
    const w = (off: number) => mem.read32(MULTIBOOT_INFO_ADDR + off);
    // `qemu-system-i386 -M pc -m 128 -kernel mbinfo.elf -append "a b"` printed these.
    expect(w(MBI.flags)).toBe(0x24f);
    expect(w(MBI.memLower)).toBe(0x27f);
    expect(w(MBI.memUpper)).toBe(0x1fb80);
    expect(w(MBI.bootDevice)).toBe(0x8000ffff);
    expect(w(MBI.cmdline)).toBe(0x101000);
    expect(cString(mem, w(MBI.cmdline))).toBe("hello.elf a b");
    expect(w(MBI.modsCount)).toBe(0);
    expect(w(MBI.modsAddr)).toBe(0x101000);
    expect(w(MBI.mmapLength)).toBe(0x90);
    expect(w(MBI.mmapAddr)).toBe(0x9000);
    expect(w(MBI.bootLoaderName)).toBe(0x101000 + "hello.elf a b".length + 1);
    expect(cString(mem, w(MBI.bootLoaderName))).toBe("qemu");
    const entries: number[][] = [];
    for (let off = 0; off < 0x90; off += 24) {
      const e = (k: number) => mem.read32(0x9000 + off + k);
      entries.push([e(0), e(4), e(8), e(12), e(16), e(20)]);
    }
    expect(entries).toEqual([
      [20, 0, 0, 0x9fc00, 0, 1],
      [20, 0x9fc00, 0, 0x400, 0, 2],
      [20, 0xf0000, 0, 0x10000, 0, 2],
      [20, 0x100000, 0, 0x7ee0000, 0, 1],
      [20, 0x7fe0000, 0, 0x20000, 0, 2],
      [20, 0xfffc0000, 0, 0x40000, 0, 2],
    ]);
  });

  it("sizes mem_upper and the map from the RAM size (QEMU -m 64 and -m 300)", () => {
    for (const [mib, upper] of [
      [64, 0xfb80],
      [300, 0x4ab80],
    ] as const) {
      const mem = new PhysicalMemory(mib * MiB);
      loadMultiboot(hello(), mem, { file: "hello.elf" });
      expect(mem.read32(MULTIBOOT_INFO_ADDR + MBI.memUpper)).toBe(upper);
      expect(pcE820Map(mib * MiB)[4]!.base).toBe(mib * MiB - 0x20000);
    }
  });

  it("refuses an ELF without a multiboot header, naming the file", () => {
    const bytes = hello();
    const h = findMultibootHeader(bytes)!;
    bytes.fill(0, h.offset, h.offset + 12);
    expect(() => loadMultiboot(bytes, new PhysicalMemory(8 * MiB), { file: "plain.elf" })).toThrow(
      /^plain\.elf: not a multiboot kernel: no multiboot header \(magic 0x1BADB002/,
    );
  });

  it("names a bad checksum", () => {
    const bytes = hello();
    const h = findMultibootHeader(bytes)!;
    new DataView(bytes.buffer).setUint32(h.offset + 8, 0x12345678, true);
    expect(() => loadMultiboot(bytes, new PhysicalMemory(8 * MiB), { file: "bad.elf" })).toThrow(
      "bad.elf: not a multiboot kernel: the magic 0x1BADB002 at file offset 0x1000 has checksum 0x12345678, but flags 0x3 need 0xe4524ffb",
    );
  });

  it("refuses a header beyond the first 8 KiB", () => {
    const bytes = new Uint8Array(16384);
    const v = new DataView(bytes.buffer);
    v.setUint32(8192, 0x1badb002, true);
    v.setUint32(8196, 0, true);
    v.setUint32(8200, -0x1badb002 >>> 0, true);
    expect(findMultibootHeader(bytes)).toBeNull();
  });

  it("refuses a non-ELF image without the a.out kludge, and a 64-bit ELF", () => {
    const bytes = new Uint8Array(4096);
    const v = new DataView(bytes.buffer);
    v.setUint32(64, 0x1badb002, true);
    v.setUint32(68, 3, true);
    v.setUint32(72, -(0x1badb002 + 3) >>> 0, true);
    expect(() => loadMultiboot(bytes, new PhysicalMemory(8 * MiB), { file: "raw.bin" })).toThrow(
      /^raw\.bin: not an ELF file: bad magic .*bit 16 clear, so the image must be an i386 ELF\)$/,
    );
    bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
    v.setUint16(18, 62, true);
    expect(() => loadMultiboot(bytes, new PhysicalMemory(8 * MiB), { file: "k64.elf" })).toThrow(
      "k64.elf: is an x86-64 ELF; the PC board loads 32-bit multiboot kernels only (QEMU: give a 32bit one)",
    );
  });

  it("refuses an ELF for another machine, with the ELF parser's message", () => {
    const mips = new Uint8Array(readFileSync("samples/guests/mips/hello.elf"));
    // Give the MIPS image a valid multiboot header in its first 8 KiB (in the ELF padding).
    const v = new DataView(mips.buffer);
    v.setUint32(0x100, 0x1badb002, true);
    v.setUint32(0x104, 0, true);
    v.setUint32(0x108, -0x1badb002 >>> 0, true);
    let err: unknown;
    try {
      loadMultiboot(mips, new PhysicalMemory(8 * MiB), { file: "mips.elf" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoaderError);
    expect((err as Error).message).toMatch(/^mips\.elf: built for EM_MIPS, but this board needs EM_386/);
  });

  it("loads an a.out-kludge image (flag 16) from the header's addresses", () => {
    // Header at file offset 32 describing: text loaded at 0x200000 from file offset 0,
    // 0x100 bytes of it, bss to 0x200400, entry 0x200040.
    const bytes = new Uint8Array(0x200).fill(0x90);
    const v = new DataView(bytes.buffer);
    const flags = 0x10000;
    [
      0x1badb002,
      flags,
      -(0x1badb002 + flags) >>> 0,
      0x200020,
      0x200000,
      0x200100,
      0x200400,
      0x200040,
    ].forEach((x, i) => {
      v.setUint32(32 + 4 * i, x, true);
    });
    const mem = new PhysicalMemory(8 * MiB);
    mem.u8.fill(0xcc, 0x200100, 0x200400);
    const mb = loadMultiboot(bytes, mem, { file: "aout.bin" });
    expect(mb.elf).toBeNull();
    expect(mb.entry).toBe(0x200040);
    expect(mem.read32(0x200020)).toBe(0x1badb002);
    expect(mem.u8[0x2000ff]).toBe(0x90);
    expect(mem.u8[0x200100]).toBe(0); // bss cleared
    expect(mem.u8[0x2003ff]).toBe(0);
    expect(mem.read32(MULTIBOOT_INFO_ADDR + MBI.cmdline)).toBe(0x201000);
    v.setUint32(32 + 24, 0x200080, true); // bss_end below load_end
    v.setUint32(32 + 8, -(0x1badb002 + flags) >>> 0, true);
    expect(() => loadMultiboot(bytes, new PhysicalMemory(8 * MiB), { file: "aout.bin" })).toThrow(
      "aout.bin: a.out kludge: bss_end_addr 0x200080 is below the end of the loaded text 0x200100",
    );
  });
});
