import { describe, expect, it } from "vitest";
import { MIPSSIM_RAM_BYTES, MipssimBoard } from "../../../src/machine/boards/mipssim.js";
import { IER_ERBFI, IER_ETBEI, LSR_DR } from "../../../src/machine/devices/uart-16550.js";
import { StopReason } from "../../../src/machine/index.js";
import { makeElf, words } from "../loader/make-elf.js";

const ISA = 0x1fd00000;
const IP4 = 1 << 12;

describe("mipssim board wiring (as QEMU hw/mips/mipssim.c)", () => {
  it("has 128 MiB of RAM by default", () => {
    expect(new MipssimBoard({ ramBytes: 1 << 20 }).memory.size).toBe(1 << 20);
    expect(MIPSSIM_RAM_BYTES).toBe(128 << 20);
  });

  it("puts the UART at ISA port 0x3F8 with its interrupt on Cause.IP4", () => {
    const out: number[] = [];
    const b = new MipssimBoard({ ramBytes: 1 << 20, console: (c) => out.push(c), input: "z" });
    b.bus.write(ISA + 0x3f8, 1, 0x41);
    expect(out).toEqual([0x41]);
    expect(b.bus.read(ISA + 0x3fd, 1) & LSR_DR).toBe(LSR_DR);
    expect(b.cpu.cp0.hwLines & IP4).toBe(0);
    b.bus.write(ISA + 0x3f9, 1, IER_ERBFI);
    expect(b.cpu.cp0.hwLines & IP4).toBe(IP4);
    expect(b.bus.read(ISA + 0x3f8, 1)).toBe(0x7a);
    expect(b.cpu.cp0.hwLines & IP4).toBe(0);
    b.bus.write(ISA + 0x3f9, 1, IER_ETBEI);
    expect(b.cpu.cp0.hwLines & IP4).toBe(IP4);
  });

  it("stops with the exit port's value, written from guest code through kseg1", () => {
    const b = new MipssimBoard({ ramBytes: 1 << 20 });
    // lui v1,0xbfd0; addiu v0,zero,7; sh v0,0x501(v1)... as a byte store: sb v0,0x501(v1); b .
    b.loadGuest(
      makeElf({
        entry: 0xa0002000,
        segments: [{ vaddr: 0xa0002000, data: words(0x3c03bfd0, 0x24020007, 0xa0620501, 0x1000ffff, 0) }],
      }),
      "exit7.elf",
    );
    expect(b.run(1000)).toBe(StopReason.Exit);
    expect(b.stop.exitCode).toBe(7);
    expect(b.cpu.stats.instructions).toBeLessThan(10);
  });

  it("leaves the documented entry state: PC = e_entry, Status = BEV|ERL, registers zero", () => {
    const b = new MipssimBoard({ ramBytes: 1 << 20 });
    b.cpu.gpr[5] = 99;
    b.loadGuest(
      makeElf({ entry: 0x80001000, segments: [{ vaddr: 0x80001000, data: words(0x1000ffff, 0) }] }),
      "t.elf",
    );
    expect(b.cpu.pc >>> 0).toBe(0x80001000);
    expect(b.cpu.cp0.status >>> 0).toBe(0x00400004);
    expect([...b.cpu.gpr].every((v) => v === 0)).toBe(true);
    expect(b.run(100)).toBe(StopReason.Budget);
  });
});
