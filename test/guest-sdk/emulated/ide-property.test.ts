/**
 * Property: through the TS runtime's port interface, IdeDisk behaves as an array of sectors —
 * PIO (multiple mode or one sector per DRQ block) and bus-master DMA, requests that split over
 * the 16-sector bounce buffer, and out-of-range requests that fail with ABRT and change nothing
 * after the last good block.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runIde } from "../../../samples/ts-guests/emulated/run-ide.js";
import { AtaError, IdeDisk } from "../../../src/guest-sdk/index.js";
import { MemoryDiskImage } from "../../../src/machine/index.js";

const SECTORS = 96;

type Op = { write: boolean; sector: number; count: number; seed: number };

const op = fc.record({
  write: fc.boolean(),
  sector: fc.integer({ min: 0, max: SECTORS + 4 }),
  count: fc.integer({ min: 1, max: 40 }),
  seed: fc.integer({ min: 0, max: 255 }),
});

const fill = (n: number, seed: number) => new Uint8Array(n * 512).map((_, i) => (i * 7 + seed) & 0xff);

describe("IdeDisk is an array of sectors", () => {
  it("for random reads and writes over PIO and DMA", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 6 }),
        fc.constantFrom("pio-multiple", "pio-single", "dma"),
        async (ops: Op[], how) => {
          const image = new MemoryDiskImage(SECTORS);
          const model = new Uint8Array(SECTORS * 512);
          const mismatches: string[] = [];
          const r = await runIde({
            mode: "trapped",
            memoryBytes: 2 << 20,
            guests: [
              {
                image,
                busMaster: how === "dma",
                workload: async (_d, ctx) => {
                  // A second driver instance on the same channel with the chosen mode.
                  const disk = how === "pio-single" ? new IdeDisk(ctx, { multiple: false }) : _d;
                  if (disk !== _d) await disk.init();
                  for (const o of ops) {
                    const inRange = o.sector + o.count <= SECTORS;
                    try {
                      if (o.write) {
                        const data = fill(o.count, o.seed);
                        await disk.write(o.sector, data);
                        model.set(data, o.sector * 512);
                      } else {
                        const got = await disk.read(o.sector, o.count);
                        const want = model.subarray(o.sector * 512, (o.sector + o.count) * 512);
                        if (!got.every((b, i) => b === want[i]))
                          mismatches.push(`read ${o.sector}+${o.count}`);
                      }
                      if (!inRange) mismatches.push(`no error for ${o.sector}+${o.count}`);
                    } catch (e) {
                      if (inRange || !(e instanceof AtaError) || e.error !== 0x04) throw e;
                      if (o.write) {
                        // The device checks each DRQ block (PIO) or command (DMA) before moving
                        // it; the driver issues commands of at most 16 sectors and stops at the
                        // first abort. So whole commands (or, one sector per block, whole
                        // sectors) below the end were written, nothing after.
                        const unit = how === "pio-single" ? 1 : 16;
                        const data = fill(o.count, o.seed);
                        for (let done = 0; done < o.count; done += 16) {
                          const n = Math.min(16, o.count - done);
                          let k = 0;
                          while (k < n && o.sector + done + k + Math.min(unit, n - k) <= SECTORS)
                            k += Math.min(unit, n - k);
                          if (k > 0)
                            model.set(data.subarray(done * 512, (done + k) * 512), (o.sector + done) * 512);
                          if (k < n) break;
                        }
                      }
                    }
                  }
                },
              },
            ],
          });
          if (r.guests[0]!.guest.failure) throw r.guests[0]!.guest.failure;
          expect(mismatches).toEqual([]);
          // Buffer.equals: vitest's deep equality walks a 48 KiB array element by element.
          expect(Buffer.from(image.bytes).equals(Buffer.from(model))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
