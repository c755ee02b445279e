/**
 * Property: for random sequences of frames among three domains (random sender, receiver, size
 * from a runt-free 14 bytes to a 3-slot 9000, broadcast included), every frame is delivered to
 * its addressee exactly once, intact, and in send order per (sender, receiver) pair; frames a
 * NIC filter would discard (unicast for someone else, flooded before learning) are the only
 * extras, and nothing is dropped.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BROADCAST,
  buildFrame,
  FrameKind,
  parseFrame,
  sameMac,
} from "../../../samples/ts-guests/net/frame.js";
import { guestMac, runNet } from "../../../samples/ts-guests/net/run-net.js";

interface Cmd {
  from: number;
  /** 0 = broadcast, else a domain id 1…3 other than `from`. */
  to: number;
  size: number;
}

const cmdArb = fc
  .record({
    from: fc.integer({ min: 1, max: 3 }),
    toPick: fc.integer({ min: 0, max: 2 }),
    size: fc.oneof(fc.integer({ min: 20, max: 1514 }), fc.constantFrom(20, 4096, 4097, 9000)),
  })
  .map(({ from, toPick, size }): Cmd => {
    const others = [1, 2, 3].filter((d) => d !== from);
    return { from, to: toPick === 2 ? 0 : others[toPick]!, size };
  });

describe("netif delivery (property)", () => {
  it("delivers every frame exactly once, intact, in order per pair", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmdArb, { minLength: 1, maxLength: 24 }), async (cmds) => {
        // Sequence numbers are global indices into cmds, so every frame is distinguishable.
        const expected = new Map<number, number[]>(); // receiver → seqs in global send order
        for (const d of [1, 2, 3]) expected.set(d, []);
        cmds.forEach((c, seq) => {
          for (const d of [1, 2, 3])
            if (d !== c.from && (c.to === 0 || c.to === d)) expected.get(d)!.push(seq);
        });
        const extras = new Map<number, number>();
        const received = new Map<number, { seq: number; from: number; intact: boolean; size: number }[]>();
        const r = await runNet({
          guests: [1, 2, 3].map((me) => ({
            workload: async (dev, inbox) => {
              const mine = cmds.map((c, seq) => ({ c, seq })).filter((x) => x.c.from === me);
              const sends = mine.map(({ c, seq }) =>
                dev.send(
                  buildFrame(c.to === 0 ? BROADCAST : guestMac(c.to), dev.mac, FrameKind.Data, seq, c.size),
                ),
              );
              const got: { seq: number; from: number; intact: boolean; size: number }[] = [];
              const want = expected.get(me)!.length;
              while (got.length < want) {
                const p = parseFrame(await inbox.next())!;
                if (p.kind !== FrameKind.Data) continue;
                // NIC filter: unicast for another station is not ours.
                if (!sameMac(p.dst, BROADCAST) && !sameMac(p.dst, dev.mac)) continue;
                got.push({ seq: p.seq, from: p.src[4]!, intact: p.intact, size: p.size });
              }
              await Promise.all(sends);
              received.set(me, got);
              // Stay until every peer finished receiving: a late disconnect never loses a frame.
              for (let i = 0; i < 300; i++) await dev.env.hypercalls.schedYield();
              // Nothing more may arrive for us (no duplicates after the expected count).
              extras.set(
                me,
                inbox.frames.filter((f) => {
                  const p = parseFrame(f);
                  return p?.kind === FrameKind.Data && (sameMac(p.dst, BROADCAST) || sameMac(p.dst, dev.mac));
                }).length,
              );
            },
          })),
        });
        expect(r.fronts.map((f) => f.guest.failure)).toEqual([null, null, null]);
        for (const d of [1, 2, 3]) {
          const got = received.get(d)!;
          expect(got.every((g) => g.intact && g.size === Math.max(20, cmds[g.seq]!.size))).toBe(true);
          // Exactly once: same multiset; in order per sender.
          expect([...got.map((g) => g.seq)].sort((a, b) => a - b)).toEqual(expected.get(d));
          for (const s of [1, 2, 3]) {
            const fromS = got.filter((g) => g.from === s).map((g) => g.seq);
            expect(fromS).toEqual([...fromS].sort((a, b) => a - b));
          }
          expect(r.back.guest.backs.get(d)!.counters.rxDropped).toBe(0);
          expect(extras.get(d)).toBe(0);
        }
      }),
      { numRuns: 12, seed: 0x6e6574 },
    );
  }, 120_000);
});
