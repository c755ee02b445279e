/**
 * blkfront in one TS domain against blkback in dom0, end to end on real image files: data is
 * checked against the bytes of the file on the host, flush must reach fsync, large transfers
 * split into ≤ 11-segment or indirect requests, and every grant is released afterwards.
 */
import "reflect-metadata";
import { container, inject, injectable } from "tsyringe";
import { afterEach, describe, expect, it } from "vitest";
import { runBlk } from "../../../samples/ts-guests/blk/run-blk.js";
import {
  BLKIF_ABI_X86_64,
  type BlkDataPath,
  BlkifOp,
  BlkifStatus,
  type BlockDevice,
  BlockDeviceToken,
  BlockIoError,
  BlockRequestError,
  FileBlockStore,
} from "../../../src/pv-drivers/index.js";
import { diff, fileSectors, pattern, spyFileOps, tempDir } from "./helpers.js";

const tmp = tempDir();
afterEach(() => undefined);
process.on("exit", () => tmp.cleanup());

describe.each(["map", "copy"] as BlkDataPath[])("blkif end to end, %s data path", (dataPath) => {
  it("writes, reads back, flushes (fsync) and discards; the image file holds the data", async () => {
    const fs = spyFileOps();
    const path = tmp.file(`e2e-${dataPath}.img`);
    const store = FileBlockStore.create(path, 4096, { fs });
    const small = pattern(3, 1); // 3 sectors: one partial segment
    const big = pattern(200, 2); // 25 pages: three requests of ≤ 11 segments
    const seen: Record<string, unknown> = {};
    const r = await runBlk({
      back: { dataPath },
      guests: [
        {
          store,
          workload: async (disk) => {
            seen.sectors = disk.sectors;
            await disk.write(5, small);
            await disk.write(1000, big);
            seen.small = await disk.read(5, 3);
            seen.big = await disk.read(1000, 200);
            seen.fsyncBefore = fs.calls.fsync;
            await disk.flush();
            seen.fsyncAfter = fs.calls.fsync;
            await disk.discard(1000, 8);
            seen.afterDiscard = await disk.read(1000, 16);
          },
        },
      ],
    });
    store.close();
    const front = r.fronts[0]!.guest;
    expect(front.failure).toBeNull();
    expect(r.end).toBe("all-halted");
    expect(seen.sectors).toBe(4096);
    expect(diff(seen.small, small)).toBe(-1);
    expect(diff(seen.big, big)).toBe(-1);
    expect(seen.fsyncBefore).toBe(0);
    expect(seen.fsyncAfter).toBe(1);
    // On the host: the file holds what the guest wrote, and the discarded sectors are zero.
    expect(diff(fileSectors(path, 5, 3), small)).toBe(-1);
    expect(diff(fileSectors(path, 1008, 192), big.subarray(8 * 512))).toBe(-1);
    expect(diff(fileSectors(path, 1000, 8), new Uint8Array(8 * 512))).toBe(-1);
    expect(diff((seen.afterDiscard as Uint8Array).subarray(0, 8 * 512), new Uint8Array(8 * 512))).toBe(-1);
    expect(diff((seen.afterDiscard as Uint8Array).subarray(8 * 512), big.subarray(8 * 512, 16 * 512))).toBe(
      -1,
    );
    // 1 + 3 write requests, 1 + 3 + 1 (16 sectors) read requests, flush, discard.
    const c = r.back.guest.backs.get(1)!.counters;
    expect(c.requests).toBe(11);
    expect(c.okay).toBe(11);
    expect(c.sectorsWritten).toBe(203);
    expect(c.flushes).toBe(1);
    expect(c.discards).toBe(1);
    const bytes = (203 + 3 + 200 + 16) * 512;
    if (dataPath === "map") {
      expect(c.bytesMapped).toBe(bytes);
      expect(c.bytesCopied).toBe(0);
    } else {
      expect(c.bytesCopied).toBe(bytes);
      expect(c.pagesMapped).toBe(0);
    }
    expect(front.front!.counters.leakedPages).toBe(0);
    expect(r.pv.grants.mappingsOf(0)).toBe(0);
    expect(r.pv.grants.pinnedOf(1)).toBe(0);
  });
});

