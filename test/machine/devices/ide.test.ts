/** IDE channel register behaviour: status transitions, INTRQ/nIEN, errors, LBA48, SRST, snapshots. */
import { describe, expect, it } from "vitest";
import { SimClock } from "../../../src/machine/clock.js";
import { MemoryDiskImage } from "../../../src/machine/devices/ata-disk.js";
import {
  ATA_DEFAULT_COMMAND_CYCLES,
  AtaCmd,
  IDE_PRIMARY_BASE as B,
  IDE_PRIMARY_CTL as CTL,
  guessChs,
  IdeChannel,
} from "../../../src/machine/devices/ide.js";
import { PortBus } from "../../../src/machine/io-ports.js";

function setup(sectors = 64) {
  const bus = new PortBus();
  const clock = new SimClock();
  const disk = new MemoryDiskImage(sectors);
  for (let i = 0; i < disk.bytes.length; i++) disk.bytes[i] = (i * 13 + (i >> 9)) & 0xff;
  const levels: boolean[] = [];
  const ide = new IdeChannel(bus, clock, disk, { irq: { set: (l) => levels.push(l) } });
  const irq = () => levels[levels.length - 1] ?? false;
  const advance = (n = ATA_DEFAULT_COMMAND_CYCLES) => {
    clock.cycles += n;
    clock.runDue();
  };
  const issue = (cmd: number, lba: number, count: number, device = 0xe0) => {
    bus.write(B + 6, 1, device | ((lba >>> 24) & 0x0f));
    bus.write(B + 2, 1, count);
    bus.write(B + 3, 1, lba & 0xff);
    bus.write(B + 4, 1, (lba >>> 8) & 0xff);
    bus.write(B + 5, 1, (lba >>> 16) & 0xff);
    bus.write(B + 7, 1, cmd);
  };
  const altStatus = () => bus.read(CTL, 1);
  return { bus, clock, disk, ide, irq, advance, issue, altStatus };
}

