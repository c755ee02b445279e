/**
 * An IDE channel with one ATA hard disk as master (no slave): the task-file registers of
 * ATA/ATAPI-6 (T13/1410D rev. 3b, section 7) on a command block of 8 ports and a control block
 * of 1 (primary channel: 0x1F0–0x1F7 and 0x3F6, IRQ14 — DESIGN.md "PC board").
 *
 * QEMU 7.2's ide core (hw/ide/core.c) is the behavioural reference, and
 * samples/guests/x86/devices/ide-test.elf checks it register by register
 * (test/differential/x86-devices/ide.test.ts):
 *  - IDENTIFY DEVICE returns QEMU's words: serial "QM00001", firmware "2.5+", model
 *    "QEMU HARDDISK", 16 sectors per DRQ block at most, LBA48, write cache, CHS from QEMU's
 *    guess for a disk without a partition table (16 heads, 63 sectors, ≥ 2 cylinders);
 *  - after reset the device reports the ATA signature (count 1, LBA 1, error 01), status 50,
 *    multiple mode 16;
 *  - READ SECTORS leaves the LBA registers one past the last sector transferred and the count
 *    at 0; the range is checked per DRQ block, so a read across the end delivers the sectors
 *    before it and then aborts (status 41, error ABRT) with the registers at the bad block;
 *  - an absent slave reads as 0 in every register but Device, and ignores commands;
 *  - a command written while BSY or DRQ is set is ignored;
 *  - the IDENTIFY words are built once, at the first IDENTIFY, and returned unchanged after that
 *    (QEMU's identify_set cache): word 59 keeps the multiple mode of that moment even after SET
 *    MULTIPLE MODE or a reset; SET FEATURES (write cache, transfer mode) patches the cached words.
 * Completion is an event on the simulated clock `commandCycles` after the command (and after
 * each written block), so BSY is visible for a while, as on any disk, and every run is the same.
 * Interrupts: INTRQ is set at each read DRQ block, at each written block and at command
 * completion, cleared by reading Status or writing Command; the line is INTRQ gated by nIEN.
 * Bus-master DMA (READ/WRITE DMA (EXT)) goes through an `IdeBusMaster` (PIIX3 BMIC/BMIS/BMIDTP,
 * Intel 82371SB datasheet 2.7): the command waits until BMIC.Start, then, `commandCycles`
 * later, the whole transfer moves between the image and guest memory along the PRD table and
 * completes with INTRQ (which sets BMIS.Interrupt, as QEMU's bmdma_irq does: only when the
 * line is raised, so not under nIEN). As in QEMU the range is checked for the whole command
 * before any data moves, and BMIS.Active is cleared at the end even when PRDs are left over.
 * A PRD table shorter than the transfer moves what fits and sets BMIS.Error. Without a bus
 * master READ/WRITE DMA abort.
 */

import type { SimClock, TimerHandle } from "../clock.js";
import { type IrqLine, NO_IRQ } from "../cpu.js";
import type { PortBus, PortHandler, PortSize } from "../io-ports.js";
import { ATA_SECTOR_SIZE, type DiskImage } from "./ata-disk.js";

/** Command block register offsets (ATA-6 Table 19). */
export const AtaReg = {
  DATA: 0,
  /** Read: Error. */
  ERROR: 1,
  /** Write: Features. */
  FEATURES: 1,
  SECTOR_COUNT: 2,
  LBA_LOW: 3,
  LBA_MID: 4,
  LBA_HIGH: 5,
  DEVICE: 6,
  /** Read: Status (clears INTRQ). */
  STATUS: 7,
  /** Write: Command. */
  COMMAND: 7,
} as const;

// Status register bits (ATA-6 7.15.6).
export const ATA_SR_ERR = 0x01;
export const ATA_SR_DRQ = 0x08;
/** Device Seek Complete (obsolete in ATA-6, still set by QEMU). */
export const ATA_SR_DSC = 0x10;
export const ATA_SR_DF = 0x20;
export const ATA_SR_DRDY = 0x40;
export const ATA_SR_BSY = 0x80;
// Error register bits.
export const ATA_ER_ABRT = 0x04;
// Device control register bits (ATA-6 7.9).
export const ATA_CTL_NIEN = 0x02;
export const ATA_CTL_SRST = 0x04;
export const ATA_CTL_HOB = 0x80;
// Device register bits.
export const ATA_DEV_DEV = 0x10;
export const ATA_DEV_LBA = 0x40;

