/**
 * A BlockStore on a real disk image file: a raw image (sector n at byte n × 512), positioned
 * reads and writes through node:fs, FLUSH = fsync. Synchronous by design (see block-store.ts:
 * host I/O completes at cost-model times, so runs stay deterministic).
 *
 * The fs calls come in through `FileOps` (default: node:fs) so tests can prove that a flush
 * really reaches fsync, and fault injection can make the host fail.
 */
import * as nodeFs from "node:fs";
import { type BlockStore, checkLength, checkRange, SECTOR_SIZE } from "./block-store.js";

/** The node:fs calls a file store uses. */
export interface FileOps {
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  readSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  fsyncSync(fd: number): void;
  ftruncateSync(fd: number, len: number): void;
  fstatSync(fd: number): { size: number };
}

/** node:fs itself. */
export const nodeFileOps: FileOps = {
  openSync: (p, f) => nodeFs.openSync(p, f),
  closeSync: (fd) => nodeFs.closeSync(fd),
  readSync: (fd, b, o, l, p) => nodeFs.readSync(fd, b, o, l, p),
  writeSync: (fd, b, o, l, p) => nodeFs.writeSync(fd, b, o, l, p),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  ftruncateSync: (fd, l) => nodeFs.ftruncateSync(fd, l),
  fstatSync: (fd) => nodeFs.fstatSync(fd),
};

export interface FileBlockStoreOptions {
  readOnly?: boolean;
  fs?: FileOps;
}

/** Host I/O counters (statistics and tests). */
export interface FileStoreCounters {
  reads: number;
  writes: number;
  flushes: number;
  discards: number;
  bytesRead: number;
  bytesWritten: number;
}

/** Zeros written by discard, one chunk at a time. */
const ZERO_CHUNK = new Uint8Array(64 * 1024);

export class FileBlockStore implements BlockStore {
  readonly counters: FileStoreCounters = {
    reads: 0,
    writes: 0,
    flushes: 0,
    discards: 0,
    bytesRead: 0,
    bytesWritten: 0,
  };
  private fd: number;

  private constructor(
    readonly path: string,
    fd: number,
    readonly sectors: number,
    readonly readOnly: boolean,
    private readonly fs: FileOps,
  ) {
    this.fd = fd;
  }

  /**
   * Creates (or truncates) an image of `sectors` 512-byte sectors, all zero (a sparse file
   * where the host file system allows it), and opens it read-write.
   */
  static create(path: string, sectors: number, opts: { fs?: FileOps } = {}): FileBlockStore {
    if (!Number.isSafeInteger(sectors) || sectors <= 0)
      throw new RangeError(`image size must be > 0 sectors, got ${sectors}`);
    const fs = opts.fs ?? nodeFileOps;
    const fd = fs.openSync(path, "w+");
    fs.ftruncateSync(fd, sectors * SECTOR_SIZE);
    return new FileBlockStore(path, fd, sectors, false, fs);
  }

  /** Opens an existing image; its size must be a whole number of sectors. */
  static open(path: string, opts: FileBlockStoreOptions = {}): FileBlockStore {
    const fs = opts.fs ?? nodeFileOps;
    const readOnly = opts.readOnly ?? false;
    const fd = fs.openSync(path, readOnly ? "r" : "r+");
    const size = fs.fstatSync(fd).size;
    if (size % SECTOR_SIZE !== 0 || size === 0) {
      fs.closeSync(fd);
      throw new RangeError(
        `${path}: ${size} bytes is not a whole, non-zero number of ${SECTOR_SIZE}-byte sectors`,
      );
    }
    return new FileBlockStore(path, fd, size / SECTOR_SIZE, readOnly, fs);
  }

  read(sector: number, buf: Uint8Array): void {
    checkRange(this.sectors, sector, checkLength(buf.length, "read"), `read ${this.path}`);
    let done = 0;
    while (done < buf.length) {
      const n = this.fs.readSync(this.fd, buf, done, buf.length - done, sector * SECTOR_SIZE + done);
      if (n <= 0) {
        buf.fill(0, done); // the file shrank under us: what is missing reads as zeros
        break;
      }
      done += n;
    }
    this.counters.reads++;
    this.counters.bytesRead += buf.length;
  }

  write(sector: number, data: Uint8Array): void {
    if (this.readOnly) throw new RangeError(`${this.path} is read-only`);
    checkRange(this.sectors, sector, checkLength(data.length, "write"), `write ${this.path}`);
    this.writeAll(data, sector * SECTOR_SIZE);
    this.counters.writes++;
    this.counters.bytesWritten += data.length;
  }

  flush(): void {
    this.fs.fsyncSync(this.fd);
    this.counters.flushes++;
  }

  discard(sector: number, count: number): void {
    if (this.readOnly) throw new RangeError(`${this.path} is read-only`);
    checkRange(this.sectors, sector, count, `discard ${this.path}`);
    // node:fs has no fallocate(PUNCH_HOLE): discarded sectors are zeroed, which is also what
    // makes "discarded data reads back as zeros" deterministic.
    let pos = sector * SECTOR_SIZE;
    const end = (sector + count) * SECTOR_SIZE;
    while (pos < end) {
      const n = Math.min(ZERO_CHUNK.length, end - pos);
      this.writeAll(ZERO_CHUNK.subarray(0, n), pos);
      pos += n;
    }
    this.counters.discards++;
  }

  /** Closes the file; later calls fail. */
  close(): void {
    if (this.fd < 0) return;
    this.fs.closeSync(this.fd);
    this.fd = -1;
  }

  private writeAll(data: Uint8Array, position: number): void {
    let done = 0;
    while (done < data.length) {
      const n = this.fs.writeSync(this.fd, data, done, data.length - done, position + done);
      if (n <= 0) throw new Error(`${this.path}: short write at byte ${position + done}`);
      done += n;
    }
  }
}