describe("IdeChannel", () => {
  it("power-on: signature and status 50", () => {
    const { bus } = setup();
    expect(bus.read(B + 7, 1)).toBe(0x50);
    expect(bus.read(B + 1, 1)).toBe(0x01);
    expect([bus.read(B + 2, 1), bus.read(B + 3, 1), bus.read(B + 4, 1), bus.read(B + 5, 1)]).toEqual([
      1, 1, 0, 0,
    ]);
    expect(bus.read(B + 6, 1)).toBe(0xa0);
  });

  it("READ SECTORS: BSY, then DRQ with INTRQ per sector; LBA registers end one past the last", () => {
    const { bus, disk, irq, advance, issue, altStatus } = setup();
    issue(AtaCmd.READ_SECTORS, 5, 2);
    expect(altStatus()).toBe(0xc0); // BSY|DRDY
    expect(irq()).toBe(false);
    advance(ATA_DEFAULT_COMMAND_CYCLES - 1);
    expect(altStatus() & 0x80).toBe(0x80);
    advance(1);
    expect(altStatus()).toBe(0x58);
    expect(irq()).toBe(true);
    expect(bus.read(B + 7, 1)).toBe(0x58); // reading Status clears INTRQ
    expect(irq()).toBe(false);
    const words: number[] = [];
    for (let i = 0; i < 256; i++) words.push(bus.read(B, 2));
    expect(words[0]).toBe(disk.bytes[5 * 512]! | (disk.bytes[5 * 512 + 1]! << 8));
    expect(altStatus()).toBe(0xd0); // BSY again for the second sector
    advance();
    expect(irq()).toBe(true);
    // 32-bit data reads deliver two words.
    const d = bus.read(B, 4);
    expect(d).toBe(
      (disk.bytes[6 * 512]! |
        (disk.bytes[6 * 512 + 1]! << 8) |
        (disk.bytes[6 * 512 + 2]! << 16) |
        (disk.bytes[6 * 512 + 3]! << 24)) >>>
        0,
    );
    for (let i = 0; i < 127; i++) bus.read(B, 4);
    expect(altStatus()).toBe(0x50);
    expect(bus.read(B + 2, 1)).toBe(0);
    expect(bus.read(B + 3, 1)).toBe(7);
  });

  it("WRITE SECTORS: DRQ at once without INTRQ, INTRQ after the block is written; nIEN gates the line", () => {
    const { bus, disk, irq, advance, issue, altStatus, ide } = setup();
    bus.write(CTL, 1, 0x02); // nIEN
    issue(AtaCmd.WRITE_SECTORS, 3, 1);
    expect(altStatus()).toBe(0x58);
    expect(irq()).toBe(false);
    for (let i = 0; i < 256; i++) bus.write(B, 2, 0xbeef);
    expect(altStatus()).toBe(0xd0);
    advance();
    expect(altStatus()).toBe(0x50);
    expect(irq()).toBe(false); // pending but masked
    bus.write(CTL, 1, 0x00);
    expect(irq()).toBe(true);
    expect(disk.bytes[3 * 512]).toBe(0xef);
    expect(disk.bytes[3 * 512 + 511]).toBe(0xbe);
    expect(ide.sectorsWritten).toBe(1);
  });

  it("READ MULTIPLE transfers DRQ blocks of the multiple count; SET MULTIPLE MODE rejects non-powers of two", () => {
    const { bus, advance, issue, altStatus } = setup();
    issue(AtaCmd.SET_MULTIPLE_MODE, 0, 3);
    expect(bus.read(B + 7, 1)).toBe(0x41);
    expect(bus.read(B + 1, 1)).toBe(0x04);
    issue(AtaCmd.SET_MULTIPLE_MODE, 0, 4);
    expect(bus.read(B + 7, 1)).toBe(0x50);
    issue(AtaCmd.READ_MULTIPLE, 0, 6);
    advance();
    for (let i = 0; i < 4 * 256; i++) bus.read(B, 2);
    expect(altStatus() & 0x80).toBe(0x80);
    advance();
    expect(altStatus()).toBe(0x58);
    for (let i = 0; i < 2 * 256; i++) bus.read(B, 2);
    expect(altStatus()).toBe(0x50);
    expect(bus.read(B + 3, 1)).toBe(6);
  });

  it("a read across the end delivers the sectors before it, then aborts with the registers at the bad LBA", () => {
    const { bus, advance, issue } = setup(16);
    issue(AtaCmd.READ_SECTORS, 15, 2);
    advance();
    for (let i = 0; i < 256; i++) bus.read(B, 2);
    advance();
    expect(bus.read(B + 7, 1)).toBe(0x41);
    expect(bus.read(B + 1, 1)).toBe(0x04);
    expect(bus.read(B + 2, 1)).toBe(1);
    expect(bus.read(B + 3, 1)).toBe(16);
  });

  it("unknown commands abort; commands while BSY are ignored; an absent slave reads 0", () => {
    const { bus, issue, ide } = setup();
    const warnings: string[] = [];
    const b2 = new PortBus();
    const withWarn = new IdeChannel(b2, new SimClock(), new MemoryDiskImage(8), {
      warn: (m) => warnings.push(m),
    });
    b2.write(B + 7, 1, 0xff);
    b2.write(B + 7, 1, 0xff);
    expect(b2.read(B + 7, 1)).toBe(0x41);
    expect(warnings).toHaveLength(1);
    expect(withWarn.commands).toBe(2);
    issue(AtaCmd.READ_SECTORS, 0, 1);
    const before = ide.commands;
    bus.write(B + 7, 1, AtaCmd.IDENTIFY_DEVICE);
    expect(ide.commands).toBe(before);
    bus.write(B + 6, 1, 0xb0);
    expect(bus.read(B + 7, 1)).toBe(0);
    expect(bus.read(CTL, 1)).toBe(0);
    expect(bus.read(B + 6, 1)).toBe(0xb0);
  });

  it("a read-only image aborts write commands", () => {
    const bus = new PortBus();
    const disk = new MemoryDiskImage(8);
    const ro = Object.assign(disk, { readOnly: true });
    new IdeChannel(bus, new SimClock(), ro);
    bus.write(B + 6, 1, 0xe0);
    bus.write(B + 2, 1, 1);
    bus.write(B + 7, 1, AtaCmd.WRITE_SECTORS);
    expect(bus.read(B + 7, 1)).toBe(0x41);
    expect(bus.read(B + 1, 1)).toBe(0x04);
  });

  it("LBA48: HOB registers hold the previous writes and read back with HOB set", () => {
    const { bus, disk, advance, altStatus } = setup(64);
    bus.write(B + 6, 1, 0x40);
    bus.write(B + 2, 1, 0); // count high
    bus.write(B + 2, 1, 1); // count low
    bus.write(B + 3, 1, 0); // LBA 31:24
    bus.write(B + 3, 1, 40); // LBA 7:0
    bus.write(B + 4, 1, 0);
    bus.write(B + 4, 1, 0);
    bus.write(B + 5, 1, 0);
    bus.write(B + 5, 1, 0);
    bus.write(B + 7, 1, AtaCmd.READ_SECTORS_EXT);
    advance();
    expect(altStatus()).toBe(0x58);
    expect(bus.read(B, 2)).toBe(disk.bytes[40 * 512]! | (disk.bytes[40 * 512 + 1]! << 8));
    bus.write(CTL, 1, 0x80);
    expect(bus.read(B + 3, 1)).toBe(0);
    bus.write(CTL, 1, 0x00);
    expect(bus.read(B + 3, 1)).toBe(41);
  });

  it("CHS addressing when the LBA bit is clear (QEMU's 16 heads × 63 sectors guess)", () => {
    expect(guessChs(2048)).toEqual({ cylinders: 2, heads: 16, secs: 63 });
    expect(guessChs(100_000_000)).toEqual({ cylinders: 16383, heads: 16, secs: 63 });
    const { bus, disk, advance } = setup(2048);
    // cylinder 1, head 2, sector 5 → LBA (1 * 16 + 2) * 63 + 4 = 1138
    bus.write(B + 6, 1, 0xa2);
    bus.write(B + 2, 1, 1);
    bus.write(B + 3, 1, 5);
    bus.write(B + 4, 1, 1);
    bus.write(B + 5, 1, 0);
    bus.write(B + 7, 1, AtaCmd.READ_SECTORS);
    advance();
    expect(bus.read(B, 2)).toBe(disk.bytes[1138 * 512]! | (disk.bytes[1138 * 512 + 1]! << 8));
  });

  it("IDENTIFY, FLUSH CACHE (fsync of the image), SRST and snapshots", () => {
    const { bus, disk, advance, issue, ide, altStatus } = setup(2048);
    issue(AtaCmd.IDENTIFY_DEVICE, 0, 0, 0xa0);
    expect(altStatus()).toBe(0x58);
    const w: number[] = [];
    for (let i = 0; i < 256; i++) w.push(bus.read(B, 2));
    expect(altStatus()).toBe(0x50);
    expect([w[0], w[1], w[3], w[6], w[47], w[49], w[59], w[60], w[61], w[83], w[100]]).toEqual([
      0x40, 2, 16, 63, 0x8010, 0x0b00, 0x0110, 2048, 0, 0x7400, 2048,
    ]);
    expect(w[27]).toBe(0x5145); // "QE"
    issue(AtaCmd.FLUSH_CACHE, 0, 0);
    expect(altStatus()).toBe(0xc0);
    advance();
    expect(disk.flushes).toBe(1);
    expect(altStatus()).toBe(0x50);
    const snap = ide.getState();
    bus.write(CTL, 1, 0x04);
    expect(altStatus()).toBe(0x90);
    bus.write(CTL, 1, 0x00);
    expect([altStatus(), bus.read(B + 1, 1), bus.read(B + 2, 1), bus.read(B + 3, 1)]).toEqual([
      0x50, 1, 1, 1,
    ]);
    ide.setState(snap);
    expect(ide.getState()).toEqual(snap);
  });
});