/** Command codes (ATA-6 Table 35; QEMU ide_cmd_table). */
export const AtaCmd = {
  NOP: 0x00,
  READ_SECTORS: 0x20,
  READ_SECTORS_EXT: 0x24,
  READ_MULTIPLE_EXT: 0x29,
  WRITE_SECTORS: 0x30,
  WRITE_SECTORS_EXT: 0x34,
  WRITE_MULTIPLE_EXT: 0x39,
  READ_VERIFY_SECTORS: 0x40,
  READ_VERIFY_SECTORS_EXT: 0x42,
  EXECUTE_DEVICE_DIAGNOSTIC: 0x90,
  INITIALIZE_DEVICE_PARAMETERS: 0x91,
  READ_MULTIPLE: 0xc4,
  WRITE_MULTIPLE: 0xc5,
  SET_MULTIPLE_MODE: 0xc6,
  READ_DMA: 0xc8,
  WRITE_DMA: 0xca,
  READ_DMA_EXT: 0x25,
  WRITE_DMA_EXT: 0x35,
  CHECK_POWER_MODE: 0xe5,
  FLUSH_CACHE: 0xe7,
  FLUSH_CACHE_EXT: 0xea,
  IDENTIFY_DEVICE: 0xec,
  SET_FEATURES: 0xef,
} as const;

/** Most sectors per DRQ block in READ/WRITE MULTIPLE (QEMU MAX_MULT_SECTORS). */
export const ATA_MAX_MULT_SECTORS = 16;
/** Primary channel resources on a PC (ATA-6 annex; QEMU pc's ide_iobase/ide_irq). */
export const IDE_PRIMARY_BASE = 0x1f0;
export const IDE_PRIMARY_CTL = 0x3f6;
export const IDE_PRIMARY_IRQ = 14;
/**
 * Simulated cycles from a command (or a written block) to its completion. A model choice, not a
 * measured figure: short enough that polling guests finish quickly, long enough that BSY is seen.
 */
export const ATA_DEFAULT_COMMAND_CYCLES = 2000;

/** Identification strings as QEMU presents its first IDE disk (hw/ide/core.c ide_dev_initfn). */
export const ATA_SERIAL = "QM00001";
export const ATA_FIRMWARE = "2.5+";
export const ATA_MODEL = "QEMU HARDDISK";

const enum Xfer {
  None = 0,
  Read = 1,
  Write = 2,
  /** IDENTIFY: one buffer, then done. */
  Pio = 3,
}

export interface IdeOptions {
  irq?: IrqLine;
  /** Command block base (default 0x1F0) and control port (default 0x3F6). */
  base?: number;
  ctl?: number;
  name?: string;
  commandCycles?: number;
  warn?: (msg: string) => void;
}

export interface IdeState {
  feature: number;
  nsector: number;
  sector: number;
  lcyl: number;
  hcyl: number;
  hobFeature: number;
  hobNsector: number;
  hobSector: number;
  hobLcyl: number;
  hobHcyl: number;
  select: number;
  status: number;
  error: number;
  control: number;
  multSectors: number;
  writeCache: boolean;
  intrq: boolean;
  /** The cached IDENTIFY words, once a guest has asked for them. */
  identify: number[] | null;
}

/** QEMU's CHS guess for a disk without a partition table (hw/block/hd-geometry.c guess_chs_for_size). */
export function guessChs(sectors: number): { cylinders: number; heads: number; secs: number } {
  let cylinders = Math.floor(sectors / (16 * 63));
  if (cylinders > 16383) cylinders = 16383;
  else if (cylinders < 2) cylinders = 2;
  return { cylinders, heads: 16, secs: 63 };
}

export class IdeChannel implements PortHandler {
  readonly name: string;
  /** Commands executed, sectors transferred, for statistics. */
  commands = 0;
  sectorsRead = 0;
  sectorsWritten = 0;
  private readonly irq: IrqLine;
  private readonly commandCycles: number;
  private readonly warn: (msg: string) => void;
  private readonly warned = new Set<string>();
  private readonly base: number;
  private readonly ctl: number;
  private readonly chs: { cylinders: number; heads: number; secs: number };
  // Task file.
  private feature = 0;
  private nsector = 0;
  private sector = 0;
  private lcyl = 0;
  private hcyl = 0;
  private hobFeature = 0;
  private hobNsector = 0;
  private hobSector = 0;
  private hobLcyl = 0;
  private hobHcyl = 0;
  private select = 0xa0;
  private status = ATA_SR_DRDY | ATA_SR_DSC;
  private error = 0x01;
  private control = 0;
  private multSectors = ATA_MAX_MULT_SECTORS;
  private writeCache = true;
  private intrq = false;
  private identify: Uint16Array | null = null;
  // Data transfer in progress.
  private readonly buffer = new Uint8Array(ATA_MAX_MULT_SECTORS * ATA_SECTOR_SIZE);
  private xfer: Xfer = Xfer.None;
  private bufPos = 0;
  private bufEnd = 0;
  /** Sectors left in the command; sectors per DRQ block; LBA48 command. */
  private remaining = 0;
  private blockSectors = 1;
  private lba48 = false;
  private pending: TimerHandle | null = null;
  /** The bus-master function, when the board has one (PC: PIIX3 BAR4). */
  busMaster: IdeBusMaster | null = null;
  /** A DMA command waiting for BMIC.Start: 0 none, 1 to memory (READ DMA), 2 from memory. */
  private dmaPending = 0;

