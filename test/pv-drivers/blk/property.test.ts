/**
 * Random I/O sequences through blkfront → blkback → an image file, against an in-memory model
 * of the disk (fast-check): every read equals the model, and at the end so does the file.
 * Each run draws the data path (map or copy), indirect requests on or off, and the ABI.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { runBlk } from "../../../samples/ts-guests/blk/run-blk.js";
import { BLKIF_ABI_X86_32, BLKIF_ABI_X86_64, FileBlockStore } from "../../../src/pv-drivers/index.js";
import { diff, fileSectors, pattern, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const SECTORS = 512;

type Op =
  | { t: "write"; sector: number; count: number; seed: number }
  | { t: "discard"; sector: number; count: number }
  | { t: "flush" }
  | { t: "reads"; ranges: { sector: number; count: number }[] };

const range = fc
  .record({ sector: fc.integer({ min: 0, max: SECTORS - 1 }), count: fc.integer({ min: 1, max: 200 }) })
  .map(({ sector, count }) => ({ sector, count: Math.min(count, SECTORS - sector) }));

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(range, fc.integer({ min: 1, max: 1 << 20 }))
      .map(([r, seed]) => ({ t: "write" as const, ...r, seed })),
  },
  { weight: 1, arbitrary: range.map((r) => ({ t: "discard" as const, ...r })) },
  { weight: 1, arbitrary: fc.constant({ t: "flush" as const }) },
  {
    weight: 3,
    arbitrary: fc
      .array(range, { minLength: 1, maxLength: 4 })
      .map((ranges) => ({ t: "reads" as const, ranges })),
  },
);

describe("blkif vs an in-memory model (fast-check)", () => {
  it("random I/O sequences read back what the model holds", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 12 }),
        fc.constantFrom("map" as const, "copy" as const),
        fc.boolean(),
        fc.boolean(),
        async (ops, dataPath, indirect, abi64) => {
          const path = tmp.file(`prop-${run++}.img`);
          const store = FileBlockStore.create(path, SECTORS);
          const model = new Uint8Array(SECTORS * 512);
          const mismatches: string[] = [];
          const r = await runBlk({
            back: { dataPath },
            guests: [
              {
                store,
                front: {
                  maxIndirectSegments: indirect ? 32 : 0,
                  bufferPages: 48,
                  abi: abi64 ? BLKIF_ABI_X86_64 : BLKIF_ABI_X86_32,
                },
                workload: async (disk) => {
                  for (const [i, o] of ops.entries()) {
                    if (o.t === "write") {
                      const d = pattern(o.count, o.seed);
                      await disk.write(o.sector, d);
                      model.set(d, o.sector * 512);
                    } else if (o.t === "discard") {
                      await disk.discard(o.sector, o.count);
                      model.fill(0, o.sector * 512, (o.sector + o.count) * 512);
                    } else if (o.t === "flush") {
                      await disk.flush();
                    } else {
                      const got = await Promise.all(o.ranges.map((x) => disk.read(x.sector, x.count)));
                      o.ranges.forEach((x, j) => {
                        const want = model.subarray(x.sector * 512, (x.sector + x.count) * 512);
                        if (!got[j]!.every((b, k) => b === want[k]))
                          mismatches.push(`op ${i} read ${x.sector}+${x.count}`);
                      });
                    }
                  }
                },
              },
            ],
          });
          store.close();
          expect(r.fronts[0]!.guest.failure).toBeNull();
          expect(mismatches).toEqual([]);
          expect(diff(fileSectors(path, 0, SECTORS), model)).toBe(-1);
          expect(r.pv.grants.mappingsOf(0)).toBe(0);
        },
      ),
      { numRuns: 25, seed: 0x5eed },
    );
  });
});
