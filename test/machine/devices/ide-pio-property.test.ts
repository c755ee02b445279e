/**
 * Property: any sequence of READ/WRITE SECTORS and READ/WRITE MULTIPLE (LBA28 and LBA48, random
 * multiple-mode block sizes, 16- and 32-bit data accesses) behaves like a plain array of sectors:
 * reads return what the mirror holds, writes land where the mirror says, commands past the end
 * abort with ABRT and move nothing, and the LBA registers end one past the last sector.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SimClock } from "../../../src/machine/clock.js";
import { MemoryDiskImage } from "../../../src/machine/devices/ata-disk.js";
import { AtaCmd, IDE_PRIMARY_BASE as B, IdeChannel } from "../../../src/machine/devices/ide.js";
import { PortBus } from "../../../src/machine/io-ports.js";

const SECTORS = 48;

const opArb = fc.record({
  write: fc.boolean(),
  multiple: fc.boolean(),
  lba48: fc.boolean(),
  wide: fc.boolean(),
  lba: fc.integer({ min: 0, max: SECTORS + 2 }),
  count: fc.integer({ min: 1, max: 20 }),
  mult: fc.constantFrom(1, 2, 4, 8, 16),
  seed: fc.integer({ min: 0, max: 255 }),
});

describe("IdeChannel PIO (fast-check)", () => {
  it("acts as an array of sectors", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
        const bus = new PortBus();
        const clock = new SimClock();
        const disk = new MemoryDiskImage(SECTORS);
        const mirror = new Uint8Array(SECTORS * 512);
        const ide = new IdeChannel(bus, clock, disk, { commandCycles: 10 });
        const settle = () => {
          for (let i = 0; i < 4 && bus.read(0x3f6, 1) & 0x80; i++) {
            clock.cycles += 10;
            clock.runDue();
          }
        };
        for (const op of ops) {
          settle();
          if (op.multiple) {
            bus.write(B + 2, 1, op.mult);
            bus.write(B + 7, 1, AtaCmd.SET_MULTIPLE_MODE);
            expect(bus.read(B + 7, 1)).toBe(0x50);
          }
          const block = op.multiple ? op.mult : 1;
          bus.write(B + 6, 1, 0x40);
          if (op.lba48) {
            bus.write(B + 2, 1, 0);
            bus.write(B + 2, 1, op.count);
            for (const reg of [3, 4, 5]) {
              bus.write(B + reg, 1, 0);
              bus.write(B + reg, 1, reg === 3 ? op.lba : 0);
            }
          } else {
            bus.write(B + 2, 1, op.count);
            bus.write(B + 3, 1, op.lba);
            bus.write(B + 4, 1, 0);
            bus.write(B + 5, 1, 0);
          }
          const base = op.write ? AtaCmd.WRITE_SECTORS : AtaCmd.READ_SECTORS;
          const cmd = op.multiple
            ? op.write
              ? op.lba48
                ? AtaCmd.WRITE_MULTIPLE_EXT
                : AtaCmd.WRITE_MULTIPLE
              : op.lba48
                ? AtaCmd.READ_MULTIPLE_EXT
                : AtaCmd.READ_MULTIPLE
            : op.lba48
              ? base + 4
              : base;
          bus.write(B + 7, 1, cmd);
          let done = 0;
          let aborted = false;
          let mismatches = 0;
          while (done < op.count) {
            settle();
            const st = bus.read(0x3f6, 1);
            if (st & 0x01) {
              aborted = true;
              break;
            }
            expect(st).toBe(0x58);
            const n = Math.min(block, op.count - done);
            const at = (op.lba + done) * 512;
            // The device checks each block's range before moving it (QEMU ide_sect_range_ok).
            const blockFits = op.lba + done + n <= SECTORS;
            for (let i = 0; i < n * 512; i += op.wide ? 4 : 2) {
              if (op.write) {
                const v = (op.seed * 0x01010101 + i * 0x00030001) >>> 0;
                bus.write(B, op.wide ? 4 : 2, v);
                if (blockFits)
                  for (let k = 0; k < (op.wide ? 4 : 2); k++) mirror[at + i + k] = (v >>> (8 * k)) & 0xff;
              } else {
                const v = bus.read(B, op.wide ? 4 : 2);
                for (let k = 0; k < (op.wide ? 4 : 2); k++)
                  if (((v >>> (8 * k)) & 0xff) !== mirror[at + i + k]) mismatches++;
              }
            }
            done += n;
          }
          settle();
          const fits = op.lba + op.count <= SECTORS;
          if (bus.read(0x3f6, 1) & 0x01) aborted = true;
          expect(mismatches).toBe(0);
          expect(aborted).toBe(!fits);
          if (aborted) {
            expect(bus.read(B + 1, 1)).toBe(0x04);
          } else {
            expect(bus.read(B + 7, 1)).toBe(0x50);
            expect(bus.read(B + 3, 1)).toBe((op.lba + op.count) & 0xff);
          }
          expect(Buffer.compare(disk.bytes, mirror)).toBe(0);
        }
        void ide;
      }),
      { numRuns: 120 },
    );
  });
});
