/**
 * Back-end storage: the raw image file store (positioned I/O, fsync on flush, read-only) and the
 * copy-on-write overlay (N overlays over one base stay independent; the base is never written;
 * the overlay format survives a reopen).
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { runBlk } from "../../../samples/ts-guests/blk/run-blk.js";
import {
  COW_MAGIC,
  CowBlockStore,
  cowLayout,
  FileBlockStore,
  MemoryBlockStore,
} from "../../../src/pv-drivers/index.js";
import { diff, fileSectors, pattern, spyFileOps, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

describe("FileBlockStore", () => {
  it("creates an image of the given size and does positioned I/O", () => {
    const path = tmp.file("raw.img");
    const s = FileBlockStore.create(path, 100);
    expect(statSync(path).size).toBe(100 * 512);
    const d = pattern(3, 9);
    s.write(97, d);
    const b = new Uint8Array(3 * 512);
    s.read(97, b);
    expect(diff(b, d)).toBe(-1);
    expect(diff(fileSectors(path, 97, 3), d)).toBe(-1);
    expect(() => s.write(98, d)).toThrow(RangeError);
    expect(() => s.read(0, new Uint8Array(100))).toThrow(/multiple of 512/);
    s.discard(97, 2);
    expect(diff(fileSectors(path, 97, 2), new Uint8Array(1024))).toBe(-1);
    expect(diff(fileSectors(path, 99, 1), d.subarray(1024))).toBe(-1);
    s.close();
    const again = FileBlockStore.open(path);
    expect(again.sectors).toBe(100);
    again.close();
  });

  it("flush is fsync", () => {
    const fs = spyFileOps();
    const s = FileBlockStore.create(tmp.file("fsync.img"), 8, { fs });
    s.write(0, new Uint8Array(512).fill(1));
    expect(fs.calls.fsync).toBe(0);
    s.flush();
    expect(fs.calls.fsync).toBe(1);
    s.close();
  });

  it("a read-only image refuses writes and discards", () => {
    const path = tmp.file("ro-store.img");
    FileBlockStore.create(path, 8).close();
    const s = FileBlockStore.open(path, { readOnly: true });
    expect(s.readOnly).toBe(true);
    expect(() => s.write(0, new Uint8Array(512))).toThrow(/read-only/);
    expect(() => s.discard(0, 1)).toThrow(/read-only/);
    s.close();
  });
});

describe("CowBlockStore", () => {
  it("N overlays over one base stay independent and the base is never written", () => {
    const basePath = tmp.file("base.img");
    const seed = FileBlockStore.create(basePath, 256);
    seed.write(0, pattern(256, 1));
    seed.close();
    const before = sha(basePath);
    const fs = spyFileOps();
    const base = FileBlockStore.open(basePath, { readOnly: true, fs });
    const overlays = [0, 1, 2].map((i) => CowBlockStore.create(tmp.file(`ov${i}.cow`), base));
    for (const [i, o] of overlays.entries()) o.write(10, pattern(4, 100 + i));
    overlays[1]!.write(12, pattern(1, 7)); // overwrite part of its own earlier write
    overlays[2]!.discard(200, 3);
    const readOf = (o: CowBlockStore, s: number, n: number) => {
      const b = new Uint8Array(n * 512);
      o.read(s, b);
      return b;
    };
    const baseData = pattern(256, 1);
    for (const [i, o] of overlays.entries()) {
      // Written sectors are the overlay's own; a read across the boundary mixes base and overlay.
      const got = readOf(o, 8, 8);
      expect(diff(got.subarray(0, 1024), baseData.subarray(8 * 512, 10 * 512))).toBe(-1);
      const mine = pattern(4, 100 + i);
      if (i === 1) mine.set(pattern(1, 7), 2 * 512);
      expect(diff(got.subarray(1024, 3 * 1024), mine)).toBe(-1);
      expect(diff(got.subarray(3 * 1024), baseData.subarray(14 * 512, 16 * 512))).toBe(-1);
    }
    expect(diff(readOf(overlays[2]!, 200, 3), new Uint8Array(3 * 512))).toBe(-1);
    expect(diff(readOf(overlays[0]!, 200, 3), baseData.subarray(200 * 512, 203 * 512))).toBe(-1);
    expect(overlays.map((o) => o.overlaySectors)).toEqual([4, 4, 7]);
    expect(fs.calls.write).toBe(0);
    expect(sha(basePath)).toBe(before);
    for (const o of overlays) o.close();
    base.close();
  });

  it("the overlay format survives a reopen and is as documented", () => {
    const base = new MemoryBlockStore(64);
    base.bytes.set(pattern(64, 3));
    const path = tmp.file("reopen.cow");
    const o = CowBlockStore.create(path, base);
    o.write(9, pattern(2, 4));
    o.flush();
    o.close();
    const raw = readFileSync(path);
    const l = cowLayout(64);
    expect(raw.subarray(0, 8).toString("latin1")).toBe(COW_MAGIC);
    expect(raw.readUInt32LE(8)).toBe(1);
    expect(Number(raw.readBigUInt64LE(16))).toBe(64);
    expect(Number(raw.readBigUInt64LE(24))).toBe(512);
    expect(Number(raw.readBigUInt64LE(32))).toBe(l.dataOffset);
    expect(raw[512 + 1]).toBe(0b110); // sectors 9 and 10: bits 1 and 2 of byte 1
    expect(
      diff(new Uint8Array(raw.subarray(l.dataOffset + 9 * 512, l.dataOffset + 11 * 512)), pattern(2, 4)),
    ).toBe(-1);
    const again = CowBlockStore.open(path, base);
    const b = new Uint8Array(4 * 512);
    again.read(8, b);
    expect(diff(b.subarray(512, 1536), pattern(2, 4))).toBe(-1);
    expect(diff(b.subarray(0, 512), base.bytes.subarray(8 * 512, 9 * 512))).toBe(-1);
    again.close();
    expect(() => CowBlockStore.open(path, new MemoryBlockStore(65))).toThrow(/64-sector base/);
  });

  it("three guests boot from one base image through blkif, each with its own overlay", async () => {
    const basePath = tmp.file("shared-base.img");
    const seed = FileBlockStore.create(basePath, 512);
    seed.write(0, pattern(512, 11));
    seed.close();
    const before = sha(basePath);
    const base = FileBlockStore.open(basePath, { readOnly: true });
    const overlays = [0, 1, 2].map((i) => CowBlockStore.create(tmp.file(`guest${i}.cow`), base));
    const seen: Uint8Array[][] = [[], [], []];
    const r = await runBlk({
      guests: overlays.map((store, i) => ({
        store,
        workload: async (disk) => {
          seen[i]!.push(await disk.read(0, 16)); // the shared base
          await disk.write(4, pattern(2, 50 + i));
          await disk.flush();
          seen[i]!.push(await disk.read(0, 16));
        },
      })),
    });
    expect(r.end).toBe("all-halted");
    const baseData = pattern(512, 11).subarray(0, 16 * 512);
    for (let i = 0; i < 3; i++) {
      expect(diff(seen[i]![0], baseData)).toBe(-1);
      const expected = new Uint8Array(baseData);
      expected.set(pattern(2, 50 + i), 4 * 512);
      expect(diff(seen[i]![1], expected)).toBe(-1);
      expect(overlays[i]!.overlaySectors).toBe(2);
    }
    expect(sha(basePath)).toBe(before);
    for (const o of overlays) o.close();
    base.close();
  });
});