describe("blkif features", () => {
  it("publishes the blkif.h store keys on both sides", async () => {
    const store = FileBlockStore.create(tmp.file("keys.img"), 2048);
    const keys: Record<string, string | undefined> = {};
    const r = await runBlk({
      guests: [
        {
          store,
          workload: async (disk) => {
            const be = disk.backendDir;
            for (const k of [
              "sectors",
              "sector-size",
              "info",
              "feature-flush-cache",
              "feature-barrier",
              "feature-discard",
              "feature-max-indirect-segments",
            ])
              keys[`back/${k}`] = await disk.env.store.tryRead(`${be}/${k}`);
            for (const k of ["ring-ref", "event-channel", "protocol", "state"])
              keys[`front/${k}`] = await disk.env.store.tryRead(`${disk.dir}/${k}`);
          },
        },
      ],
    });
    store.close();
    expect(r.end).toBe("all-halted");
    expect(keys).toMatchObject({
      "back/sectors": "2048",
      "back/sector-size": "512",
      "back/info": "0",
      "back/feature-flush-cache": "1",
      "back/feature-barrier": "1",
      "back/feature-discard": "1",
      "back/feature-max-indirect-segments": "256",
      "front/protocol": "x86_32-abi",
      "front/state": "4",
    });
    expect(Number(keys["front/ring-ref"])).toBeGreaterThanOrEqual(8);
    expect(Number(keys["front/event-channel"])).toBeGreaterThan(0);
  });

  it("uses indirect requests when both sides allow them", async () => {
    const path = tmp.file("indirect.img");
    const store = FileBlockStore.create(path, 4096);
    const data = pattern(256, 3); // 32 pages: one indirect request of 32 segments
    let back: Uint8Array | null = null;
    const r = await runBlk({
      guests: [
        {
          store,
          front: { maxIndirectSegments: 32, bufferPages: 80 },
          workload: async (disk) => {
            expect(disk.segmentsPerRequest).toBe(32);
            await disk.write(64, data);
            back = await disk.read(64, 256);
          },
        },
      ],
    });
    store.close();
    const fe = r.fronts[0]!.guest;
    expect(fe.failure).toBeNull();
    expect(diff(back, data)).toBe(-1);
    expect(diff(fileSectors(path, 64, 256), data)).toBe(-1);
    expect(fe.front!.counters.indirectRequests).toBe(2);
    expect(r.back.guest.backs.get(1)!.counters.requests).toBe(2);
  });

  it("speaks the x86_64 ABI when the front end asks for it", async () => {
    const store = FileBlockStore.create(tmp.file("abi64.img"), 512);
    const data = pattern(24, 4);
    let back: Uint8Array | null = null;
    const r = await runBlk({
      guests: [
        {
          store,
          front: { abi: BLKIF_ABI_X86_64 },
          workload: async (disk) => {
            await disk.write(7, data);
            back = await disk.read(7, 24);
          },
        },
      ],
    });
    store.close();
    expect(diff(back, data)).toBe(-1);
    expect(r.back.guest.backs.get(1)!.abi!.name).toBe("x86_64-abi");
  });

  it("a read-only disk refuses writes at both ends", async () => {
    const path = tmp.file("ro.img");
    FileBlockStore.create(path, 256).close();
    const fs = spyFileOps();
    const store = FileBlockStore.open(path, { readOnly: true, fs });
    const seen: Record<string, unknown> = {};
    await runBlk({
      guests: [
        {
          store,
          workload: async (disk) => {
            seen.readOnly = disk.readOnly;
            seen.frontRefusal = await disk.write(0, new Uint8Array(512)).catch((e: unknown) => e);
            // Bypass the front end's check: the back end must refuse on its own.
            const pfn = disk.env.ctx.allocPage();
            const gref = disk.env.grants.grantAccess(0, pfn, true);
            const rsp = await disk.raw({
              kind: "rw",
              operation: BlkifOp.Write,
              id: 0,
              nrSegments: 1,
              handle: 0,
              sectorNumber: 0,
              segments: [{ gref, firstSect: 0, lastSect: 0 }],
            });
            seen.status = rsp.status;
            seen.discard = await disk.discard(0, 1).catch((e: unknown) => e);
            seen.read = (await disk.read(0, 1)).length;
          },
        },
      ],
    });
    store.close();
    expect(seen.readOnly).toBe(true);
    expect(seen.frontRefusal).toBeInstanceOf(BlockRequestError);
    expect(seen.status).toBe(BlkifStatus.Error);
    // Discard is not advertised on a read-only disk: EOPNOTSUPP would be wrong, ERROR is the answer.
    expect(seen.discard).toBeInstanceOf(BlockIoError);
    expect(seen.read).toBe(512);
    expect(fs.calls.write).toBe(0);
  });

  it("unsupported flush and discard come back as EOPNOTSUPP", async () => {
    const store = FileBlockStore.create(tmp.file("nofeat.img"), 64);
    const seen: Record<string, unknown> = {};
    await runBlk({
      back: { flush: false, discard: false, barrier: false },
      guests: [
        {
          store,
          workload: async (disk) => {
            seen.features = { ...disk.features };
            seen.flush = await disk.flush().catch((e: unknown) => (e as BlockIoError).status);
            seen.discard = await disk.discard(0, 1).catch((e: unknown) => (e as BlockIoError).status);
          },
        },
      ],
    });
    store.close();
    expect(seen.features).toMatchObject({ flush: false, barrier: false, discard: false });
    expect(seen.flush).toBe(BlkifStatus.EOpNotSupp);
    expect(seen.discard).toBe(BlkifStatus.EOpNotSupp);
  });

  it("a workload asks for the BlockDevice role and gets blkfront (explicit token, no metadata)", async () => {
    @injectable()
    class Checksummer {
      constructor(@inject(BlockDeviceToken) readonly disk: BlockDevice) {}
      async sum(sector: number, count: number): Promise<number> {
        const b = await this.disk.read(sector, count);
        let s = 0;
        for (const x of b) s = (s + x) >>> 0;
        return s;
      }
    }
    const store = FileBlockStore.create(tmp.file("di.img"), 64);
    const data = pattern(4, 5);
    let sum = -1;
    let same = false;
    await runBlk({
      guests: [
        {
          store,
          workload: async (disk) => {
            const c = container.createChildContainer();
            c.registerInstance(BlockDeviceToken, disk); // what the `pv` profile registers
            await disk.write(10, data);
            const w = c.resolve(Checksummer);
            same = w.disk === disk;
            sum = await w.sum(10, 4);
          },
        },
      ],
    });
    store.close();
    expect(same).toBe(true);
    expect(sum).toBe(data.reduce((a, b) => (a + b) >>> 0, 0));
  });
});

