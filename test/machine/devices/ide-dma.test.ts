/** IDE bus-master DMA and PCI configuration: PRD walk, BMIC/BMIS bits, short tables, config reads. */
import { describe, expect, it } from "vitest";
import { SimClock } from "../../../src/machine/clock.js";
import { MemoryDiskImage } from "../../../src/machine/devices/ata-disk.js";
import {
  ATA_DEFAULT_COMMAND_CYCLES,
  AtaCmd,
  IDE_PRIMARY_BASE as B,
  BMIS_ACTIVE,
  BMIS_ERROR,
  BMIS_INTERRUPT,
  IdeBusMaster,
  IdeChannel,
} from "../../../src/machine/devices/ide.js";
import { addPiix3, PciConfigSpace } from "../../../src/machine/devices/pci.js";
import { PortBus } from "../../../src/machine/io-ports.js";
import { PhysicalMemory } from "../../../src/machine/memory.js";

const BM = 0xc040;

function setup() {
  const bus = new PortBus();
  const clock = new SimClock();
  const memory = new PhysicalMemory(1 << 20);
  const disk = new MemoryDiskImage(64);
  for (let i = 0; i < disk.bytes.length; i++) disk.bytes[i] = (i * 11 + (i >> 9)) & 0xff;
  const ide = new IdeChannel(bus, clock, disk);
  const bm = new IdeBusMaster(bus, BM, memory, ide);
  const advance = () => {
    clock.cycles += ATA_DEFAULT_COMMAND_CYCLES;
    clock.runDue();
  };
  const prd = (at: number, entries: [number, number, boolean][]) => {
    entries.forEach(([addr, len, eot], i) => {
      memory.write32(at + 8 * i, addr);
      memory.write32(at + 8 * i + 4, ((eot ? 0x80000000 : 0) | (len & 0xffff)) >>> 0);
    });
    bus.write(BM + 4, 4, at);
  };
  const issue = (cmd: number, lba: number, count: number) => {
    bus.write(B + 6, 1, 0xe0);
    bus.write(B + 2, 1, count);
    bus.write(B + 3, 1, lba);
    bus.write(B + 4, 1, 0);
    bus.write(B + 5, 1, 0);
    bus.write(B + 7, 1, cmd);
  };
  return { bus, memory, disk, ide, bm, advance, prd, issue };
}

describe("IdeBusMaster", () => {
  it("READ DMA waits for BMIC.Start, scatters along the PRDs, then INTRQ sets BMIS.Interrupt", () => {
    const { bus, memory, disk, advance, prd, issue } = setup();
    prd(0x1000, [
      [0x20000, 512, false],
      [0x30000, 1024, true],
    ]);
    bus.write(BM, 1, 0x08);
    issue(AtaCmd.READ_DMA, 4, 3);
    advance();
    expect(bus.read(B + 7, 1) & 0x80).toBe(0x80); // still BSY: not started
    bus.write(BM, 1, 0x09);
    expect(bus.read(BM + 2, 1) & BMIS_ACTIVE).toBe(BMIS_ACTIVE);
    advance();
    expect(bus.read(BM + 2, 1)).toBe(BMIS_INTERRUPT);
    expect(bus.read(B + 7, 1)).toBe(0x50);
    expect(Array.from(memory.readBytes(0x20000, 512))).toEqual(
      Array.from(disk.bytes.subarray(4 * 512, 5 * 512)),
    );
    expect(Array.from(memory.readBytes(0x30000, 1024))).toEqual(
      Array.from(disk.bytes.subarray(5 * 512, 7 * 512)),
    );
    bus.write(BM + 2, 1, BMIS_INTERRUPT);
    expect(bus.read(BM + 2, 1)).toBe(0);
  });

  it("WRITE DMA gathers from memory; a PRD table shorter than the transfer sets BMIS.Error", () => {
    const { bus, memory, disk, advance, prd, issue } = setup();
    memory.writeBytes(0x40000, new Uint8Array(1024).fill(0x5a));
    prd(0x1000, [[0x40000, 512, true]]);
    issue(AtaCmd.WRITE_DMA, 10, 2);
    bus.write(BM, 1, 0x01);
    advance();
    expect(disk.bytes[10 * 512]).toBe(0x5a);
    expect(disk.bytes[11 * 512]).not.toBe(0x5a); // the second sector had no PRD
    expect(bus.read(BM + 2, 1) & (BMIS_ERROR | BMIS_INTERRUPT)).toBe(BMIS_ERROR | BMIS_INTERRUPT);
  });

  it("a DMA command beyond the disk aborts before moving data; BMIDTP keeps bits 1:0 clear", () => {
    const { bus, advance, prd, issue } = setup();
    prd(0x1002, [[0x20000, 512, true]]);
    expect(bus.read(BM + 4, 4)).toBe(0x1000);
    issue(AtaCmd.READ_DMA, 63, 2);
    bus.write(BM, 1, 0x09);
    advance();
    expect(bus.read(B + 7, 1)).toBe(0x41);
    expect(bus.read(B + 1, 1)).toBe(0x04);
  });

  it("without a bus master READ DMA aborts", () => {
    const bus = new PortBus();
    new IdeChannel(bus, new SimClock(), new MemoryDiskImage(8));
    bus.write(B + 7, 1, AtaCmd.READ_DMA);
    expect(bus.read(B + 7, 1)).toBe(0x41);
  });
});

describe("PciConfigSpace", () => {
  it("mechanism #1 reads QEMU pc's first functions; absent ones read all ones; BARs are fixed", () => {
    const bus = new PortBus();
    const warnings: string[] = [];
    const pci = new PciConfigSpace(bus, (m) => warnings.push(m));
    addPiix3(pci);
    const cfg = (dev: number, fn: number, reg: number) => {
      bus.write(0xcf8, 4, (0x80000000 | (dev << 11) | (fn << 8) | reg) >>> 0);
      return bus.read(0xcfc, 4);
    };
    expect(cfg(0, 0, 0)).toBe(0x12378086);
    expect(cfg(1, 0, 0)).toBe(0x70008086);
    expect(cfg(1, 1, 0)).toBe(0x70108086);
    expect(cfg(1, 1, 8)).toBe(0x01018000);
    expect(cfg(1, 1, 0x20)).toBe(0xc041);
    expect(cfg(5, 0, 0)).toBe(0xffffffff);
    // Word access through 0xCFE reads the upper half of the dword.
    bus.write(0xcf8, 4, 0x80000900);
    expect(bus.read(0xcfe, 2)).toBe(0x7010);
    bus.write(0xcf8, 4, 0x80000904);
    bus.write(0xcfc, 2, 0x0005);
    expect(cfg(1, 1, 4) & 0xffff).toBe(0x0005);
    bus.write(0xcf8, 4, 0x80000920);
    bus.write(0xcfc, 4, 0xffffffff);
    expect(cfg(1, 1, 0x20)).toBe(0xc041);
    expect(warnings).toHaveLength(1);
  });
});
