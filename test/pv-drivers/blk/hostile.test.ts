/**
 * Hostile front ends: malformed requests are answered with BLKIF_RSP_ERROR / EOPNOTSUPP and
 * leave the disk untouched; a front end that breaks the ring protocol is disconnected with a
 * precise error in the store, while another front end of the same back end keeps working.
 */
import { afterAll, describe, expect, it } from "vitest";
import { runBlk } from "../../../samples/ts-guests/blk/run-blk.js";
import { RING_REQ_PROD, XenbusState } from "../../../src/guest-sdk/index.js";
import {
  BLKIF_ABI_X86_32,
  type BlkFrontend,
  type BlkifAbi,
  BlkifOp,
  type BlkifRequest,
  type BlkifSegment,
  BlkifStatus,
  FileBlockStore,
} from "../../../src/pv-drivers/index.js";
import { diff, fileSectors, pattern, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const rw = (
  operation: number,
  sectorNumber: number,
  segments: BlkifSegment[],
  nrSegments = segments.length,
): BlkifRequest => ({
  kind: "rw",
  operation,
  id: 0,
  handle: 0,
  nrSegments,
  sectorNumber,
  segments,
});

/** A page of the front end granted to dom0 (read-only if asked), filled with `fill`. */
function grantPage(disk: BlkFrontend, readonly: boolean, fill = 0xee): { pfn: number; gref: number } {
  const pfn = disk.env.ctx.allocPage();
  disk.env.ctx.mem.writeBytes(pfn * 4096, new Uint8Array(4096).fill(fill));
  return { pfn, gref: disk.env.grants.grantAccess(0, pfn, readonly) };
}

describe("hostile front end", () => {
  it("malformed requests get error statuses; the disk and the connection survive", async () => {
    const path = tmp.file("hostile.img");
    const store = FileBlockStore.create(path, 128);
    store.write(0, pattern(128, 21));
    const statuses: Record<string, number> = {};
    let after: Uint8Array | null = null;
    const r = await runBlk({
      guests: [
        {
          store,
          workload: async (disk) => {
            const w = grantPage(disk, true); // fine for WRITE
            const ro = grantPage(disk, true); // read-only: a READ cannot land in it
            const revoked = grantPage(disk, false);
            disk.env.grants.endAccess(revoked.gref);
            const other = disk.env.ctx.allocPage();
            const toOther = disk.env.grants.grantAccess(5, other); // granted to someone else
            const seg = (gref: number, firstSect = 0, lastSect = 7) => [{ gref, firstSect, lastSect }];
            const cases: Record<string, BlkifRequest> = {
              badGref: rw(BlkifOp.Write, 0, seg(4000)),
              revokedGrant: rw(BlkifOp.Read, 0, seg(revoked.gref)),
              grantedToOther: rw(BlkifOp.Read, 0, seg(toOther)),
              readIntoReadOnlyGrant: rw(BlkifOp.Read, 0, seg(ro.gref)),
              firstAfterLast: rw(BlkifOp.Write, 0, seg(w.gref, 5, 4)),
              lastSectPastPage: rw(BlkifOp.Write, 0, seg(w.gref, 0, 8)),
              pastEndOfDisk: rw(BlkifOp.Write, 124, seg(w.gref)),
              hugeSector: rw(BlkifOp.Write, 2 ** 60, seg(w.gref)),
              zeroSegments: rw(BlkifOp.Read, 0, []),
              twelveSegments: rw(
                BlkifOp.Write,
                0,
                Array.from({ length: 11 }, () => seg(w.gref, 0, 0)[0]!),
                12,
              ),
              flushWithSegments: rw(BlkifOp.FlushDiskcache, 0, seg(w.gref)),
              discardPastEnd: {
                kind: "discard",
                operation: BlkifOp.Discard,
                id: 0,
                flag: 0,
                handle: 0,
                sectorNumber: 100,
                nrSectors: 29,
              },
              indirectBadPage: {
                kind: "indirect",
                operation: BlkifOp.Indirect,
                indirectOp: BlkifOp.Write,
                nrSegments: 2,
                id: 0,
                handle: 0,
                sectorNumber: 0,
                indirectGrefs: [4001],
              },
              indirectTooMany: {
                kind: "indirect",
                operation: BlkifOp.Indirect,
                indirectOp: BlkifOp.Write,
                nrSegments: 257,
                id: 0,
                handle: 0,
                sectorNumber: 0,
                indirectGrefs: [w.gref],
              },
              indirectBadOp: {
                kind: "indirect",
                operation: BlkifOp.Indirect,
                indirectOp: BlkifOp.Discard,
                nrSegments: 1,
                id: 0,
                handle: 0,
                sectorNumber: 0,
                indirectGrefs: [w.gref],
              },
              reserved1: { kind: "unknown", operation: BlkifOp.Reserved1, id: 0 },
              unknown200: { kind: "unknown", operation: 200, id: 0 },
            };
            // All at once: one batch with every kind of garbage in it.
            const rsps = await Promise.all(Object.values(cases).map((c) => disk.raw(c)));
            Object.keys(cases).forEach((k, i) => {
              statuses[k] = rsps[i]!.status;
            });
            // The connection still works.
            await disk.write(0, pattern(1, 99));
            after = await disk.read(0, 1);
          },
        },
      ],
    });
    expect(r.end).toBe("all-halted");
    expect(r.fronts[0]!.guest.failure).toBeNull();
    const E = BlkifStatus.Error;
    expect(statuses).toEqual({
      badGref: E,
      revokedGrant: E,
      grantedToOther: E,
      readIntoReadOnlyGrant: E,
      firstAfterLast: E,
      lastSectPastPage: E,
      pastEndOfDisk: E,
      hugeSector: E,
      zeroSegments: E,
      twelveSegments: E,
      flushWithSegments: E,
      discardPastEnd: E,
      indirectBadPage: E,
      indirectTooMany: E,
      indirectBadOp: E,
      reserved1: BlkifStatus.EOpNotSupp,
      unknown200: BlkifStatus.EOpNotSupp,
    });
    expect(diff(after, pattern(1, 99))).toBe(-1);
    // Nothing the bad requests carried reached the image: only sector 0 changed.
    expect(diff(fileSectors(path, 1, 127), pattern(128, 21).subarray(512))).toBe(-1);
    const c = r.back.guest.backs.get(1)!.counters;
    expect(c.errors).toBe(15);
    expect(c.eopnotsupp).toBe(2);
    expect(r.pv.grants.mappingsOf(0)).toBe(0);
    store.close();
  });

  it("an overflowing req_prod disconnects that front end only, with the reason in the store", async () => {
    const good = FileBlockStore.create(tmp.file("good.img"), 256);
    const bad = FileBlockStore.create(tmp.file("bad.img"), 256);
    const seen: Record<string, unknown> = {};
    const r = await runBlk({
      guests: [
        {
          store: bad,
          workload: async (disk) => {
            disk.ring!.ring.page.write32(RING_REQ_PROD, 1000); // 1000 requests in a 32-slot ring
            disk.channel!.notify();
            // Wait until the back end gives up on us.
            for (let i = 0; i < 200; i++) {
              const st = await disk.env.store.tryRead(`${disk.backendDir}/state`);
              if (Number(st) >= XenbusState.Closing) break;
              await disk.env.hypercalls.schedYield();
            }
            seen.error = await disk.env.store.tryRead(`${disk.backendDir}/error`);
            seen.state = Number(await disk.env.store.tryRead(`${disk.backendDir}/state`));
            // I/O on a ring the back end gave up fails with its reason instead of hanging.
            seen.io = await disk.read(0, 8).then(
              () => "resolved",
              (e: unknown) => (e instanceof Error ? e.message : String(e)),
            );
          },
        },
        {
          store: good,
          workload: async (disk) => {
            const out: Uint8Array[] = [];
            for (let i = 0; i < 8; i++) {
              await disk.write(i * 16, pattern(16, i));
              out.push(await disk.read(i * 16, 16));
            }
            seen.good = out.every((b, i) => diff(b, pattern(16, i)) === -1);
          },
        },
      ],
    });
    expect(r.end).toBe("all-halted");
    const reason =
      "ring protocol error by the frontend: req_prod 1000 overflows the ring: 1000 requests past rsp_prod_pvt 0 in a 32-slot ring";
    expect(r.back.guest.backs.get(1)!.error).toBe(reason);
    expect(seen.error).toBe(reason);
    expect(seen.state).toBe(XenbusState.Closing);
    expect(seen.io).toBe(`back end /local/domain/0/backend/vbd/1/0 is closing (state 5): ${reason}`);
    expect(seen.good).toBe(true);
    expect(r.back.guest.backs.get(1)!.counters.requests).toBe(0);
    expect(r.back.guest.backs.get(2)!.error).toBeNull();
    for (const d of [0, 1, 2]) expect(r.hv.domain(d)?.state).toBe("shutdown");
    expect(r.pv.grants.mappingsOf(0)).toBe(0);
    good.close();
    bad.close();
  });

  it("an unknown protocol fails the handshake with the reason in the store; the back end closes", async () => {
    const store = FileBlockStore.create(tmp.file("proto.img"), 64);
    let ran = false;
    const r = await runBlk({
      guests: [
        {
          store,
          front: { abi: { ...BLKIF_ABI_X86_32, name: "arm-abi" } as unknown as BlkifAbi },
          workload: async () => {
            ran = true;
          },
        },
      ],
    });
    store.close();
    const back = r.back.guest.backs.get(1)!;
    expect(back.error).toBe(
      '/local/domain/1/device/vbd/0/protocol "arm-abi" is not x86_32-abi or x86_64-abi',
    );
    expect(r.pv.store.hostRead("/local/domain/0/backend/vbd/1/0/error")).toBe(back.error);
    expect(r.pv.store.hostRead("/local/domain/0/backend/vbd/1/0/state")).toBe(String(XenbusState.Closed));
    expect(ran).toBe(false);
    expect(r.hv.domain(0)?.state).toBe("shutdown");
    expect(r.end).not.toBe("deadlock");
    expect(r.pv.grants.mappingsOf(0)).toBe(0);
  });
});