describe("batching and determinism", () => {
  const workload = async (disk: BlockDevice) => {
    // 32 reads and 32 writes in flight at once: the back end answers them in a few batches.
    await Promise.all(Array.from({ length: 32 }, (_, i) => disk.write(i * 8, pattern(8, i))));
    await Promise.all(Array.from({ length: 32 }, (_, i) => disk.read(i * 8, 8)));
  };

  it("responses are pushed once per back-end batch, with at most one notification each", async () => {
    const store = FileBlockStore.create(tmp.file("batch.img"), 1024);
    const r = await runBlk({ guests: [{ store, front: { bufferPages: 32 }, workload }] });
    store.close();
    const back = r.back.guest.backs.get(1)!;
    const be = back.ring!.counters;
    const fe = r.fronts[0]!.guest.front!.ring!.counters;
    expect(back.counters.requests).toBe(64);
    expect(be.produced).toBe(64);
    expect(be.pushes).toBe(back.counters.batches);
    expect(be.notifications).toBeLessThanOrEqual(be.pushes);
    expect(back.counters.batches).toBeLessThan(16);
    expect(fe.notifications).toBeLessThan(16);
  });

  it("the same run twice gives the same simulated cycles and counters", async () => {
    const once = async (name: string) => {
      const store = FileBlockStore.create(tmp.file(name), 1024);
      const r = await runBlk({ guests: [{ store, front: { bufferPages: 32 }, workload }] });
      store.close();
      return { cycles: r.hv.clock.cycles, counters: r.back.guest.backs.get(1)!.counters };
    };
    const a = await once("det-a.img");
    const b = await once("det-b.img");
    expect(b).toEqual(a);
  });

  it("the back end charges backendPerRequest + backendPerPage per segment (cost table)", async () => {
    const cycles = async (name: string, costs: { backendPerRequest: number; backendPerPage: number }) => {
      const store = FileBlockStore.create(tmp.file(name), 1024);
      const r = await runBlk({ back: { costs }, guests: [{ store, front: { bufferPages: 32 }, workload }] });
      store.close();
      return r.hv.domain(0)!.stats;
    };
    const free = await cycles("cost-0.img", { backendPerRequest: 0, backendPerPage: 0 });
    const priced = await cycles("cost-1.img", { backendPerRequest: 1000, backendPerPage: 10 });
    // 64 requests of one segment each.
    expect(priced.guestCycles - free.guestCycles).toBe(64 * 1000 + 64 * 10);
  });
});