  constructor(
    bus: PortBus | null,
    private readonly clock: SimClock,
    readonly disk: DiskImage,
    opts: IdeOptions = {},
  ) {
    this.name = opts.name ?? "IDE primary";
    this.irq = opts.irq ?? NO_IRQ;
    this.commandCycles = opts.commandCycles ?? ATA_DEFAULT_COMMAND_CYCLES;
    this.warn = opts.warn ?? (() => {});
    this.base = opts.base ?? IDE_PRIMARY_BASE;
    this.ctl = opts.ctl ?? IDE_PRIMARY_CTL;
    this.chs = guessChs(disk.sectors);
    this.resetDevice();
    bus?.register(this.base, 8, this);
    bus?.register(this.ctl, 1, this);
  }

  private get slaveSelected(): boolean {
    return (this.select & ATA_DEV_DEV) !== 0;
  }

  read(port: number, size: PortSize): number {
    if (port === this.ctl) return this.slaveSelected ? 0 : this.status; // Alternate Status
    const reg = port - this.base;
    if (reg === AtaReg.DATA) return this.readData(size);
    if (reg === AtaReg.DEVICE) return this.select;
    if (this.slaveSelected) return 0;
    const hob = (this.control & ATA_CTL_HOB) !== 0;
    switch (reg) {
      case AtaReg.ERROR:
        return hob ? this.hobFeature : this.error;
      case AtaReg.SECTOR_COUNT:
        return hob ? this.hobNsector : this.nsector;
      case AtaReg.LBA_LOW:
        return hob ? this.hobSector : this.sector;
      case AtaReg.LBA_MID:
        return hob ? this.hobLcyl : this.lcyl;
      case AtaReg.LBA_HIGH:
        return hob ? this.hobHcyl : this.hcyl;
      default: // STATUS
        this.setIntrq(false);
        return this.status;
    }
  }

  write(port: number, size: PortSize, value: number): void {
    if (port === this.ctl) {
      this.writeControl(value & 0xff);
      return;
    }
    const reg = port - this.base;
    if (reg === AtaReg.DATA) {
      this.writeData(size, value);
      return;
    }
    const v = value & 0xff;
    // Writes to the task file clear HOB (ATA-6 7.9.6) and shift the old value into the HOB copy.
    if (reg >= AtaReg.FEATURES && reg <= AtaReg.LBA_HIGH) this.control &= ~ATA_CTL_HOB;
    switch (reg) {
      case AtaReg.FEATURES:
        this.hobFeature = this.feature;
        this.feature = v;
        break;
      case AtaReg.SECTOR_COUNT:
        this.hobNsector = this.nsector;
        this.nsector = v;
        break;
      case AtaReg.LBA_LOW:
        this.hobSector = this.sector;
        this.sector = v;
        break;
      case AtaReg.LBA_MID:
        this.hobLcyl = this.lcyl;
        this.lcyl = v;
        break;
      case AtaReg.LBA_HIGH:
        this.hobHcyl = this.hcyl;
        this.hcyl = v;
        break;
      case AtaReg.DEVICE:
        this.select = v | 0xa0;
        break;
      default:
        this.command(v);
    }
  }

  private writeControl(v: number): void {
    const was = this.control;
    this.control = v;
    if (v & ATA_CTL_SRST) {
      // Reset held: the device is busy until SRST is cleared (ATA-6 9.2).
      this.cancelPending();
      this.xfer = Xfer.None;
      this.status = ATA_SR_BSY | ATA_SR_DSC;
    } else if (was & ATA_CTL_SRST) {
      this.resetDevice();
    }
    this.updateIrq();
  }

  /** Power-on / software reset: signature, multiple mode 16 (QEMU ide_reset + ide_set_signature). */
  private resetDevice(): void {
    this.cancelPending();
    this.xfer = Xfer.None;
    this.dmaPending = 0;
    this.feature = this.hobFeature = 0;
    this.hobNsector = this.hobSector = this.hobLcyl = this.hobHcyl = 0;
    this.select = 0xa0;
    this.setSignature();
    this.error = 0x01;
    this.status = ATA_SR_DRDY | ATA_SR_DSC;
    this.multSectors = ATA_MAX_MULT_SECTORS;
    this.intrq = false;
    this.updateIrq();
  }

  private setSignature(): void {
    this.nsector = 1;
    this.sector = 1;
    this.lcyl = 0;
    this.hcyl = 0;
  }

  private setIntrq(level: boolean): void {
    this.intrq = level;
    if (level && (this.control & ATA_CTL_NIEN) === 0 && this.busMaster)
      this.busMaster.status |= BMIS_INTERRUPT;
    this.updateIrq();
  }

  private updateIrq(): void {
    this.irq.set(this.intrq && (this.control & ATA_CTL_NIEN) === 0);
  }

  private cancelPending(): void {
    if (this.pending) this.clock.cancel(this.pending);
    this.pending = null;
  }

  private later(fn: () => void): void {
    this.cancelPending();
    this.pending = this.clock.after(this.commandCycles, () => {
      this.pending = null;
      fn();
    });
  }

