/**
 * The pvkit exit port: a write of v stops the machine and `pvkit run` exits with status v.
 *
 * It sits at port 0x501 on both boards, where QEMU's pc board takes
 * `-device isa-debug-exit,iobase=0x501,iosize=2` (which exits QEMU with (v << 1) | 1; QEMU's
 * mipssim has no such device and ignores the write). Like isa-debug-exit it claims two ports and
 * ignores the offset; 8-, 16- and 32-bit writes request the value masked to the access width.
 * Reads return 0.
 */
import type { StopSignal } from "../cpu.js";
import type { PortBus, PortHandler, PortSize } from "../io-ports.js";

/** Port of the exit device on both boards. */
export const EXIT_PORT = 0x501;
/** Ports it claims (isa-debug-exit's iosize=2). */
export const EXIT_PORT_COUNT = 2;

export class ExitPort implements PortHandler {
  readonly name = "exit port";
  /** Number of exit requests seen (the machine normally stops at the first). */
  writes = 0;

  constructor(
    bus: PortBus | null,
    private readonly stop: StopSignal,
    base: number = EXIT_PORT,
  ) {
    bus?.register(base, EXIT_PORT_COUNT, this);
  }

  read(_port: number, _size: PortSize): number {
    return 0;
  }

  write(_port: number, size: PortSize, value: number): void {
    const masked = size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value >>> 0;
    this.writes++;
    this.stop.request(masked);
  }
}
