/**
 * PCI configuration mechanism #1 (PCI Local Bus Specification 2.1, section 3.7.4.1): a 32-bit
 * CONFIG_ADDRESS register at 0xCF8 (enable bit 31, bus, device, function, dword register) and
 * a CONFIG_DATA window at 0xCFC–0xCFF. Only bus 0 exists; absent functions read all ones.
 *
 * The PC board puts here what a guest finds first on QEMU's `-M pc` after SeaBIOS: the i440FX
 * host bridge at 00:00.0 (8086:1237), the PIIX3 ISA bridge at 00:01.0 (8086:7000) and the PIIX3
 * IDE function at 00:01.1 (8086:7010, class 01 01 80: legacy ports, bus master) whose BAR4 maps
 * the bus-master registers at 0xC040 with command = I/O | memory (0x0003), the values SeaBIOS
 * leaves (checked by samples/guests/x86/devices/ide-dma-test.elf). QEMU's other functions
 * (00:01.3 PM, 00:02.0 VGA, 00:03.0 NIC) are not modelled. BARs are fixed: a guest that moves
 * BAR4 gets a warning and the registers stay where they are.
 */
import type { PortBus, PortHandler, PortSize } from "../io-ports.js";

export const PCI_CONFIG_ADDRESS = 0xcf8;
export const PCI_CONFIG_DATA = 0xcfc;

/** Standard header offsets (PCI 2.1 Figure 6-1). */
export const PciReg = {
  VENDOR_ID: 0x00,
  DEVICE_ID: 0x02,
  COMMAND: 0x04,
  STATUS: 0x06,
  REVISION: 0x08,
  CLASS_PROG: 0x09,
  HEADER_TYPE: 0x0e,
  BAR0: 0x10,
  BAR4: 0x20,
  INTERRUPT_LINE: 0x3c,
} as const;

/** One function's 256-byte configuration space and which bits a guest may write. */
export class PciFunction {
  readonly config = new Uint8Array(256);
  /** Per byte: the bits a configuration write changes. */
  readonly writable = new Uint8Array(256);

  constructor(
    readonly name: string,
    vendor: number,
    device: number,
    classCode: number,
    opts: { revision?: number; headerType?: number; command?: number } = {},
  ) {
    this.set16(PciReg.VENDOR_ID, vendor);
    this.set16(PciReg.DEVICE_ID, device);
    this.config[PciReg.REVISION] = opts.revision ?? 0;
    this.config[0x09] = classCode & 0xff;
    this.config[0x0a] = (classCode >> 8) & 0xff;
    this.config[0x0b] = (classCode >> 16) & 0xff;
    this.config[PciReg.HEADER_TYPE] = opts.headerType ?? 0;
    this.set16(PciReg.COMMAND, opts.command ?? 0);
    // Command: I/O, memory, bus master, parity/SERR bits a driver may toggle.
    this.writable[PciReg.COMMAND] = 0x47;
    this.writable[PciReg.COMMAND + 1] = 0x01;
    this.writable[PciReg.INTERRUPT_LINE] = 0xff;
  }

  set16(off: number, v: number): void {
    this.config[off] = v & 0xff;
    this.config[off + 1] = (v >> 8) & 0xff;
  }

  set32(off: number, v: number): void {
    this.set16(off, v & 0xffff);
    this.set16(off + 2, v >>> 16);
  }

  read(off: number, size: PortSize): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | this.config[(off + i) & 0xff]!;
    return v >>> 0;
  }

  /** Writes through the writable mask; `onWrite` sees the register offsets touched. */
  write(off: number, size: PortSize, value: number): void {
    for (let i = 0; i < size; i++) {
      const o = (off + i) & 0xff;
      const m = this.writable[o]!;
      const b = (value >>> (8 * i)) & 0xff;
      this.config[o] = (this.config[o]! & ~m) | (b & m);
    }
  }
}

export class PciConfigSpace implements PortHandler {
  readonly name = "PCI configuration mechanism #1";
  private address = 0;
  private readonly functions = new Map<number, PciFunction>();
  private readonly warned = new Set<string>();

  constructor(
    bus: PortBus | null,
    private readonly warn: (msg: string) => void = () => {},
  ) {
    bus?.register(PCI_CONFIG_ADDRESS, 4, this);
    bus?.register(PCI_CONFIG_DATA, 4, this);
  }

  /** Places `fn` at bus 0, `device`, `func`. */
  add(device: number, func: number, fn: PciFunction): PciFunction {
    this.functions.set((device << 3) | func, fn);
    return fn;
  }

  private target(): PciFunction | undefined {
    if (!(this.address & 0x80000000) || (this.address >> 16) & 0xff) return undefined;
    return this.functions.get((this.address >> 8) & 0xff);
  }

  read(port: number, size: PortSize): number {
    if (port < PCI_CONFIG_DATA) {
      if (port === PCI_CONFIG_ADDRESS && size === 4) return this.address >>> 0;
      this.warnOnce(
        "addr",
        `${this.name}: ${size}-byte access to 0x${port.toString(16)} (only dword CONFIG_ADDRESS)`,
      );
      return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    }
    const fn = this.target();
    const ones = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    if (!fn) return ones;
    return fn.read((this.address & 0xfc) + (port - PCI_CONFIG_DATA), size);
  }

  write(port: number, size: PortSize, value: number): void {
    if (port < PCI_CONFIG_DATA) {
      if (port === PCI_CONFIG_ADDRESS && size === 4) this.address = value >>> 0;
      else this.warnOnce("addrw", `${this.name}: ${size}-byte write to 0x${port.toString(16)} ignored`);
      return;
    }
    const fn = this.target();
    if (!fn) return;
    const off = (this.address & 0xfc) + (port - PCI_CONFIG_DATA);
    if (off >= PciReg.BAR0 && off < PciReg.BAR0 + 24) {
      this.warnOnce(`bar${fn.name}`, `${this.name}: ${fn.name} BARs are fixed in pvkit; write ignored`);
      return;
    }
    fn.write(off, size, value);
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(msg);
  }
}

/** Where SeaBIOS puts the PIIX3 IDE bus-master registers on QEMU's pc (BAR4 = 0xC041). */
export const PIIX3_BMDMA_BASE = 0xc040;

/** The PCI functions of QEMU's pc a guest meets first; returns the IDE function. */
export function addPiix3(pci: PciConfigSpace, bmdmaBase = PIIX3_BMDMA_BASE): PciFunction {
  pci.add(0, 0, new PciFunction("i440FX host bridge", 0x8086, 0x1237, 0x060000, { revision: 2 }));
  pci.add(
    1,
    0,
    new PciFunction("PIIX3 ISA bridge", 0x8086, 0x7000, 0x060100, { headerType: 0x80, command: 0x0007 }),
  );
  const ide = new PciFunction("PIIX3 IDE", 0x8086, 0x7010, 0x010180, { command: 0x0003 });
  ide.set32(PciReg.BAR4, bmdmaBase | 1);
  return pci.add(1, 1, ide);
}