  // ---- addressing ----

  private getLba(): number {
    if (this.select & ATA_DEV_LBA) {
      if (this.lba48) {
        return (
          ((this.hobHcyl << 16) | (this.hobLcyl << 8) | this.hobSector) * 0x1000000 +
          ((this.hcyl << 16) | (this.lcyl << 8) | this.sector)
        );
      }
      return ((this.select & 0x0f) << 24) | (this.hcyl << 16) | (this.lcyl << 8) | this.sector;
    }
    const cyl = (this.hcyl << 8) | this.lcyl;
    return (cyl * this.chs.heads + (this.select & 0x0f)) * this.chs.secs + (this.sector - 1);
  }

  private setLba(lba: number): void {
    if (this.select & ATA_DEV_LBA) {
      if (this.lba48) {
        const hi = Math.floor(lba / 0x1000000);
        this.hobSector = hi & 0xff;
        this.hobLcyl = (hi >> 8) & 0xff;
        this.hobHcyl = (hi >> 16) & 0xff;
      } else {
        this.select = (this.select & 0xf0) | ((lba >>> 24) & 0x0f);
      }
      this.sector = lba & 0xff;
      this.lcyl = (lba >>> 8) & 0xff;
      this.hcyl = (lba >>> 16) & 0xff;
      return;
    }
    const cyl = Math.floor(lba / (this.chs.heads * this.chs.secs));
    const r = lba % (this.chs.heads * this.chs.secs);
    this.hcyl = (cyl >> 8) & 0xff;
    this.lcyl = cyl & 0xff;
    this.select = (this.select & 0xf0) | (Math.floor(r / this.chs.secs) & 0x0f);
    this.sector = (r % this.chs.secs) + 1;
  }

  private count(): number {
    if (this.lba48) {
      const n = (this.hobNsector << 8) | this.nsector;
      return n === 0 ? 65536 : n;
    }
    return this.nsector === 0 ? 256 : this.nsector;
  }

  private setCount(n: number): void {
    this.nsector = n & 0xff;
    if (this.lba48) this.hobNsector = (n >> 8) & 0xff;
  }

  // ---- commands ----

  private command(cmd: number): void {
    if (this.slaveSelected) return; // no slave: commands to it are ignored
    if (this.status & (ATA_SR_BSY | ATA_SR_DRQ)) return; // only DEVICE RESET, for ATAPI
    this.commands++;
    this.setIntrq(false);
    this.error = 0;
    this.lba48 = false;
    switch (cmd) {
      case AtaCmd.IDENTIFY_DEVICE:
        this.buildIdentify();
        this.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
        this.xfer = Xfer.Pio;
        this.bufPos = 0;
        this.bufEnd = ATA_SECTOR_SIZE;
        this.setIntrq(true);
        return;
      case AtaCmd.READ_SECTORS_EXT:
      case AtaCmd.READ_MULTIPLE_EXT:
        this.lba48 = true;
        this.startRead(cmd === AtaCmd.READ_MULTIPLE_EXT);
        return;
      case AtaCmd.READ_SECTORS:
      case AtaCmd.READ_MULTIPLE:
        this.startRead(cmd === AtaCmd.READ_MULTIPLE);
        return;
      case AtaCmd.WRITE_SECTORS_EXT:
      case AtaCmd.WRITE_MULTIPLE_EXT:
        this.lba48 = true;
        this.startWrite(cmd === AtaCmd.WRITE_MULTIPLE_EXT);
        return;
      case AtaCmd.WRITE_SECTORS:
      case AtaCmd.WRITE_MULTIPLE:
        this.startWrite(cmd === AtaCmd.WRITE_MULTIPLE);
        return;
      case AtaCmd.READ_DMA_EXT:
      case AtaCmd.WRITE_DMA_EXT:
        this.lba48 = true;
        this.startDma(cmd === AtaCmd.READ_DMA_EXT ? 1 : 2);
        return;
      case AtaCmd.READ_DMA:
      case AtaCmd.WRITE_DMA:
        this.startDma(cmd === AtaCmd.READ_DMA ? 1 : 2);
        return;
      case AtaCmd.READ_VERIFY_SECTORS_EXT:
        this.lba48 = true;
        this.verify();
        return;
      case AtaCmd.READ_VERIFY_SECTORS:
        this.verify();
        return;
      case AtaCmd.SET_MULTIPLE_MODE:
        if (this.nsector > ATA_MAX_MULT_SECTORS || (this.nsector & (this.nsector - 1)) !== 0) {
          this.abort();
        } else {
          this.multSectors = this.nsector;
          this.done();
        }
        return;
      case AtaCmd.FLUSH_CACHE:
      case AtaCmd.FLUSH_CACHE_EXT:
        this.status = ATA_SR_DRDY | ATA_SR_BSY;
        this.later(() => {
          this.disk.flush();
          this.done();
        });
        return;
      case AtaCmd.SET_FEATURES:
        this.setFeatures();
        return;
      case AtaCmd.EXECUTE_DEVICE_DIAGNOSTIC:
        this.setSignature();
        this.error = 0x01;
        this.done();
        return;
      case AtaCmd.INITIALIZE_DEVICE_PARAMETERS:
        this.done();
        return;
      case AtaCmd.CHECK_POWER_MODE:
        this.nsector = 0xff; // active or idle
        this.done();
        return;
      case AtaCmd.NOP: // aborts by definition (ATA-6 8.22)
        this.abort();
        return;
      default:
        this.warnOnce(`command 0x${cmd.toString(16)}`, `${this.name}: command 0x${cmd.toString(16)} aborted`);
        this.abort();
    }
  }

