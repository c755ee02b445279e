/**
 * Garbage on the ring (fast-check): a hostile front end fills request slots with random bytes
 * and publishes them. blkback must answer every slot, in ring order, echoing each id, with a
 * blkif status — never crash, never leave a grant mapped.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { runBlk } from "../../../samples/ts-guests/blk/run-blk.js";
import { RING_HEADER_SIZE, RING_RSP_PROD } from "../../../src/guest-sdk/index.js";
import { BLKIF_ABI_X86_32, FileBlockStore } from "../../../src/pv-drivers/index.js";
import { tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const SLOT = BLKIF_ABI_X86_32.request.size;

describe("random request slots", () => {
  it("every garbage request gets a response with its id and a blkif status", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: SLOT, maxLength: SLOT }), { minLength: 1, maxLength: 32 }),
        async (slots) => {
          const store = FileBlockStore.create(tmp.file(`fuzz-${run++}.img`), 256);
          const got: { id: number; status: number }[] = [];
          const want: number[] = [];
          let answered = 0;
          const r = await runBlk({
            guests: [
              {
                store,
                workload: async (disk) => {
                  const fr = disk.ring!.ring;
                  const page = fr.page;
                  for (const [i, bytes] of slots.entries()) {
                    const o = RING_HEADER_SIZE + i * SLOT;
                    for (let k = 0; k < SLOT; k++) page.write8(o + k, bytes[k]!);
                    want.push(page.read32(o + 4) + page.read32(o + 8) * 2 ** 32);
                  }
                  fr.reqProdPvt = slots.length;
                  if (fr.pushRequestsAndCheckNotify()) disk.channel!.notify();
                  for (let t = 0; t < 500 && page.read32(RING_RSP_PROD) < slots.length; t++)
                    await disk.env.hypercalls.schedYield();
                  answered = page.read32(RING_RSP_PROD);
                  for (let i = 0; i < answered; i++) {
                    const o = RING_HEADER_SIZE + i * SLOT;
                    got.push({
                      id: page.read32(o) + page.read32(o + 4) * 2 ** 32,
                      status: (page.read16(o + 10) << 16) >> 16,
                    });
                  }
                },
              },
            ],
          });
          store.close();
          expect(answered).toBe(slots.length);
          expect(got.map((g) => g.id)).toEqual(want);
          for (const g of got) expect([0, -1, -2]).toContain(g.status);
          expect(r.hv.domain(0)?.state).toBe("shutdown");
          expect(r.back.guest.backs.get(1)!.error).toBeNull();
          expect(r.pv.grants.mappingsOf(0)).toBe(0);
        },
      ),
      { numRuns: 30, seed: 0xb10c },
    );
  });
});
