/**
 * The PV NFS path end to end on the real server: interop with the TCP path and the host file,
 * sharing of buffer-cache frames among guests (map) against private copies (copy), and a
 * write by one guest invalidating what every guest sees.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { yieldUntil } from "../../../samples/ts-guests/nfs/nfs-frontend.js";
import { runNfs } from "../../../samples/ts-guests/nfs/run-nfs.js";
import { NfsError, type NfsFrontend, StableHow } from "../../../src/pv-drivers/index.js";
import { Nfs3TestClient, RpcClient } from "../nfs/helpers/rpc-client.js";
import { type PvSandbox, pattern, startPvSandbox } from "./helpers.js";

let sb: PvSandbox;
beforeAll(async () => {
  sb = await startPvSandbox();
});
afterAll(async () => {
  await sb?.cleanup();
});

/** A barrier in simulated time for `n` guests. */
function barrier(n: number) {
  let arrived = 0;
  return async (nfs: NfsFrontend) => {
    const gen = Math.floor(arrived / n);
    arrived++;
    await yieldUntil(nfs, () => arrived >= (gen + 1) * n);
  };
}

describe("nfs PV path (real NFSv3 server, shared buffer cache)", () => {
  it("a file written over TCP is read by a PV guest, and one written by the guest is read over TCP and on the host", async () => {
    const rpc = await RpcClient.connect(sb.server.tcpPort);
    const tcp = new Nfs3TestClient(rpc);
    const m = await tcp.mount(sb.server.exportPath);
    expect(m.status).toBe(0);
    const fromTcp = pattern(10_000, 1);
    const c = await tcp.create(m.fh!, "from-tcp.bin", { mode: 0 });
    expect((await tcp.write(c.fh!, 0, fromTcp, StableHow.FileSync)).status).toBe(0);

    const fromPv = pattern(70_000, 2);
    let seen: Uint8Array | null = null;
    let names: string[] = [];
    const r = await runNfs({
      server: sb.server,
      guests: [
        {
          workload: async (nfs) => {
            const { fh } = await nfs.lookup(nfs.root!, "from-tcp.bin");
            seen = await nfs.readFile(fh);
            const out = await nfs.create(nfs.root!, "from-pv.bin");
            for (let at = 0; at < fromPv.length; at += 32_768)
              await nfs.write(out, at, fromPv.subarray(at, at + 32_768));
            names = await nfs.readdir(nfs.root!);
            await expect(nfs.lookup(nfs.root!, "missing")).rejects.toThrow(NfsError);
          },
        },
      ],
    });
    expect(r.end).toBe("all-halted");
    expect(r.fronts[0]!.guest.failure).toBeNull();
    expect(seen).toEqual(fromTcp);
    expect(names.sort()).toEqual(["from-pv.bin", "from-tcp.bin"]);
    expect(new Uint8Array(readFileSync(join(sb.exportDir, "from-pv.bin")))).toEqual(fromPv);
    const l = await tcp.lookup(m.fh!, "from-pv.bin");
    const back = await tcp.read(l.fh!, 0, 100_000);
    expect(back.data).toEqual(fromPv);
    rpc.close();
  });

  it("a TCP client's write to a file a guest has cached is seen by the guest's next read (GETATTR version check)", async () => {
    const first = pattern(6000, 10);
    const more = pattern(3000, 11);
    writeFileSync(join(sb.exportDir, "coherent.bin"), first);
    const rpc = await RpcClient.connect(sb.server.tcpPort);
    const tcp = new Nfs3TestClient(rpc);
    const root = (await tcp.mount(sb.server.exportPath)).fh!;
    const fh = (await tcp.lookup(root, "coherent.bin")).fh!;
    let phase = 0;
    const reads: Uint8Array[] = [];
    const run = runNfs({
      server: sb.server,
      guests: [
        {
          workload: async (nfs) => {
            const { fh: mine } = await nfs.lookup(nfs.root!, "coherent.bin");
            reads.push(await nfs.readFile(mine));
            phase = 1;
            await yieldUntil(nfs, () => phase === 2, 1_000_000);
            reads.push(await nfs.readFile(mine));
          },
        },
      ],
    });
    // Meanwhile, on the host's event loop: append over TCP once the guest has the file cached.
    while (phase !== 1) await new Promise((r) => setImmediate(r));
    expect((await tcp.write(fh, first.length, more, StableHow.FileSync)).status).toBe(0);
    phase = 2;
    const r = await run;
    rpc.close();
    expect(r.fronts[0]!.guest.failure).toBeNull();
    expect(reads[0]).toEqual(first);
    const both = new Uint8Array(first.length + more.length);
    both.set(first);
    both.set(more, first.length);
    expect(reads[1]).toEqual(both);
    expect(r.back.guest.cache!.stats.invalidated).toBeGreaterThanOrEqual(2);
  });

  it("N guests reading one file share its frames (map) instead of holding N copies (copy)", async () => {
    const size = 128 * 1024;
    const data = pattern(size, 3);
    writeFileSync(join(sb.exportDir, "shared.bin"), data);
    const N = 4;
    const run = async (readPath: "map" | "copy") => {
      const ok: boolean[] = [];
      const r = await runNfs({
        server: sb.server,
        guests: Array.from({ length: N }, () => ({
          front: { readPath },
          workload: async (nfs: NfsFrontend) => {
            const { fh } = await nfs.lookup(nfs.root!, "shared.bin");
            const got = await nfs.readFile(fh);
            ok.push(got.length === size && got.every((b, i) => b === data[i]));
          },
        })),
      });
      expect(r.end).toBe("all-halted");
      expect(ok).toEqual(Array(N).fill(true));
      let bytesMapped = 0;
      let bytesCopied = 0;
      for (const b of r.back.guest.backs.values()) {
        bytesMapped += b.counters.bytesMapped;
        bytesCopied += b.counters.bytesCopied;
      }
      return { r, bytesMapped, bytesCopied, cache: r.back.guest.cache! };
    };
    const pages = size / 4096;
    const map = await run("map");
    expect(map.r.atEnd.dataFrames).toBe(pages); // not N × pages
    expect(map.cache.framesInUse).toBe(pages);
    expect(map.bytesMapped).toBe(N * size);
    expect(map.bytesCopied).toBe(0);
    expect(map.cache.stats.sharedGrants).toBe((N - 1) * pages);
    expect(map.cache.stats.misses).toBe(pages);

    const copy = await run("copy");
    expect(copy.r.atEnd.dataFrames).toBe(N * pages);
    expect(copy.bytesCopied).toBe(N * size);
    expect(copy.bytesMapped).toBe(0);
  });

  it("a write by one guest invalidates the cached pages: every guest then reads the new data", async () => {
    const size = 16 * 1024;
    const before = pattern(size, 4);
    const after = pattern(size, 5); // same size: only the explicit invalidation (or ctime) tells
    writeFileSync(join(sb.exportDir, "changing.bin"), before);
    const N = 3;
    const sync = barrier(N);
    const firstReads: Uint8Array[] = [];
    const secondReads: Uint8Array[] = [];
    const r = await runNfs({
      server: sb.server,
      guests: Array.from({ length: N }, (_, g) => ({
        workload: async (nfs: NfsFrontend) => {
          const { fh } = await nfs.lookup(nfs.root!, "changing.bin");
          firstReads.push(await nfs.readFile(fh));
          await sync(nfs);
          if (g === 0) await nfs.write(fh, 0, after);
          await sync(nfs);
          secondReads.push(await nfs.readFile(fh));
        },
      })),
    });
    expect(r.end).toBe("all-halted");
    for (const f of r.fronts) expect(f.guest.failure).toBeNull();
    expect(firstReads).toEqual(Array(N).fill(before));
    expect(secondReads).toEqual(Array(N).fill(after));
    const cache = r.back.guest.cache!;
    expect(cache.stats.invalidated).toBeGreaterThanOrEqual(size / 4096);
    // The second reads remapped new frames: the old ones were retired, then reclaimed.
    const maps = r.fronts.reduce((s, f) => s + f.guest.front!.counters.maps, 0);
    expect(maps).toBe(2 * N * (size / 4096));
  });
});