  /** Command finished without data: status 50, INTRQ. */
  private done(): void {
    this.status = ATA_SR_DRDY | ATA_SR_DSC;
    this.xfer = Xfer.None;
    this.setIntrq(true);
  }

  /** ABRT: status 41, error 04, INTRQ (QEMU ide_abort_command + ide_set_irq). */
  private abort(): void {
    this.xfer = Xfer.None;
    this.status = ATA_SR_DRDY | ATA_SR_ERR;
    this.error = ATA_ER_ABRT;
    this.setIntrq(true);
  }

  private rangeOk(lba: number, n: number): boolean {
    return lba >= 0 && lba + n <= this.disk.sectors;
  }

  private startRead(multiple: boolean): void {
    if (multiple && this.multSectors === 0) {
      this.abort();
      return;
    }
    this.blockSectors = multiple ? this.multSectors : 1;
    this.remaining = this.count();
    this.status = ATA_SR_DRDY | ATA_SR_BSY;
    this.later(() => this.readBlock());
  }

  /** Reads the next DRQ block from the image and offers it on the data port. */
  private readBlock(): void {
    const lba = this.getLba();
    const n = Math.min(this.remaining, this.blockSectors);
    if (!this.rangeOk(lba, n)) {
      this.abort();
      return;
    }
    this.disk.read(lba, n, this.buffer, 0);
    this.sectorsRead += n;
    this.remaining -= n;
    this.setCount(this.remaining);
    this.setLba(lba + n);
    this.xfer = Xfer.Read;
    this.bufPos = 0;
    this.bufEnd = n * ATA_SECTOR_SIZE;
    this.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    this.setIntrq(true);
  }

  private startWrite(multiple: boolean): void {
    if ((multiple && this.multSectors === 0) || this.disk.readOnly) {
      this.abort();
      return;
    }
    this.blockSectors = multiple ? this.multSectors : 1;
    this.remaining = this.count();
    this.offerWriteBlock();
  }

  /** DRQ for the next block to write; no interrupt for the first one (ATA-6 9.9 PIO data-out). */
  private offerWriteBlock(): void {
    const n = Math.min(this.remaining, this.blockSectors);
    this.xfer = Xfer.Write;
    this.bufPos = 0;
    this.bufEnd = n * ATA_SECTOR_SIZE;
    this.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
  }

  private writeBlock(): void {
    const n = this.bufEnd / ATA_SECTOR_SIZE;
    this.xfer = Xfer.None;
    this.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_BSY;
    this.later(() => {
      const lba = this.getLba();
      if (!this.rangeOk(lba, n)) {
        this.abort();
        return;
      }
      this.disk.write(lba, n, this.buffer, 0);
      this.sectorsWritten += n;
      this.remaining -= n;
      this.setCount(this.remaining);
      this.setLba(lba + n);
      if (this.remaining > 0) {
        this.offerWriteBlock();
        this.setIntrq(true);
      } else {
        this.done();
      }
    });
  }

  private startDma(dir: number): void {
    if (!this.busMaster || (dir === 2 && this.disk.readOnly)) {
      this.abort();
      return;
    }
    this.status = ATA_SR_DRDY | ATA_SR_BSY;
    this.dmaPending = dir;
    if (this.busMaster.command & BMIC_START) this.later(() => this.runDma());
  }

  /** Called by the bus master when BMIC.Start goes 0 → 1 or 1 → 0. */
  busMasterStart(on: boolean): void {
    if (!this.dmaPending) return;
    if (on) this.later(() => this.runDma());
    else this.cancelPending();
  }

  /** The whole DMA transfer, in 16-sector chunks, along the PRD table. */
  private runDma(): void {
    const bm = this.busMaster!;
    const toMemory = this.dmaPending === 1;
    this.dmaPending = 0;
    const lba = this.getLba();
    const n = this.count();
    bm.status &= ~BMIS_ACTIVE;
    if (!this.rangeOk(lba, n)) {
      this.abort();
      return;
    }
    bm.beginPrd();
    let done = 0;
    let short = false;
    while (done < n && !short) {
      const chunk = Math.min(n - done, ATA_MAX_MULT_SECTORS);
      const bytes = chunk * ATA_SECTOR_SIZE;
      if (toMemory) {
        this.disk.read(lba + done, chunk, this.buffer, 0);
        const moved = bm.transfer(this.buffer, bytes, true);
        short = moved < bytes;
        this.sectorsRead += chunk;
      } else {
        const moved = bm.transfer(this.buffer, bytes, false);
        const whole = Math.floor(moved / ATA_SECTOR_SIZE);
        if (whole > 0) this.disk.write(lba + done, whole, this.buffer, 0);
        this.sectorsWritten += whole;
        short = moved < bytes;
      }
      done += chunk;
    }
    if (short) bm.status |= BMIS_ERROR;
    this.setLba(lba + n);
    this.setCount(0);
    this.done();
  }

