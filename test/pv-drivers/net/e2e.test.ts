/**
 * netfront ↔ netback ↔ switch end to end with TS domains: ping between two domains, flooding,
 * learning and unicast among three, multi-slot frames both ways, checksum flags carried to the
 * receiver, store keys, grants released, and rx starvation drops counted exactly.
 */
import { describe, expect, it } from "vitest";
import {
  BROADCAST,
  buildFrame,
  FrameKind,
  parseFrame,
  sameMac,
} from "../../../samples/ts-guests/net/frame.js";
import type { NetBackGuest } from "../../../samples/ts-guests/net/net-backend.js";
import { guestMac, pinger, ponger, runNet } from "../../../samples/ts-guests/net/run-net.js";
import { NetifStatus, NetTxFlag, RAW_TX_ID_BASE } from "../../../src/pv-drivers/index.js";

const A = guestMac(1);
const B = guestMac(2);
const C = guestMac(3);

describe("netif end to end", () => {
  it("two domains ping each other; grants and mappings are released afterwards", async () => {
    const log: string[] = [];
    const keys: Record<string, string | undefined> = {};
    const r = await runNet({
      guests: [
        {
          workload: async (dev, inbox, ctx) => {
            for (const k of ["tx-ring-ref", "rx-ring-ref", "event-channel", "request-rx-copy", "mac"])
              keys[`front/${k}`] = await dev.env.store.tryRead(`${dev.dir}/${k}`);
            for (const k of ["feature-rx-copy", "feature-sg", "mac", "state"])
              keys[`back/${k}`] = await dev.env.store.tryRead(`${dev.backendDir}/${k}`);
            await pinger(B, 5, 100, log)(dev, inbox, ctx);
          },
        },
        { workload: ponger(5) },
      ],
    });
    expect(r.fronts.map((f) => f.guest.failure)).toEqual([null, null]);
    expect(r.end).toBe("all-halted");
    expect(log).toHaveLength(5);
    expect(log[4]).toMatch(/^100 bytes from 00:16:3e:00:02:00: seq=5/);
    expect(keys).toMatchObject({
      "front/request-rx-copy": "1",
      "front/mac": "00:16:3e:00:01:00",
      "back/feature-rx-copy": "1",
      "back/feature-sg": "1",
      "back/mac": "00:16:3e:00:01:00",
      "back/state": "4",
    });
    expect(Number(keys["front/tx-ring-ref"])).toBeGreaterThanOrEqual(8);
    const a = r.back.guest.backs.get(1)!.counters;
    const b = r.back.guest.backs.get(2)!.counters;
    expect([a.txFrames, a.rxFrames, b.txFrames, b.rxFrames]).toEqual([5, 6, 5, 6]); // + START each
    expect([a.txErrors, a.rxDropped, b.txErrors, b.rxDropped]).toEqual([0, 0, 0, 0]);
    // Payload: 5 × 100 each way copied twice (tx into dom0, rx into the peer), plus 2 STARTs of 64.
    expect(a.bytesCopied + b.bytesCopied).toBe(4 * 5 * 100 + 2 * 64);
    expect(r.fronts[0]!.guest.dev!.counters).toMatchObject({ txFrames: 5, rxFrames: 6, txErrors: 0 });
    // Every ring unmapped, every grant pinned by dom0 released.
    expect(r.pv.grants.mappingsOf(0)).toBe(0);
    expect(r.pv.grants.pinnedOf(1)).toBe(0);
    expect(r.pv.grants.pinnedOf(2)).toBe(0);
  });

  it("three domains: broadcast floods, the switch learns, later unicast reaches only its target", async () => {
    const seenByB: string[] = [];
    const r = await runNet({
      guests: [
        {
          // A: broadcast, wait for B's pong; ping C (unknown: flooded), wait; ping C again (learned).
          workload: async (dev, inbox) => {
            const pong = (seq: number) => (f: Uint8Array) => {
              const p = parseFrame(f);
              return p?.kind === FrameKind.Pong && p.seq === seq;
            };
            await dev.send(buildFrame(BROADCAST, dev.mac, FrameKind.Data, 1));
            await inbox.next(pong(1));
            await dev.send(buildFrame(C, dev.mac, FrameKind.Ping, 2));
            await inbox.next(pong(2));
            await dev.send(buildFrame(C, dev.mac, FrameKind.Ping, 3));
            await inbox.next(pong(3));
          },
        },
        {
          // B: answers the broadcast, then sees A's first ping to C (flooded), which is not for it.
          workload: async (dev, inbox) => {
            const bc = parseFrame(await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Data))!;
            seenByB.push(`data ${bc.seq}`);
            await dev.send(buildFrame(bc.src, dev.mac, FrameKind.Pong, 1));
            const p = parseFrame(await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Ping))!;
            seenByB.push(`ping ${p.seq} for ${sameMac(p.dst, C) ? "C" : "?"}`);
          },
        },
        {
          workload: async (dev, inbox) => {
            await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Data);
            for (let n = 0; n < 2; n++) {
              const p = parseFrame(
                await inbox.next(
                  (f) => parseFrame(f)?.kind === FrameKind.Ping && sameMac(f.subarray(0, 6), dev.mac),
                ),
              )!;
              await dev.send(buildFrame(p.src, dev.mac, FrameKind.Pong, p.seq));
            }
          },
        },
      ],
    });
    expect(r.fronts.map((f) => f.guest.failure)).toEqual([null, null, null]);
    expect(seenByB).toEqual(["data 1", "ping 2 for C"]);
    // START(flood) + broadcast(flood) + pong1 + ping2(flood: C unknown) + pong2 + ping3 + pong3.
    expect(r.sw.counters).toMatchObject({ frames: 7, flooded: 3, unicast: 4, dropped: 0 });
    const port = (fe: number) => r.back.guest.backs.get(fe)!.port!.counters;
    expect(port(1)).toMatchObject({ inFrames: 3, outFrames: 4, flooded: 2 }); // START, pong1..3
    expect(port(2)).toMatchObject({ inFrames: 1, outFrames: 3 }); // START, broadcast, ping2
    expect(port(3)).toMatchObject({ inFrames: 2, outFrames: 4 }); // START, broadcast, ping2, ping3
    expect(r.back.guest.backs.get(3)!.counters.rxFrames).toBe(4);
  });

  it("multi-slot frames (more_data) cross intact both ways; checksum flags reach the receiver", async () => {
    const sizes = [4096, 4097, 9000, 20000, 1514];
    const got: { size: number; intact: boolean }[] = [];
    let rawStatus: number[] = [];
    const r = await runNet({
      guests: [
        {
          workload: async (dev, inbox) => {
            for (const [i, s] of sizes.entries())
              await dev.send(buildFrame(B, dev.mac, FrameKind.Data, i, s));
            // A hand-built 2-slot frame with NETTXF_csum_blank: first slot says 3000 bytes total.
            const pfns = [dev.env.ctx.allocPage(), dev.env.ctx.allocPage()];
            const f = buildFrame(B, dev.mac, FrameKind.Data, 99, 3000);
            dev.env.ctx.mem.writeBytes(pfns[0]! * 4096 + 100, f.subarray(0, 2000));
            dev.env.ctx.mem.writeBytes(pfns[1]! * 4096 + 8, f.subarray(2000));
            const g = pfns.map((p) => dev.env.grants.grantAccess(0, p, true));
            const rsps = await dev.rawTx([
              {
                gref: g[0]!,
                offset: 100,
                flags: NetTxFlag.MoreData | NetTxFlag.CsumBlank,
                id: RAW_TX_ID_BASE,
                size: 3000,
              },
              { gref: g[1]!, offset: 8, flags: 0, id: RAW_TX_ID_BASE + 1, size: 1000 },
            ]);
            rawStatus = rsps.map((x) => x.status);
            await inbox.next((x) => parseFrame(x)?.kind === FrameKind.Pong);
          },
        },
        {
          workload: async (dev, inbox) => {
            for (let n = 0; n <= sizes.length; n++) {
              const p = parseFrame(await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Data))!;
              got.push({ size: p.size, intact: p.intact });
            }
            await dev.send(buildFrame(A, dev.mac, FrameKind.Pong, 0, 8192));
          },
        },
      ],
    });
    expect(r.fronts.map((f) => f.guest.failure)).toEqual([null, null]);
    expect(rawStatus).toEqual([NetifStatus.Okay, NetifStatus.Okay]);
    expect(got).toEqual([...sizes, 3000].map((size) => ({ size, intact: true })));
    const a = r.back.guest.backs.get(1)!.counters;
    // Slots: 1 + 2 + 3 + 5 + 1 + 2 (raw) on the tx ring.
    expect(a.txSlots).toBe(14);
    expect(a.rxFrames).toBe(2); // START and the 8192-byte pong (2 rx buffers)
    expect(r.fronts[0]!.guest.dev!.counters.rxBytes).toBe(64 + 8192);
    // netback maps a blank checksum to NETRXF_csum_blank | NETRXF_data_validated (Linux does too).
    expect(r.fronts[1]!.guest.dev!.counters).toMatchObject({ rxCsumBlank: 1, rxDataValidated: 1 });
  });

  it("a receiver that posted too few rx buffers loses frames, and the drops are counted exactly", async () => {
    let received = 0;
    const r = await runNet({
      guests: [
        {
          workload: async (dev, inbox) => {
            // Teach the switch B's port first, so the burst is unicast.
            await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Pong);
            await Promise.all(
              Array.from({ length: 20 }, (_, i) => dev.send(buildFrame(B, dev.mac, FrameKind.Data, i))),
            );
            for (let i = 0; i < 200; i++) await dev.env.hypercalls.schedYield();
            await dev.send(buildFrame(B, dev.mac, FrameKind.Ping, 1000));
          },
        },
        {
          front: { rxBuffers: 4 },
          workload: async (dev, inbox) => {
            await dev.send(buildFrame(BROADCAST, dev.mac, FrameKind.Pong, 0));
            for (;;) {
              const p = parseFrame(await inbox.next())!;
              if (p.kind === FrameKind.Ping) break;
              if (p.kind === FrameKind.Data) received++;
            }
          },
        },
      ],
    });
    expect(r.fronts.map((f) => f.guest.failure)).toEqual([null, null]);
    const b = r.back.guest.backs.get(2)!.counters;
    expect(b.rxDropped).toBeGreaterThan(0);
    expect(received + b.rxDropped).toBe(20);
    expect(b.rxFrames).toBe(received + 2); // + START + the final ping
    expect(r.back.guest.backs.get(2)!.port!.counters.outFrames).toBe(22);
    expect(r.back.guest.backs.get(1)!.counters.txFrames).toBe(21);
  });

  it("is deterministic: the same run gives the same cycles, counters and log", async () => {
    const once = async () => {
      const log: string[] = [];
      const r = await runNet({ guests: [{ workload: pinger(B, 4, 300, log) }, { workload: ponger(4) }] });
      return {
        log,
        cycles: r.hv.clock.cycles,
        c: r.back.guest.backs.get(1)!.counters,
        sw: { ...r.sw.counters },
      };
    };
    const x = await once();
    const y = await once();
    expect(x.log).toHaveLength(4);
    expect(y).toEqual(x);
  });

  it("runs the same way between MIPS-ABI domains", async () => {
    const log: string[] = [];
    const r = await runNet({
      arch: "mips",
      guests: [{ workload: pinger(B, 3, 1000, log) }, { workload: ponger(3) }],
    });
    expect(r.fronts.map((f) => f.guest.failure)).toEqual([null, null]);
    expect(r.fronts[0]!.domain.arch).toBe("mips");
    expect(log).toHaveLength(3);
    expect(r.back.guest.backs.get(2)!.counters.rxFrames).toBe(4);
  });

  it("batches: 32 frames sent in one turn are one push, one back-end batch, one response push", async () => {
    const seen: Record<string, number> = {};
    let dom0: NetBackGuest | null = null;
    const r = await runNet({
      guests: [
        {
          workload: async (dev, inbox) => {
            const back = () => dom0!.backs.get(1)!;
            const tx = dev.txRing!.counters;
            const before = { pushes: tx.pushes, notes: tx.notifications, batches: back().counters.txBatches };
            const rspPushes = back().txRing!.counters.pushes;
            await Promise.all(
              Array.from({ length: 32 }, (_, i) => dev.send(buildFrame(B, dev.mac, FrameKind.Data, i, 200))),
            );
            seen.pushes = tx.pushes - before.pushes;
            seen.notifications = tx.notifications - before.notes;
            seen.batches = back().counters.txBatches - before.batches;
            seen.responsePushes = back().txRing!.counters.pushes - rspPushes;
            await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Pong);
          },
        },
        {
          workload: async (dev, inbox) => {
            for (let n = 0; n < 32; n++) await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Data);
            await dev.send(buildFrame(A, dev.mac, FrameKind.Pong, 0));
          },
        },
      ],
      before: (_hv, _pv, b) => {
        dom0 = b;
      },
    });
    expect(r.fronts.map((f) => f.guest.failure)).toEqual([null, null]);
    expect(seen).toEqual({ pushes: 1, notifications: 1, batches: 1, responsePushes: 1 });
    expect(r.back.guest.backs.get(2)!.counters.rxBatches).toBeLessThanOrEqual(3); // START, the burst (+ maybe a split)
  });
});
