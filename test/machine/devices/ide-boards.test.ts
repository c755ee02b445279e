/** IDE and NE2000 as the boards wire them: IRQ14 / IRQ9 through the 8259A pair to the CPU, ports through the MIPS ISA window. */
import { describe, expect, it } from "vitest";
import { MipssimBoard } from "../../../src/machine/boards/mipssim.js";
import { PcBoard } from "../../../src/machine/boards/pc.js";
import { MemoryDiskImage } from "../../../src/machine/devices/ata-disk.js";
import { AtaCmd } from "../../../src/machine/devices/ide.js";
import { Cause } from "../../../src/machine/mips/index.js";

/** ICW1-4 for both PICs (vectors 0x20/0x28, cascade on IR2), then masks. */
function initPics(out: (port: number, v: number) => void, masterMask: number, slaveMask: number) {
  out(0x20, 0x11);
  out(0x21, 0x20);
  out(0x21, 0x04);
  out(0x21, 0x01);
  out(0xa0, 0x11);
  out(0xa1, 0x28);
  out(0xa1, 0x02);
  out(0xa1, 0x01);
  out(0x21, masterMask);
  out(0xa1, slaveMask);
}

describe("IDE and NE2000 on the boards", () => {
  it("PC: IDENTIFY raises IRQ14, acknowledged as vector 0x2E through the cascade", () => {
    const board = new PcBoard({ disk: new MemoryDiskImage(128) });
    const out = (p: number, v: number) => board.ports.write(p, 1, v);
    initPics(out, 0xfb, 0xbf); // IR2 (cascade) and slave IR6 (= IRQ14) unmasked
    out(0x1f6, 0xa0);
    out(0x1f7, AtaCmd.IDENTIFY_DEVICE);
    expect(board.pic.acknowledge()).toBe(0x2e);
    expect(board.ports.read(0x1f0, 2)).toBe(0x0040);
  });

  it("PC: without --disk the IDE and PCI ports stay open bus", () => {
    const board = new PcBoard();
    expect(board.ide).toBeNull();
    expect(board.ports.read(0x1f7, 1)).toBe(0xff);
    expect(board.ports.read(0xcfc, 4)).toBe(0xffffffff);
  });

  it("mipssim: the IDE answers through the ISA window and its IRQ14 sets Cause.IP2", () => {
    const board = new MipssimBoard({ disk: new MemoryDiskImage(128), nic: {} });
    const ISA = 0x1fd00000;
    const out = (p: number, v: number) => board.bus.write(ISA + p, 1, v);
    initPics(out, 0xfb, 0xbf);
    out(0x1f6, 0xa0);
    out(0x1f7, AtaCmd.IDENTIFY_DEVICE);
    expect(board.cpu.cp0.hwLines & (1 << (Cause.IP_SHIFT + 2))).not.toBe(0);
    expect(board.bus.read(ISA + 0x1f0, 2)).toBe(0x0040);
    // The NE2000 is there too: reset port, ISR.RST.
    board.bus.read(ISA + 0x31f, 1);
    expect(board.bus.read(ISA + 0x307, 1) & 0x80).toBe(0x80);
  });
});