  private verify(): void {
    const lba = this.getLba();
    const n = this.count();
    this.status = ATA_SR_DRDY | ATA_SR_BSY;
    this.later(() => {
      if (!this.rangeOk(lba, n)) {
        this.abort();
        return;
      }
      this.setLba(lba + n);
      this.done();
    });
  }

  /** SET FEATURES: write cache on/off and transfer mode, as QEMU's cmd_set_features. */
  private setFeatures(): void {
    switch (this.feature) {
      case 0x02: // enable write cache
      case 0x82: // disable write cache
        this.writeCache = this.feature === 0x02;
        if (this.identify) this.identify[85] = (1 << 14) | (this.writeCache ? 1 << 5 : 0) | 1;
        this.done();
        return;
      case 0x03: {
        // Set transfer mode from the count register: the selected mode shows in words 62/63/88.
        const sel = 1 << ((this.nsector & 0x07) + 8);
        let w62 = 0x07;
        let w63 = 0x07;
        let w88 = 0x3f;
        switch (this.nsector >> 3) {
          case 0x00:
          case 0x01:
            break;
          case 0x02:
            w62 |= sel;
            break;
          case 0x04:
            w63 |= sel;
            break;
          case 0x08:
            w88 |= sel;
            break;
          default:
            this.abort();
            return;
        }
        if (this.identify) {
          this.identify[62] = w62;
          this.identify[63] = w63;
          this.identify[88] = w88;
        }
        this.done();
        return;
      }
      case 0x66: // keep settings over reset
      case 0xcc:
      case 0xaa: // read look-ahead on/off
      case 0x55:
        this.done();
        return;
      default:
        this.abort();
    }
  }

  // ---- data port ----

  private readData(size: PortSize): number {
    if (size === 1) {
      this.warnOnce("data8", `${this.name}: 8-bit data register read (open bus)`);
      return 0xff;
    }
    if (this.xfer !== Xfer.Read && this.xfer !== Xfer.Pio) return 0;
    const b = this.buffer;
    let p = this.bufPos;
    let v = b[p]! | (b[p + 1]! << 8);
    p += 2;
    if (size === 4 && p < this.bufEnd) {
      v = (v | (b[p]! << 16) | (b[p + 1]! << 24)) >>> 0;
      p += 2;
    }
    this.bufPos = p;
    if (p >= this.bufEnd) this.endOfBuffer();
    return v;
  }

  private writeData(size: PortSize, value: number): void {
    if (size === 1) {
      this.warnOnce("data8", `${this.name}: 8-bit data register write ignored`);
      return;
    }
    if (this.xfer !== Xfer.Write) return;
    const b = this.buffer;
    let p = this.bufPos;
    b[p] = value & 0xff;
    b[p + 1] = (value >>> 8) & 0xff;
    p += 2;
    if (size === 4 && p < this.bufEnd) {
      b[p] = (value >>> 16) & 0xff;
      b[p + 1] = (value >>> 24) & 0xff;
      p += 2;
    }
    this.bufPos = p;
    if (p >= this.bufEnd) this.writeBlock();
  }

  private endOfBuffer(): void {
    if (this.xfer === Xfer.Read && this.remaining > 0) {
      this.xfer = Xfer.None;
      this.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_BSY;
      this.later(() => this.readBlock());
      return;
    }
    // Last block of a read, or IDENTIFY: DRQ drops, no interrupt (QEMU ide_transfer_stop).
    this.xfer = Xfer.None;
    this.status = ATA_SR_DRDY | ATA_SR_DSC;
  }

  // ---- IDENTIFY DEVICE (ATA-6 8.15; words and values as QEMU 7.2's ide_identify) ----

  private buildIdentify(): void {
    const w = this.identify ?? this.identifyWords();
    this.identify = w;
    for (let i = 0; i < 256; i++) {
      this.buffer[2 * i] = w[i]! & 0xff;
      this.buffer[2 * i + 1] = w[i]! >>> 8;
    }
  }

