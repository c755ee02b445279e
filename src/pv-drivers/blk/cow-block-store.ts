/**
 * Copy-on-write overlay on a shared read-only base image — Disco's disk sharing: N guests boot
 * from one base; each guest's writes land in its own overlay file, so the base is never
 * written and the guests never see each other's writes.
 *
 * Overlay file format ("PVKCOW01", little endian, all offsets in bytes):
 *
 * ```
 *   0  magic       8 bytes  "PVKCOW01"
 *   8  version     u32      1
 *  12  headerSize  u32      512
 *  16  sectors     u64      virtual disk size in 512-byte sectors (= the base's)
 *  24  bitmapOff   u64      512
 *  32  dataOff     u64      bitmapOff + bitmap bytes, rounded up to 4096
 *  40  zero        up to 512
 * bitmapOff: one bit per sector — bit (s & 7) of byte (s >> 3) set ⇔ sector s lives in the
 *            overlay; clear ⇔ read it from the base
 * dataOff:   sector s at dataOff + s × 512 (a sparse file: only written sectors take space)
 * ```
 *
 * Write order: the sector data first, then its bitmap bits. A crash in between leaves the
 * sector served from the base (its old contents), never half-written overlay garbage.
 */
import { type BlockStore, checkLength, checkRange, SECTOR_SIZE } from "./block-store.js";
import { type FileOps, nodeFileOps } from "./file-block-store.js";

export const COW_MAGIC = "PVKCOW01";
export const COW_VERSION = 1;
export const COW_HEADER_SIZE = 512;

/** Layout of an overlay for a disk of `sectors` sectors. */
export function cowLayout(sectors: number): {
  bitmapOffset: number;
  bitmapBytes: number;
  dataOffset: number;
} {
  const bitmapBytes = Math.ceil(sectors / 8);
  const dataOffset = Math.ceil((COW_HEADER_SIZE + bitmapBytes) / 4096) * 4096;
  return { bitmapOffset: COW_HEADER_SIZE, bitmapBytes, dataOffset };
}

export class CowBlockStore implements BlockStore {
  readonly readOnly = false;
  readonly sectors: number;
  /** In-memory copy of the overlay's bitmap (written through on every change). */
  readonly bitmap: Uint8Array;
  private readonly dataOffset: number;
  private readonly bitmapOffset: number;
  private fd: number;

  private constructor(
    readonly path: string,
    readonly base: BlockStore,
    fd: number,
    bitmap: Uint8Array,
    private readonly fs: FileOps,
  ) {
    this.fd = fd;
    this.sectors = base.sectors;
    this.bitmap = bitmap;
    const l = cowLayout(base.sectors);
    this.dataOffset = l.dataOffset;
    this.bitmapOffset = l.bitmapOffset;
  }

  /** Creates an empty overlay over `base` (every sector reads from the base). */
  static create(path: string, base: BlockStore, opts: { fs?: FileOps } = {}): CowBlockStore {
    const fs = opts.fs ?? nodeFileOps;
    const l = cowLayout(base.sectors);
    const header = new Uint8Array(COW_HEADER_SIZE);
    const dv = new DataView(header.buffer);
    for (let i = 0; i < 8; i++) header[i] = COW_MAGIC.charCodeAt(i);
    dv.setUint32(8, COW_VERSION, true);
    dv.setUint32(12, COW_HEADER_SIZE, true);
    dv.setBigUint64(16, BigInt(base.sectors), true);
    dv.setBigUint64(24, BigInt(l.bitmapOffset), true);
    dv.setBigUint64(32, BigInt(l.dataOffset), true);
    const fd = fs.openSync(path, "w+");
    fs.ftruncateSync(fd, l.dataOffset + base.sectors * SECTOR_SIZE);
    fs.writeSync(fd, header, 0, header.length, 0);
    return new CowBlockStore(path, base, fd, new Uint8Array(l.bitmapBytes), fs);
  }

