/** Shared helpers of the blk tests: temp image files and fs spies. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FileOps, nodeFileOps } from "../../../src/pv-drivers/index.js";

/** A fresh temp directory; `cleanup()` removes it. */
export function tempDir(): { dir: string; file(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "pvkit-blk-test-"));
  return { dir, file: (n) => join(dir, n), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** node:fs with every call counted (fsync, writes) so tests can prove what reached the host. */
export function spyFileOps(): FileOps & {
  calls: { fsync: number; write: number; read: number };
  writes: number[];
} {
  const calls = { fsync: 0, write: 0, read: 0 };
  const writes: number[] = [];
  return {
    calls,
    writes,
    openSync: nodeFileOps.openSync,
    closeSync: nodeFileOps.closeSync,
    readSync: (fd, b, o, l, p) => {
      calls.read++;
      return nodeFileOps.readSync(fd, b, o, l, p);
    },
    writeSync: (fd, b, o, l, p) => {
      calls.write++;
      writes.push(p);
      return nodeFileOps.writeSync(fd, b, o, l, p);
    },
    fsyncSync: (fd) => {
      calls.fsync++;
      nodeFileOps.fsyncSync(fd);
    },
    ftruncateSync: nodeFileOps.ftruncateSync,
    fstatSync: nodeFileOps.fstatSync,
  };
}

/** Bytes [sector × 512, (sector + count) × 512) of an image file as it is on the host. */
export function fileSectors(path: string, sector: number, count: number): Uint8Array {
  return new Uint8Array(readFileSync(path).subarray(sector * 512, (sector + count) * 512));
}

/** A deterministic byte pattern for `sectors` sectors, distinct per `seed`. */
export function pattern(sectors: number, seed: number): Uint8Array {
  const b = new Uint8Array(sectors * 512);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * Index of the first differing byte of `a` and `b` (or of the shorter length), −1 if equal.
 * `expect(diff(a, b)).toBe(-1)` instead of toEqual: vitest's deep equality on large typed
 * arrays costs seconds.
 */
export function diff(a: unknown, b: Uint8Array): number {
  if (!(a instanceof Uint8Array)) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
