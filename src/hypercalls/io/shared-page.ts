/**
 * The narrow window through which ring and store code touch a shared 4 KiB page.
 *
 * In a running system it is implemented over a domain's own page (through the hypervisor's
 * checked, charged accessors) or over a page mapped through a grant — never a host
 * ArrayBuffer over machine memory on the guest path. Every access is a single naturally
 * sized little-endian load or store, which is what makes ring indices "single 32-bit
 * accesses" (STYLE.md rule 5).
 */
export interface SharedPage {
  /** Page size in bytes (4096). */
  readonly size: number;
  read8(offset: number): number;
  read16(offset: number): number;
  read32(offset: number): number;
  write8(offset: number, value: number): void;
  write16(offset: number, value: number): void;
  write32(offset: number, value: number): void;
}

/** Bytes in a shared page (both boards use 4 KiB pages). */
export const SHARED_PAGE_SIZE = 4096;

/**
 * A page of plain host memory. For unit tests and benchmarks of the ring and store protocols
 * alone (two parties in one process); it is not machine memory and carries no ownership
 * checks or costs. The `reads`/`writes` counters let tests prove how often a slot was touched.
 */
export class LocalSharedPage implements SharedPage {
  readonly size = SHARED_PAGE_SIZE;
  readonly bytes = new Uint8Array(SHARED_PAGE_SIZE);
  private readonly view = new DataView(this.bytes.buffer);

  read8(offset: number): number {
    return this.view.getUint8(offset);
  }
  read16(offset: number): number {
    return this.view.getUint16(offset, true);
  }
  read32(offset: number): number {
    return this.view.getUint32(offset, true);
  }
  write8(offset: number, value: number): void {
    this.view.setUint8(offset, value);
  }
  write16(offset: number, value: number): void {
    this.view.setUint16(offset, value, true);
  }
  write32(offset: number, value: number): void {
    this.view.setUint32(offset, value >>> 0, true);
  }
}

/**
 * Wraps a page and counts reads per byte offset; tests use it to prove that a back end reads
 * each request slot exactly once (RING_COPY_REQUEST).
 */
export class CountingSharedPage implements SharedPage {
  readonly reads = new Uint32Array(SHARED_PAGE_SIZE);
  constructor(private readonly inner: SharedPage) {}
  get size(): number {
    return this.inner.size;
  }
  read8(offset: number): number {
    this.reads[offset]!++;
    return this.inner.read8(offset);
  }
  read16(offset: number): number {
    this.reads[offset]!++;
    return this.inner.read16(offset);
  }
  read32(offset: number): number {
    this.reads[offset]!++;
    return this.inner.read32(offset);
  }
  write8(offset: number, value: number): void {
    this.inner.write8(offset, value);
  }
  write16(offset: number, value: number): void {
    this.inner.write16(offset, value);
  }
  write32(offset: number, value: number): void {
    this.inner.write32(offset, value);
  }
}

/** Copies `length` bytes out of a page, one byte access each (store ring payloads, tests). */
export function readPageBytes(page: SharedPage, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = page.read8(offset + i);
  return out;
}

/** Copies bytes into a page, one byte access each. */
export function writePageBytes(page: SharedPage, offset: number, data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) page.write8(offset + i, data[i]!);
}
