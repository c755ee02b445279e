/**
 * Backing stores for the emulated ATA disk: a fixed number of 512-byte sectors read and written
 * synchronously, so a command's data is ready when its completion event fires and runs stay
 * deterministic (the simulated time a command takes comes from the IDE model, not the host).
 *
 * `FileDiskImage` is a raw image file (what QEMU calls format=raw) reached with positioned
 * reads and writes (`pread`/`pwrite` through node:fs) and flushed with fsync on FLUSH CACHE.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";

/** Bytes per logical sector (ATA-6: IDENTIFY word 106 clear means 512). */
export const ATA_SECTOR_SIZE = 512;

export interface DiskImage {
  /** Capacity in 512-byte sectors. */
  readonly sectors: number;
  /** Copies `count` sectors from `lba` into `into` (at offset `at`). The caller checks the range. */
  read(lba: number, count: number, into: Uint8Array, at?: number): void;
  /** Copies `count` sectors from `from` (at offset `at`) to `lba`. */
  write(lba: number, count: number, from: Uint8Array, at?: number): void;
  /** Makes earlier writes durable (FLUSH CACHE). */
  flush(): void;
  /** Number of flushes, for tests and statistics. */
  readonly flushes: number;
  /** Writes are refused: the IDE model aborts write commands (QEMU reports an error too). */
  readonly readOnly?: boolean;
}

/** An image held in memory (tests, scratch disks). */
export class MemoryDiskImage implements DiskImage {
  readonly bytes: Uint8Array;
  readonly sectors: number;
  flushes = 0;

  constructor(sizeOrBytes: number | Uint8Array) {
    this.bytes =
      typeof sizeOrBytes === "number" ? new Uint8Array(sizeOrBytes * ATA_SECTOR_SIZE) : sizeOrBytes;
    this.sectors = Math.floor(this.bytes.length / ATA_SECTOR_SIZE);
  }

  read(lba: number, count: number, into: Uint8Array, at = 0): void {
    const start = lba * ATA_SECTOR_SIZE;
    into.set(this.bytes.subarray(start, start + count * ATA_SECTOR_SIZE), at);
  }

  write(lba: number, count: number, from: Uint8Array, at = 0): void {
    this.bytes.set(from.subarray(at, at + count * ATA_SECTOR_SIZE), lba * ATA_SECTOR_SIZE);
  }

  flush(): void {
    this.flushes++;
  }
}

/** A raw image file. A trailing partial sector is ignored, as QEMU's raw driver rounds down. */
export class FileDiskImage implements DiskImage {
  readonly sectors: number;
  readonly readOnly: boolean;
  flushes = 0;
  private fd: number;

  constructor(
    readonly path: string,
    opts: { readOnly?: boolean } = {},
  ) {
    this.readOnly = opts.readOnly ?? false;
    this.fd = openSync(path, this.readOnly ? "r" : "r+");
    this.sectors = Math.floor(fstatSync(this.fd).size / ATA_SECTOR_SIZE);
  }

  read(lba: number, count: number, into: Uint8Array, at = 0): void {
    const len = count * ATA_SECTOR_SIZE;
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, into, at + done, len - done, lba * ATA_SECTOR_SIZE + done);
      if (n <= 0) {
        into.fill(0, at + done, at + len);
        return;
      }
      done += n;
    }
  }

  write(lba: number, count: number, from: Uint8Array, at = 0): void {
    const len = count * ATA_SECTOR_SIZE;
    let done = 0;
    while (done < len) done += writeSync(this.fd, from, at + done, len - done, lba * ATA_SECTOR_SIZE + done);
  }

  flush(): void {
    this.flushes++;
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
