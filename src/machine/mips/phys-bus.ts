/**
 * The physical address space of the MIPS board, laid out as QEMU's `-M mipssim`
 * (hw/mips/mipssim.c): RAM from 0, a 4 MiB boot ROM at 0x1FC00000, and the 64 KiB ISA I/O
 * window at 0x1FD00000 (port N at 0x1FD00000 + N). Anything else is a bus error (IBE/DBE).
 *
 * The CPU reaches RAM directly through typed arrays on its fast paths; this class serves the slow
 * paths (ROM, ports, unmapped holes) and tells the CPU whether a device was touched, so it can
 * check the stop signal and end its compiled block.
 */
import type { PortBus, PortSize } from "../io-ports.js";
import type { PhysicalMemory } from "../memory.js";

export const BOOT_ROM_BASE = 0x1fc00000;
export const BOOT_ROM_SIZE = 4 * 1024 * 1024;
export const ISA_IO_BASE = 0x1fd00000;
export const ISA_IO_SIZE = 0x10000;

export class MipsPhysBus {
  /** Boot ROM contents (zero-filled beyond what was supplied, as QEMU's ROM region). */
  readonly rom: Uint8Array;
  private readonly romView: DataView;
  /** Set by a failed access (no device at that physical address): the CPU raises IBE/DBE. */
  error = false;
  /** Set by an access that reached a device (port window): the CPU ends its block and checks stop. */
  touchedDevice = false;
  /** Port-window accesses, for statistics and the device-register cost. */
  deviceAccesses = 0;

  constructor(
    readonly memory: PhysicalMemory,
    readonly ports: PortBus,
    rom?: Uint8Array,
  ) {
    if (memory.size > BOOT_ROM_BASE) {
      throw new RangeError(`MIPS RAM of ${memory.size} bytes overlaps the boot ROM at 0x1fc00000`);
    }
    this.rom = new Uint8Array(BOOT_ROM_SIZE);
    if (rom) this.rom.set(rom.subarray(0, BOOT_ROM_SIZE));
    this.romView = new DataView(this.rom.buffer);
  }

  /** Reads `size` bytes (aligned) at physical `pa`; sets `error` and returns 0 if nothing is there. */
  read(pa: number, size: 1 | 2 | 4): number {
    this.error = false;
    const mem = this.memory;
    if (pa + size <= mem.size) {
      if (mem.oracle) mem.oracle(pa, size, false);
      return size === 4 ? mem.u32[pa >>> 2]! : size === 2 ? mem.u16[pa >>> 1]! : mem.u8[pa]!;
    }
    if (pa >= ISA_IO_BASE && pa < ISA_IO_BASE + ISA_IO_SIZE) {
      this.touchedDevice = true;
      this.deviceAccesses++;
      return this.ports.read(pa - ISA_IO_BASE, size as PortSize) >>> 0;
    }
    if (pa >= BOOT_ROM_BASE && pa < BOOT_ROM_BASE + BOOT_ROM_SIZE) {
      const o = pa - BOOT_ROM_BASE;
      return size === 4
        ? this.romView.getUint32(o, true)
        : size === 2
          ? this.romView.getUint16(o, true)
          : this.rom[o]!;
    }
    this.error = true;
    return 0;
  }

  /** Writes `size` bytes (aligned) at physical `pa`; ROM ignores writes; sets `error` on a hole. */
  write(pa: number, size: 1 | 2 | 4, value: number): void {
    this.error = false;
    const mem = this.memory;
    if (pa + size <= mem.size) {
      if (mem.oracle) mem.oracle(pa, size, true);
      if (size === 4) mem.u32[pa >>> 2] = value;
      else if (size === 2) mem.u16[pa >>> 1] = value;
      else mem.u8[pa] = value;
      if (mem.watched[pa >>> 12] !== 0) mem.notifyWatchedWrite(pa, size);
      return;
    }
    if (pa >= ISA_IO_BASE && pa < ISA_IO_BASE + ISA_IO_SIZE) {
      this.touchedDevice = true;
      this.deviceAccesses++;
      const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
      this.ports.write(pa - ISA_IO_BASE, size as PortSize, (value & mask) >>> 0);
      return;
    }
    if (pa >= BOOT_ROM_BASE && pa < BOOT_ROM_BASE + BOOT_ROM_SIZE) return;
    this.error = true;
  }

  /** True if instructions can be fetched from `pa` (RAM or ROM). */
  isMemory(pa: number): boolean {
    return pa < this.memory.size || (pa >= BOOT_ROM_BASE && pa < BOOT_ROM_BASE + BOOT_ROM_SIZE);
  }

  /** Loads bytes into the boot ROM (e.g. a firmware image). */
  loadRom(bytes: Uint8Array, offset = 0): void {
    this.rom.set(bytes, offset);
  }
}
