/**
 * DI roles of the block layer (DESIGN.md "Dependency injection"): a workload asks for
 * `BlockDevice`; the `pv` profile registers a connected BlkFrontend under it, the `full`
 * profile an emulated-IDE driver. Monitor side, `DiskBackend` names the BlockStore a back end
 * serves. Explicit symbols (Symbol.for, so every bundle chunk agrees); no decorator metadata.
 */
import type { BlockStore } from "./block-store.js";

/** What a workload needs from a disk, whatever path carries it. Sectors are 512 bytes. */
export interface BlockDevice {
  /** Capacity in 512-byte sectors. */
  readonly sectors: number;
  /** Logical block size in bytes (512). */
  readonly sectorSize: number;
  readonly readOnly: boolean;
  /** Reads `count` sectors from `sector`. */
  read(sector: number, count: number): Promise<Uint8Array>;
  /** Writes `data` (a multiple of 512 bytes) at `sector`. */
  write(sector: number, data: Uint8Array): Promise<void>;
  /** Makes completed writes durable. */
  flush(): Promise<void>;
  /** Discards `count` sectors from `sector` (they read back as zeros on pvkit's stores). */
  discard(sector: number, count: number): Promise<void>;
}

export const BlockDeviceToken = Symbol.for("pvkit.BlockDevice");
export const DiskBackendToken = Symbol.for("pvkit.DiskBackend");

/** The DiskBackend role is a BlockStore. */
export type DiskBackend = BlockStore;