  private identifyWords(): Uint16Array {
    const w = new Uint16Array(256);
    const { cylinders, heads, secs } = this.chs;
    const total = this.disk.sectors;
    const lba28 = Math.min(total, 0x0fffffff);
    const oldsize = cylinders * heads * secs;
    w[0] = 0x0040; // fixed device
    w[1] = cylinders;
    w[3] = heads;
    w[4] = 512 * secs; // retired: bytes per track
    w[5] = 512; // retired: bytes per sector
    w[6] = secs;
    putString(w, 10, 20, ATA_SERIAL);
    w[20] = 3; // retired: buffer type
    w[21] = 512; // retired: buffer size in sectors
    w[22] = 4; // obsolete: ECC bytes
    putString(w, 23, 8, ATA_FIRMWARE);
    putString(w, 27, 40, ATA_MODEL);
    w[47] = 0x8000 | ATA_MAX_MULT_SECTORS;
    w[48] = 1; // dword I/O
    w[49] = (1 << 11) | (1 << 9) | (1 << 8); // IORDY, LBA, DMA
    w[51] = 0x200; // PIO timing mode
    w[52] = 0x200; // DMA timing mode
    w[53] = 1 | (1 << 1) | (1 << 2); // words 54-58, 64-70, 88 valid
    w[54] = cylinders;
    w[55] = heads;
    w[56] = secs;
    w[57] = oldsize & 0xffff;
    w[58] = oldsize >>> 16;
    if (this.multSectors) w[59] = 0x100 | this.multSectors;
    w[60] = lba28 & 0xffff;
    w[61] = lba28 >>> 16;
    w[62] = 0x07; // single-word DMA 0-2 supported, none selected
    w[63] = 0x07; // multiword DMA 0-2 supported, none selected
    w[64] = 0x03; // PIO 3-4
    w[65] = 120;
    w[66] = 120;
    w[67] = 120;
    w[68] = 120;
    w[69] = 1 << 14; // deterministic read after trim (QEMU sets it unconditionally)
    w[80] = 0xf0; // ATA-4 to ATA-7
    w[81] = 0x16;
    w[82] = (1 << 14) | (1 << 5) | 1; // SMART, write cache supported
    w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10); // FLUSH CACHE (EXT), LBA48
    w[84] = 1 << 14;
    w[85] = (1 << 14) | (this.writeCache ? 1 << 5 : 0) | 1;
    w[86] = (1 << 13) | (1 << 12) | (1 << 10);
    w[87] = 1 << 14;
    w[88] = 0x203f; // UDMA 0-5 supported, mode 5 selected
    w[93] = 1 | (1 << 14) | 0x2000; // hardware reset result
    w[100] = total & 0xffff; // LBA48 sectors
    w[101] = Math.floor(total / 0x10000) & 0xffff;
    w[102] = Math.floor(total / 0x100000000) & 0xffff;
    w[106] = (1 << 14) | (1 << 13); // valid; multiple logical sectors per physical (exponent 0)
    w[169] = 1; // TRIM supported (QEMU sets it for every IDE disk)
    return w;
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(msg);
  }

  // ---- snapshots ----

  getState(): IdeState {
    return {
      feature: this.feature,
      nsector: this.nsector,
      sector: this.sector,
      lcyl: this.lcyl,
      hcyl: this.hcyl,
      hobFeature: this.hobFeature,
      hobNsector: this.hobNsector,
      hobSector: this.hobSector,
      hobLcyl: this.hobLcyl,
      hobHcyl: this.hobHcyl,
      select: this.select,
      status: this.status,
      error: this.error,
      control: this.control,
      multSectors: this.multSectors,
      writeCache: this.writeCache,
      intrq: this.intrq,
      identify: this.identify ? Array.from(this.identify) : null,
    };
  }

  /** Restores registers; a transfer in progress is not part of the snapshot (take them idle). */
  setState(s: IdeState): void {
    this.cancelPending();
    this.xfer = Xfer.None;
    const { identify, ...regs } = s;
    Object.assign(this, regs);
    this.identify = identify ? Uint16Array.from(identify) : null;
    this.updateIrq();
  }
}

// Bus-master IDE registers (PIIX3 datasheet 2.7.1–2.7.3), offsets from BAR4 for the primary channel.
export const BMIC = 0;
export const BMIS = 2;
export const BMIDTP = 4;
export const BMIC_START = 0x01;
/** BMIC bit 3: 1 = bus master writes memory (device → memory, READ DMA). */
export const BMIC_WRITE_MEMORY = 0x08;
export const BMIS_ACTIVE = 0x01;
export const BMIS_ERROR = 0x02;
export const BMIS_INTERRUPT = 0x04;
/** PRD: end-of-table flag in the count dword; a count of 0 means 64 KiB. */
export const PRD_EOT = 0x80000000;

/**
 * The memory a bus master reaches: PhysicalMemory on a board; a per-domain guest-physical view
 * (resolved through the P2M) for a TS guest's emulated disk. `contains` false = not reachable:
 * the bus master moves nothing there.
 */
export interface BusMasterMemory {
  contains(addr: number, size: number): boolean;
  read32(addr: number): number;
  readBytes(addr: number, length: number): Uint8Array;
  writeBytes(addr: number, data: Uint8Array): void;
}

/**
 * The bus-master registers of one IDE channel (8 ports from the BAR4 base; the secondary
 * channel's 8 ports are kept as plain registers: no drives there). Walks PRD tables in guest
 * physical memory; writes go through PhysicalMemory.writeBytes so page watchers see them.
 */
