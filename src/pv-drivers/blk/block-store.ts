/**
 * Back-end storage as a small record of operations (mirage-block-xen's blkback receives its
 * storage the same way): the back end validates every request against `sectors` and
 * `readOnly` before calling, so a store only checks its own arguments as a last line.
 *
 * Operations are synchronous on purpose: pvkit runs in simulated time and host I/O must
 * complete at cost-model times (DESIGN.md "Time and cost"). An async host call would complete
 * outside the driver domain's time slice, at host speed, and break run-to-run determinism; the
 * back end charges CostTable.backendPerRequest / backendPerPage for the work instead.
 * A store signals a host failure (EIO, ENOSPC) by throwing; the back end turns that into
 * BLKIF_RSP_ERROR for that request.
 */

/** Bytes of a sector of every store (blkif's unit). */
export const SECTOR_SIZE = 512;

export interface BlockStore {
  /** Capacity in 512-byte sectors. */
  readonly sectors: number;
  /** True if writes and discards must be refused. */
  readonly readOnly: boolean;
  /** Fills `buf` (a multiple of 512 bytes) from `sector` on. */
  read(sector: number, buf: Uint8Array): void;
  /** Writes `data` (a multiple of 512 bytes) at `sector`. */
  write(sector: number, data: Uint8Array): void;
  /** Makes every completed write durable (fsync for a file). */
  flush(): void;
  /** Forgets `count` sectors from `sector`; they read back as zeros afterwards. */
  discard(sector: number, count: number): void;
}

/** Throws RangeError unless [sector, sector + count) lies inside a store of `sectors`. */
export function checkRange(sectors: number, sector: number, count: number, what: string): void {
  if (
    !Number.isSafeInteger(sector) ||
    !Number.isSafeInteger(count) ||
    sector < 0 ||
    count < 0 ||
    sector + count > sectors
  )
    throw new RangeError(`${what}: sectors [${sector}, ${sector + count}) outside a ${sectors}-sector store`);
}

/** Throws RangeError unless `len` is a whole number of sectors. */
export function checkLength(len: number, what: string): number {
  if (len % SECTOR_SIZE !== 0)
    throw new RangeError(`${what}: ${len} bytes is not a multiple of ${SECTOR_SIZE}`);
  return len / SECTOR_SIZE;
}

/** A store in host memory: tests, benchmarks and the reference model of property tests. */
export class MemoryBlockStore implements BlockStore {
  readonly bytes: Uint8Array;
  flushes = 0;

  constructor(
    readonly sectors: number,
    readonly readOnly = false,
  ) {
    this.bytes = new Uint8Array(sectors * SECTOR_SIZE);
  }

  read(sector: number, buf: Uint8Array): void {
    checkRange(this.sectors, sector, checkLength(buf.length, "read"), "read");
    buf.set(this.bytes.subarray(sector * SECTOR_SIZE, sector * SECTOR_SIZE + buf.length));
  }

  write(sector: number, data: Uint8Array): void {
    if (this.readOnly) throw new RangeError("write to a read-only store");
    checkRange(this.sectors, sector, checkLength(data.length, "write"), "write");
    this.bytes.set(data, sector * SECTOR_SIZE);
  }

  flush(): void {
    this.flushes++;
  }

  discard(sector: number, count: number): void {
    if (this.readOnly) throw new RangeError("discard on a read-only store");
    checkRange(this.sectors, sector, count, "discard");
    this.bytes.fill(0, sector * SECTOR_SIZE, (sector + count) * SECTOR_SIZE);
  }
}
