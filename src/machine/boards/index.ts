/**
 * The boards: whole simulated machines that `pvkit run`, the monitors and the comparison drive
 * through the Board interface. `createBoard(arch, options)` picks one by architecture; each
 * board adds one line to BOARD_FACTORIES.
 */
import type { Arch, Board } from "../board.js";
import type { CostName } from "../cost.js";
import type { DiskImage } from "../devices/ata-disk.js";
import type { Ne2000Options } from "../devices/ne2000.js";
import { EM_386, EM_MIPS } from "../loader/elf.js";
import { MipssimBoard } from "./mipssim.js";
import { PcBoard } from "./pc.js";

export { MIPSSIM_RAM_BYTES, MIPSSIM_UART_IRQ, MIPSSIM_UART_PORT, MipssimBoard } from "./mipssim.js";
export { COM1_BASE, COM1_IRQ, PC_DEFAULT_RAM, PcBoard, type PcBoardOptions } from "./pc.js";

/** What every board accepts. */
export interface BoardOptions {
  /** RAM size in bytes (default: the QEMU board's default). */
  ramBytes?: number;
  /** Receives each byte the guest writes to its console UART (COM1 / port 0x3F8). */
  console?: (byte: number) => void;
  /** Bytes queued for the guest's console UART. */
  input?: string | Uint8Array;
  /** Board-level warnings (unclaimed ports, …). */
  warn?: (message: string) => void;
  /** Cost table (default CostTable; `pvkit compare --trap-scale` passes a scaled one). */
  costs?: Readonly<Record<CostName, number>>;
  /** Disk image for the emulated IDE master (PC board: primary channel 0x1F0, IRQ14). */
  disk?: DiskImage;
  /** An NE2000 (PC board: 0x300, IRQ9): MAC, host frame sink, or loopback (frames sent come back). */
  nic?: Pick<Ne2000Options, "mac" | "sink" | "loopback" | "rxCycles">;
}

/** A board that can load a guest image (ELF on MIPS; multiboot ELF on the PC). */
export interface GuestBoard extends Board {
  /** Loads the image into RAM and resets the CPU at its entry. Throws LoaderError on a bad image. */
  loadGuest(bytes: Uint8Array, file: string): { entry: number };
  /** Why the last run stopped when the board decided it (unhandled exception, exception loop). */
  readonly stopDetail: string;
}

export type BoardFactory = (options: BoardOptions) => GuestBoard;

/** One entry per architecture. */
export const BOARD_FACTORIES: Partial<Record<Arch, BoardFactory>> = {
  mips: (o) => new MipssimBoard(o),
  x86: (o) => new PcBoard(o),
};

/** Builds the board for `arch`; throws if none is registered. */
export function createBoard(arch: Arch, options: BoardOptions = {}): GuestBoard {
  const factory = BOARD_FACTORIES[arch];
  if (!factory) throw new Error(`no board for architecture "${arch}" yet`);
  return factory(options);
}

/** The architecture an ELF file was built for, from e_machine; undefined if not one of ours. */
export function archOfElf(bytes: Uint8Array): Arch | undefined {
  if (bytes.length < 20 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    return undefined;
  }
  const machine = bytes[5] === 2 ? (bytes[18]! << 8) | bytes[19]! : bytes[18]! | (bytes[19]! << 8);
  return machine === EM_MIPS ? "mips" : machine === EM_386 ? "x86" : undefined;
}
