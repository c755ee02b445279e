/**
 * The I/O port space (64 Ki ports): x86 IN/OUT reach it directly, the MIPS board through its
 * ISA window at physical 0x1FD00000 + port. A dense table pre-filled with an open-bus handler,
 * as v86's io.js does; each device registers its own ports in its constructor.
 */

/** Width of one port access in bytes. */
export type PortSize = 1 | 2 | 4;

/** A device's side of the port bus. `port` is the absolute port number. */
export interface PortHandler {
  readonly name: string;
  read(port: number, size: PortSize): number;
  write(port: number, size: PortSize, value: number): void;
}

const PORT_COUNT = 0x10000;

/** Reads of unclaimed ports float high, as on an ISA bus; writes vanish. */
class OpenBus implements PortHandler {
  readonly name = "open bus";
  readonly warned = new Set<number>();
  constructor(private readonly warn: (msg: string) => void) {}
  read(port: number, size: PortSize): number {
    this.warnOnce(port, "read");
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }
  write(port: number, _size: PortSize, _value: number): void {
    this.warnOnce(port, "write");
  }
  private warnOnce(port: number, what: string): void {
    if (this.warned.has(port)) return;
    this.warned.add(port);
    this.warn(`${what} of unclaimed I/O port 0x${port.toString(16)} (open bus)`);
  }
}

export class PortBus {
  private readonly handlers: PortHandler[];
  private readonly openBus: OpenBus;
  /** Count of port accesses, for statistics. */
  accesses = 0;

  constructor(warn: (msg: string) => void = () => {}) {
    this.openBus = new OpenBus(warn);
    this.handlers = new Array<PortHandler>(PORT_COUNT).fill(this.openBus);
  }

  /** Claims `count` ports from `base` for `handler`; overlapping claims are a wiring bug. */
  register(base: number, count: number, handler: PortHandler): void {
    for (let p = base; p < base + count; p++) {
      const old = this.handlers[p]!;
      if (old !== this.openBus) {
        throw new Error(`I/O port 0x${p.toString(16)} claimed by both ${old.name} and ${handler.name}`);
      }
      this.handlers[p] = handler;
    }
  }

  handlerAt(port: number): PortHandler {
    return this.handlers[port & 0xffff]!;
  }

  read(port: number, size: PortSize): number {
    this.accesses++;
    return this.handlers[port & 0xffff]!.read(port & 0xffff, size);
  }

  write(port: number, size: PortSize, value: number): void {
    this.accesses++;
    this.handlers[port & 0xffff]!.write(port & 0xffff, size, value);
  }
}