  /** Opens an existing overlay; it must have been made for a base of the same size. */
  static open(path: string, base: BlockStore, opts: { fs?: FileOps } = {}): CowBlockStore {
    const fs = opts.fs ?? nodeFileOps;
    const fd = fs.openSync(path, "r+");
    const header = new Uint8Array(COW_HEADER_SIZE);
    fs.readSync(fd, header, 0, header.length, 0);
    const dv = new DataView(header.buffer);
    const magic = String.fromCharCode(...header.subarray(0, 8));
    const sectors = Number(dv.getBigUint64(16, true));
    if (magic !== COW_MAGIC || dv.getUint32(8, true) !== COW_VERSION) {
      fs.closeSync(fd);
      throw new RangeError(`${path} is not a pvkit COW overlay (magic "${magic}")`);
    }
    if (sectors !== base.sectors) {
      fs.closeSync(fd);
      throw new RangeError(`${path} was made for a ${sectors}-sector base, this base has ${base.sectors}`);
    }
    const l = cowLayout(sectors);
    const bitmap = new Uint8Array(l.bitmapBytes);
    fs.readSync(fd, bitmap, 0, bitmap.length, l.bitmapOffset);
    return new CowBlockStore(path, base, fd, bitmap, fs);
  }

  /** True if sector `s` lives in the overlay. */
  inOverlay(s: number): boolean {
    return (this.bitmap[s >> 3]! & (1 << (s & 7))) !== 0;
  }

  /** Sectors held by the overlay. */
  get overlaySectors(): number {
    let n = 0;
    for (const b of this.bitmap) {
      let x = b;
      while (x) {
        x &= x - 1;
        n++;
      }
    }
    return n;
  }

  read(sector: number, buf: Uint8Array): void {
    const count = checkLength(buf.length, "read");
    checkRange(this.sectors, sector, count, `read ${this.path}`);
    // Runs of sectors from the same side, one host read each.
    let i = 0;
    while (i < count) {
      const mine = this.inOverlay(sector + i);
      let j = i + 1;
      while (j < count && this.inOverlay(sector + j) === mine) j++;
      const part = buf.subarray(i * SECTOR_SIZE, j * SECTOR_SIZE);
      if (mine) this.readFile(part, this.dataOffset + (sector + i) * SECTOR_SIZE);
      else this.base.read(sector + i, part);
      i = j;
    }
  }

  write(sector: number, data: Uint8Array): void {
    const count = checkLength(data.length, "write");
    checkRange(this.sectors, sector, count, `write ${this.path}`);
    this.writeFile(data, this.dataOffset + sector * SECTOR_SIZE);
    this.mark(sector, count);
  }

  flush(): void {
    this.fs.fsyncSync(this.fd);
  }

  /** Discarded sectors read back as zeros: the overlay holds zeros for them (the base is untouched). */
  discard(sector: number, count: number): void {
    checkRange(this.sectors, sector, count, `discard ${this.path}`);
    const zeros = new Uint8Array(Math.min(count, 128) * SECTOR_SIZE);
    for (let s = sector; s < sector + count; s += 128) {
      const n = Math.min(128, sector + count - s);
      this.writeFile(zeros.subarray(0, n * SECTOR_SIZE), this.dataOffset + s * SECTOR_SIZE);
    }
    this.mark(sector, count);
  }

  close(): void {
    if (this.fd < 0) return;
    this.fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** Sets the bitmap bits of [sector, sector + count) and writes the changed bytes through. */
  private mark(sector: number, count: number): void {
    let lo = -1;
    let hi = -1;
    for (let s = sector; s < sector + count; s++) {
      const byte = s >> 3;
      const bit = 1 << (s & 7);
      if ((this.bitmap[byte]! & bit) === 0) {
        this.bitmap[byte]! |= bit;
        if (lo < 0) lo = byte;
        hi = byte;
      }
    }
    if (lo >= 0) this.writeFile(this.bitmap.subarray(lo, hi + 1), this.bitmapOffset + lo);
  }

  private readFile(buf: Uint8Array, position: number): void {
    let done = 0;
    while (done < buf.length) {
      const n = this.fs.readSync(this.fd, buf, done, buf.length - done, position + done);
      if (n <= 0) {
        buf.fill(0, done);
        return;
      }
      done += n;
    }
  }

  private writeFile(data: Uint8Array, position: number): void {
    let done = 0;
    while (done < data.length) {
      const n = this.fs.writeSync(this.fd, data, done, data.length - done, position + done);
      if (n <= 0) throw new Error(`${this.path}: short write at byte ${position + done}`);
      done += n;
    }
  }
}