export class IdeBusMaster implements PortHandler {
  readonly name = "IDE bus master";
  command = 0;
  status = 0;
  prdAddress = 0;
  private readonly secondary = new Uint8Array(8);
  // PRD walk state.
  private prdCursor = 0;
  private segAddr = 0;
  private segLeft = 0;
  private segLast = false;
  private exhausted = false;

  constructor(
    bus: PortBus | null,
    readonly base: number,
    private readonly memory: BusMasterMemory,
    private readonly channel: IdeChannel,
  ) {
    channel.busMaster = this;
    bus?.register(base, 16, this);
  }

  read(port: number, size: PortSize): number {
    const off = port - this.base;
    if (off >= 8) {
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = (v << 8) | this.secondary[(off - 8 + i) & 7]!;
      return v >>> 0;
    }
    if (off === BMIC) return this.command;
    if (off === BMIS) return this.status;
    if (off >= BMIDTP) {
      const shift = 8 * (off - BMIDTP);
      const v = this.prdAddress >>> shift;
      return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v >>> 0;
    }
    return 0;
  }

  write(port: number, size: PortSize, value: number): void {
    const off = port - this.base;
    if (off >= 8) {
      for (let i = 0; i < size; i++) this.secondary[(off - 8 + i) & 7] = (value >>> (8 * i)) & 0xff;
      return;
    }
    if (off === BMIC) {
      const was = this.command;
      this.command = value & (BMIC_START | BMIC_WRITE_MEMORY);
      if ((value & BMIC_START) !== (was & BMIC_START)) {
        if (value & BMIC_START) this.status |= BMIS_ACTIVE;
        else this.status &= ~BMIS_ACTIVE;
        this.channel.busMasterStart((value & BMIC_START) !== 0);
      }
      return;
    }
    if (off === BMIS) {
      // Bits 5–6 (drive DMA capable) are plain; Error and Interrupt clear when written with 1.
      this.status = (this.status & ~0x60) | (value & 0x60);
      this.status &= ~(value & (BMIS_ERROR | BMIS_INTERRUPT));
      return;
    }
    if (off >= BMIDTP) {
      // Byte, word or dword writes into the 32-bit table address; bits 1:0 read as 0.
      let p = this.prdAddress;
      for (let k = 0; k < size && off + k < 8; k++) {
        const shift = 8 * (off - BMIDTP + k);
        const byte = (value >>> (8 * k)) & 0xff;
        p = (p & ~(0xff << shift)) | (byte << shift);
      }
      this.prdAddress = (p & 0xfffffffc) >>> 0;
    }
  }

  /** Starts a PRD walk at BMIDTP. */
  beginPrd(): void {
    this.prdCursor = this.prdAddress;
    this.segLeft = 0;
    this.segLast = false;
    this.exhausted = false;
  }

  private nextSegment(): boolean {
    if (this.segLast || this.exhausted) {
      this.exhausted = true;
      return false;
    }
    const mem = this.memory;
    if (!mem.contains(this.prdCursor, 8)) {
      this.exhausted = true;
      return false;
    }
    this.segAddr = mem.read32(this.prdCursor) >>> 0;
    const cnt = mem.read32(this.prdCursor + 4) >>> 0;
    this.segLeft = (cnt & 0xfffe) === 0 ? 0x10000 : cnt & 0xfffe;
    this.segLast = (cnt & PRD_EOT) !== 0;
    this.prdCursor += 8;
    return true;
  }

  /** Moves up to `bytes` between `buf` and memory along the PRDs; returns the bytes moved. */
  transfer(buf: Uint8Array, bytes: number, toMemory: boolean): number {
    let done = 0;
    while (done < bytes) {
      if (this.segLeft === 0 && !this.nextSegment()) break;
      const n = Math.min(this.segLeft, bytes - done);
      if (this.memory.contains(this.segAddr, n)) {
        if (toMemory) this.memory.writeBytes(this.segAddr, buf.subarray(done, done + n));
        else buf.set(this.memory.readBytes(this.segAddr, n), done);
      } else {
        // Nothing answers there: a master abort, which PIIX3 reports in BMIS.Error (datasheet
        // 2.7.2 bit 1); the bytes go nowhere (writes) or read as nothing (reads).
        this.status |= BMIS_ERROR;
        if (!toMemory) buf.fill(0xff, done, done + n); // a master-aborted read returns all ones
      }
      this.segAddr += n;
      this.segLeft -= n;
      done += n;
    }
    return done;
  }
}

/** ATA strings: space padded, the two characters of each word swapped (ATA-6 8.15.9). */
function putString(w: Uint16Array, first: number, bytes: number, s: string): void {
  for (let i = 0; i < bytes; i++) {
    const c = i < s.length ? s.charCodeAt(i) & 0xff : 0x20;
    const word = first + (i >> 1);
    w[word] = (i & 1) === 0 ? (w[word]! & 0x00ff) | (c << 8) : (w[word]! & 0xff00) | c;
  }
}
