/**
 * Physical memory of a simulated machine: one flat RAM from physical address 0.
 *
 * The CPUs reach RAM through the typed-array views directly on their hot paths (no call per
 * access); everything else goes through the methods. The host must be little endian, like both
 * simulated CPUs, so the aligned `u16`/`u32` views read guest words without byte swapping.
 */
import { MachineError } from "./errors.js";

/** Size of the page used for write watching and ownership checks (4 KiB on both boards). */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new MachineError(
    "pvkit needs a little-endian host: the simulated CPUs read RAM through typed arrays",
  );
}

/**
 * Called for a store into a watched page, after the store. Decode caches use it to drop
 * predecoded code; the x86 monitor uses it to catch writes to scanned code and to page tables.
 */
export type WatchedWriteHandler = (paddr: number, size: number) => void;

/**
 * Called for every guest access when an ownership oracle is installed (test mode of the
 * hypervisor): it throws if the access touches a page the running domain does not own.
 */
export type AccessOracle = (paddr: number, size: number, write: boolean) => void;

export class PhysicalMemory {
  /** RAM size in bytes, a multiple of PAGE_SIZE. */
  readonly size: number;
  readonly u8: Uint8Array;
  /** Aligned 16-bit view: index = paddr >>> 1. */
  readonly u16: Uint16Array;
  /** Aligned 32-bit view: index = paddr >>> 2. */
  readonly u32: Uint32Array;
  readonly view: DataView;
  /** One byte per page; nonzero means stores to the page call every watch handler. */
  readonly watched: Uint8Array;
  /** Installed by the hypervisor in test mode; CPUs call it on every access when non-null. */
  oracle: AccessOracle | null = null;
  private readonly watchHandlers: WatchedWriteHandler[] = [];

  constructor(sizeBytes: number) {
    if (!Number.isInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % PAGE_SIZE !== 0) {
      throw new MachineError(`RAM size must be a positive multiple of ${PAGE_SIZE} bytes, got ${sizeBytes}`);
    }
    this.size = sizeBytes;
    const buffer = new ArrayBuffer(sizeBytes);
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.view = new DataView(buffer);
    this.watched = new Uint8Array(sizeBytes >>> PAGE_SHIFT);
  }

  /** Number of 4 KiB pages. */
  get pages(): number {
    return this.size >>> PAGE_SHIFT;
  }

  contains(paddr: number, size = 1): boolean {
    return paddr >= 0 && size >= 0 && paddr + size <= this.size;
  }

  /** Adds a handler for stores into watched pages. Returns a function that removes it. */
  addWatchHandler(handler: WatchedWriteHandler): () => void {
    this.watchHandlers.push(handler);
    return () => {
      const i = this.watchHandlers.indexOf(handler);
      if (i >= 0) this.watchHandlers.splice(i, 1);
    };
  }

  /** Marks or unmarks a page as watched; several users share the byte as a count. */
  watchPage(page: number, on: boolean): void {
    const n = this.watched[page] ?? 0;
    this.watched[page] = on ? Math.min(255, n + 1) : Math.max(0, n - 1);
  }

  /** CPUs call this after a store into a page whose `watched` byte is nonzero. */
  notifyWatchedWrite(paddr: number, size: number): void {
    for (const h of this.watchHandlers) h(paddr, size);
  }

  read8(paddr: number): number {
    this.check(paddr, 1);
    return this.u8[paddr]!;
  }
  read16(paddr: number): number {
    this.check(paddr, 2);
    return this.view.getUint16(paddr, true);
  }
  read32(paddr: number): number {
    this.check(paddr, 4);
    return this.view.getUint32(paddr, true);
  }
  write8(paddr: number, value: number): void {
    this.check(paddr, 1);
    this.u8[paddr] = value;
    this.afterWrite(paddr, 1);
  }
  write16(paddr: number, value: number): void {
    this.check(paddr, 2);
    this.view.setUint16(paddr, value, true);
    this.afterWrite(paddr, 2);
  }
  write32(paddr: number, value: number): void {
    this.check(paddr, 4);
    this.view.setUint32(paddr, value >>> 0, true);
    this.afterWrite(paddr, 4);
  }
  /** Copies bytes into RAM (loaders, DMA, grant copies); fires watch handlers per touched page. */
  writeBytes(paddr: number, data: Uint8Array): void {
    this.check(paddr, data.length);
    this.u8.set(data, paddr);
    if (data.length > 0) this.afterWrite(paddr, data.length);
  }
  /** Returns a copy of `length` bytes (never a view: callers must not alias machine memory). */
  readBytes(paddr: number, length: number): Uint8Array {
    this.check(paddr, length);
    return this.u8.slice(paddr, paddr + length);
  }

  private afterWrite(paddr: number, size: number): void {
    const first = paddr >>> PAGE_SHIFT;
    const last = (paddr + size - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last; p++) {
      if (this.watched[p] !== 0) {
        this.notifyWatchedWrite(paddr, size);
        return;
      }
    }
  }

  private check(paddr: number, size: number): void {
    if (!this.contains(paddr, size)) {
      throw new MachineError(
        `physical access of ${size} bytes at 0x${(paddr >>> 0).toString(16)} is outside RAM (0..0x${this.size.toString(16)})`,
      );
    }
  }
}
