/**
 * The PC board on its own (no QEMU needed): wiring, entry state, statistics, diagnostics and
 * stop reasons. Expected values come from QEMU runs of the same images (see samples.test.ts).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createBoard } from "../../../src/machine/boards/index.js";
import { PcBoard } from "../../../src/machine/boards/pc.js";
import { StopReason } from "../../../src/machine/cpu.js";
import { LoaderError } from "../../../src/machine/errors.js";
import { runPvkitPc } from "./qemu.js";

/** A multiboot image using the a.out kludge (header flag 16): `code` loaded at 1 MiB + 32. */
function aoutImage(code: number[]): Uint8Array {
  const bytes = new Uint8Array(32 + code.length);
  const v = new DataView(bytes.buffer);
  const flags = 0x10000;
  const fields = [0x1badb002, flags, -(0x1badb002 + flags) >>> 0, 0x100000, 0x100000, 0, 0, 0x100020];
  fields.forEach((x, i) => {
    v.setUint32(4 * i, x, true);
  });
  bytes.set(code, 32);
  return bytes;
}

describe("PC board", () => {
  it("is what createBoard('x86') builds, with 128 MiB and the PC's ports claimed", () => {
    const board = createBoard("x86");
    expect(board).toBeInstanceOf(PcBoard);
    expect(board.memory.size).toBe(128 * 1024 * 1024);
    const pc = board as PcBoard;
    expect(pc.ports.handlerAt(0x20)).toBe(pc.pic);
    expect(pc.ports.handlerAt(0xa1)).toBe(pc.pic);
    expect(pc.ports.handlerAt(0x43)).toBe(pc.pit);
    expect(pc.ports.handlerAt(0x3fd)).toBe(pc.uart);
    expect(pc.ports.handlerAt(0x501)).toBe(pc.exitPort);
  });

  it("runs hello.elf to the exit port and reports statistics", () => {
    const r = runPvkitPc("samples/guests/x86/hello.elf");
    expect(r.output).toBe("Hello from a pvkit guest (x86)\nDONE\n");
    expect(r.stop).toBe(StopReason.Exit);
    expect(r.exit).toBe(0);
    const stats = r.board.stats();
    expect(stats.instructions).toBeGreaterThan(500);
    expect(stats.cycles).toBeGreaterThan(stats.instructions as number);
    expect((stats.devices as Record<string, number>).uartTxBytes).toBe(36);
  });

  it("enters the kernel as QEMU's multiboot ROM does (mbinfo.elf prints what QEMU printed)", () => {
    const r = runPvkitPc("samples/guests/x86/mbinfo.elf", { file: "mbinfo.elf", append: "a b" });
    const lines = r.output.split("\n");
    expect(lines.slice(0, 9)).toEqual([
      "eax 2badb002",
      "ebx 00009500",
      "cr0 00000011",
      "cs 00000008",
      "ds 00000010",
      "ss 00000010",
      "es 00000010",
      "fs 00000010",
      "gs 00000010",
    ]);
    expect(r.output).toContain('cmdline "mbinfo.elf a b"');
    expect(r.output).toContain("mem_upper 0001fb80");
    expect(r.output).toContain('boot_loader_name "qemu"');
    expect(r.board.cpu.regs[1]! >>> 0).not.toBe(0); // ECX held the entry at boot (QEMU jumps through it)
  });

  it("HLT with interrupts off stops the machine as idle, with a diagnostic", () => {
    const board = new PcBoard();
    board.loadGuest(aoutImage([0xfa, 0xf4]), "halt.bin"); // cli; hlt
    expect(board.runToEnd(1000)).toBe(StopReason.Idle);
    expect(board.stopDetail).toMatch(/HLT with interrupts disabled/);
    const d = board.diagnostic();
    expect(d).toMatch(/cs:eip 8:0x00100022 CPL 0, eflags 0x00000002/);
    expect(d).toMatch(/eax=0x2badb002 ecx=0x00100020/);
    expect(d).toMatch(/last instructions:\n\s+00100020: cli\n\s+00100021: hlt/);
  });

  it("the PIT interrupts a HLT with IF=1 through the PIC (vector from ICW2)", () => {
    // Minimal IDT at 0x2000 (vector 0x20 → handler writing 0x2A to the exit port), PIC
    // initialised with base 0x20, IRQ0 unmasked, PIT left in its power-on mode 3.
    const code = [
      // mov esp, 0x8000 (the ROM's stack is not ours to use)
      0xbc, 0x00, 0x80, 0x00, 0x00,
      // lidt [idtr] ; idtr at 0x100080: limit 0x7ff, base 0x2000
      0x0f, 0x01, 0x1d, 0x80, 0x00, 0x10, 0x00,
      // mov dword [0x2000 + 0x20*8], handler low | 0x08<<16 ; mov dword [+4], 0x8e00 | high
      0xc7, 0x05, 0x00, 0x21, 0x00, 0x00, 0x60, 0x00, 0x08, 0x00, 0xc7, 0x05, 0x04, 0x21, 0x00, 0x00, 0x00,
      0x8e, 0x10, 0x00,
      // PIC: out 0x20,0x11; out 0x21,0x20; out 0x21,0x04; out 0x21,0x01; out 0x21,0xfe
      0xb0, 0x11, 0xe6, 0x20, 0xb0, 0x20, 0xe6, 0x21, 0xb0, 0x04, 0xe6, 0x21, 0xb0, 0x01, 0xe6, 0x21, 0xb0,
      0xfe, 0xe6, 0x21,
      // sti; hlt; jmp $-1
      0xfb, 0xf4, 0xeb, 0xfd,
    ];
    const image = aoutImage(code);
    const full = new Uint8Array(32 + 0x80);
    full.set(image);
    // handler at 0x100060 (file offset 0x60 - 0x20 + 32): mov al, 0x2a; mov dx, 0x501; out dx, al
    full.set([0xb0, 0x2a, 0x66, 0xba, 0x01, 0x05, 0xee], 0x60);
    const padded = new Uint8Array(0x86 + 32);
    padded.set(full);
    new DataView(padded.buffer).setUint16(0x80, 0x7ff, true);
    new DataView(padded.buffer).setUint32(0x82, 0x2000, true);
    const board = new PcBoard();
    board.loadGuest(padded, "irq.bin");
    const stop = board.runToEnd(10_000);
    expect(stop, board.diagnostic()).toBe(StopReason.Exit);
    expect(board.stop.exitCode).toBe(0x2a);
    expect(board.pic.delivered[0]).toBe(1);
    // Power-on mode 3 with count 65536: the first rising edge comes one full period in.
    expect(board.clock.cycles).toBeGreaterThanOrEqual(board.pit.cycleOfTick(65536));
  });

  it("COM1 interrupts on IRQ4 (THRE with IER.ETBEI), delivered as vector base + 4", () => {
    const code = [
      0xbc,
      0x00,
      0x80,
      0x00,
      0x00, // mov esp, 0x8000
      0x0f,
      0x01,
      0x1d,
      0x80,
      0x00,
      0x10,
      0x00, // lidt [0x100080]
      0xc7,
      0x05,
      0x20,
      0x21,
      0x00,
      0x00,
      0x60,
      0x00,
      0x08,
      0x00, // gate 0x24 → 0x08:0x100060
      0xc7,
      0x05,
      0x24,
      0x21,
      0x00,
      0x00,
      0x00,
      0x8e,
      0x10,
      0x00,
      0xb0,
      0x11,
      0xe6,
      0x20,
      0xb0,
      0x20,
      0xe6,
      0x21,
      0xb0,
      0x04,
      0xe6,
      0x21,
      0xb0,
      0x01,
      0xe6,
      0x21,
      0xb0,
      0xef,
      0xe6,
      0x21, // OCW1: only IRQ4
      0x66,
      0xba,
      0xf9,
      0x03,
      0xb0,
      0x02,
      0xee, // IER = ETBEI
      0xfb,
      0xf4,
      0xeb,
      0xfd, // sti; hlt; jmp $-1
    ];
    const image = new Uint8Array(0x86 + 32);
    image.set(aoutImage(code));
    // handler: in al, 0x3fa (IIR); out 0x501, al
    image.set([0x66, 0xba, 0xfa, 0x03, 0xec, 0x66, 0xba, 0x01, 0x05, 0xee], 0x60);
    new DataView(image.buffer).setUint16(0x80, 0x7ff, true);
    new DataView(image.buffer).setUint32(0x82, 0x2000, true);
    const board = new PcBoard();
    board.loadGuest(image, "uart-irq.bin");
    const stop = board.runToEnd(10_000);
    expect(stop, board.diagnostic()).toBe(StopReason.Exit);
    expect(board.stop.exitCode).toBe(0x02); // IIR: THR empty, no FIFO
    expect(board.pic.delivered[4]).toBe(1);
    expect(board.pic.delivered[0]).toBe(0);
  });

  // Regression check: IRET to an outer ring used to set the new CS descriptor's Accessed bit at
  // the address of the SS descriptor it read last, turning the ring-3 data descriptor into code.
  it("IRET to ring 3 sets Accessed bits in the right descriptors", () => {
    const code = [
      0xbc,
      0x00,
      0x80,
      0x00,
      0x00, // mov esp, 0x8000
      0x0f,
      0x01,
      0x15,
      0x00,
      0x01,
      0x10,
      0x00, // lgdt [0x100100]
      0x6a,
      0x23, // push 0x23 (SS)
      0x68,
      0x00,
      0x90,
      0x00,
      0x00, // push 0x9000 (ESP)
      0x68,
      0x02,
      0x30,
      0x00,
      0x00, // push 0x3002 (EFLAGS, IOPL 3)
      0x6a,
      0x1b, // push 0x1b (CS)
      0x68,
      0x60,
      0x00,
      0x10,
      0x00, // push 0x100060 (EIP)
      0xcf, // iret
    ];
    const image = new Uint8Array(0x140);
    image.set(aoutImage(code));
    image.set([0xb0, 0x2a, 0x66, 0xba, 0x01, 0x05, 0xee, 0xeb, 0xfe], 0x60); // ring 3: out 0x501, 0x2a
    const v = new DataView(image.buffer);
    v.setUint16(0x100, 0x27, true);
    v.setUint32(0x102, 0x100110, true);
    // null, ring-0 code, ring-0 data, ring-3 code (type 0xA, not accessed), ring-3 data (type 0x3,
    // already accessed: so nothing rewrites its slot after a misdirected write)
    [0, 0, 0xffff, 0x00cf9a00, 0xffff, 0x00cf9200, 0xffff, 0x00cffa00, 0xffff, 0x00cff300].forEach((w, i) => {
      v.setUint32(0x110 + 4 * i, w, true);
    });
    const board = new PcBoard();
    board.loadGuest(image, "ring3.bin");
    expect(board.runToEnd(1000), board.diagnostic()).toBe(StopReason.Exit);
    expect(board.stop.exitCode).toBe(0x2a);
    expect(board.cpu.cpl).toBe(3);
    // Code descriptor: type 0xB (accessed); data descriptor: type 0x3 (accessed), still data.
    expect(board.memory.read32(0x100110 + 3 * 8 + 4).toString(16)).toBe("cffb00");
    expect(board.memory.read32(0x100110 + 4 * 8 + 4).toString(16)).toBe("cff300");
  });

  it("refuses a MIPS ELF with a precise loader error", () => {
    const board = new PcBoard();
    const mips = new Uint8Array(readFileSync("samples/guests/mips/hello.elf"));
    expect(() => board.loadGuest(mips, "samples/guests/mips/hello.elf")).toThrow(LoaderError);
    expect(() => board.loadGuest(mips, "samples/guests/mips/hello.elf")).toThrow(
      /^samples\/guests\/mips\/hello\.elf: not a multiboot kernel/,
    );
  });
});
