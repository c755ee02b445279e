/**
 * An ATA disk driver for TS guests on an emulated IDE channel, through `ctx.io` only (DESIGN.md
 * "Guests"): IDENTIFY DEVICE, READ/WRITE SECTORS (EXT) or, with a multiple mode set, READ/WRITE
 * MULTIPLE (EXT) by PIO with 32-bit REP INS/OUTS, and, when given a bus master, READ/WRITE DMA
 * (EXT) along a PRD table in the guest's own memory. Interrupt driven: the driver waits for the
 * channel's line as a virtual interrupt and reads Status to clear it (ATA-6 9.7 PIO data-in,
 * 9.8 PIO data-out, 9.10 DMA protocols).
 *
 * The device reports a failed command as data (Status.ERR with the Error register); the driver
 * turns it into an AtaError at the API edge and the disk stays usable. One command at a time:
 * concurrent callers queue. Data moves through a bounce buffer of 16 sectors in the guest's
 * memory (what a real driver's DMA-able buffer is), then one copy into the caller's array.
 */
import type { GuestContext, GuestPortIo } from "../../hypercalls/index.js";
import { PvkitError } from "../errors.js";
import {
  ATA_DEVICE_LBA,
  ATA_PRIMARY,
  ATA_SECTOR_BYTES,
  AtaCommand,
  AtaPort,
  AtaStatus,
  BMIC_START,
  BMIC_WRITE_MEMORY,
  BMIS_ERROR,
  BMIS_INTERRUPT,
  BusMaster,
  LBA28_LIMIT,
  LBA28_MAX_COUNT,
  PRD_EOT,
} from "./ata.js";

/** A command the device aborted or a protocol step that went wrong; `status`/`error` as read. */
export class AtaError extends PvkitError {
  constructor(
    readonly command: number,
    readonly status: number,
    readonly error: number,
    readonly lba: number,
    message: string,
  ) {
    super(message);
  }
}

export interface IdeDiskOptions {
  /** Command block, control port and interrupt line (default: the PC's primary channel). */
  readonly base?: number;
  readonly ctl?: number;
  readonly irq?: number;
  /** PIO in DRQ blocks of 16 sectors (SET MULTIPLE MODE) instead of one (default true). */
  readonly multiple?: boolean;
  /** Bus-master base (PIIX3 BAR4): transfers use READ/WRITE DMA (EXT) instead of PIO. */
  readonly busMaster?: number;
}

/** Driver counters (statistics and tests). */
export interface IdeDiskCounters {
  commands: number;
  sectorsRead: number;
  sectorsWritten: number;
  interrupts: number;
  errors: number;
}

/** Sectors the bounce buffer holds: one DRQ block in multiple mode (QEMU MAX_MULT_SECTORS). */
const BOUNCE_SECTORS = 16;
/** Alternate Status polls allowed while waiting for DRQ before a data-out block. */
const MAX_DRQ_POLLS = 10_000;

export class IdeDisk {
  readonly sectorSize = ATA_SECTOR_BYTES;
  readonly readOnly = false;
  /** Capacity in 512-byte sectors (IDENTIFY words 100–103, or 60–61 without LBA48). */
  sectors = 0;
  readonly counters: IdeDiskCounters = {
    commands: 0,
    sectorsRead: 0,
    sectorsWritten: 0,
    interrupts: 0,
    errors: 0,
  };
  private readonly io: GuestPortIo;
  private readonly base: number;
  private readonly ctl: number;
  private readonly irqMask: number;
  private readonly blockSectors: number;
  private readonly bm: number;
  /** Guest-physical address of the bounce buffer (contiguous) and of the PRD table. */
  private readonly buffer: number;
  private readonly prd: number;
  private lba48 = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: GuestContext,
    opts: IdeDiskOptions = {},
  ) {
    if (!ctx.io) throw new AtaError(0, 0, 0, 0, "this domain has no emulated devices (ctx.io is null)");
    this.io = ctx.io;
    this.base = opts.base ?? ATA_PRIMARY.base;
    this.ctl = opts.ctl ?? ATA_PRIMARY.ctl;
    this.irqMask = 1 << (opts.irq ?? ATA_PRIMARY.irq);
    this.blockSectors = (opts.multiple ?? true) ? BOUNCE_SECTORS : 1;
    this.bm = opts.busMaster ?? -1;
    const pages = (BOUNCE_SECTORS * ATA_SECTOR_BYTES) / 4096;
    const first = ctx.allocPage();
    for (let i = 1; i < pages; i++) {
      if (ctx.allocPage() !== first + i) throw new AtaError(0, 0, 0, 0, "no contiguous bounce buffer");
    }
    this.prd = ctx.allocPage() * 4096;
    if (first < 0 || this.prd < 0) throw new AtaError(0, 0, 0, 0, "out of guest pages for the IDE driver");
    this.buffer = first * 4096;
  }

  /** Enables the interrupt, identifies the disk, sets the multiple mode. */
  async init(): Promise<void> {
    const io = this.io;
    io.write(this.ctl, 1, 0); // nIEN = 0: INTRQ drives the line
    io.write(this.base + AtaPort.DEVICE, 1, ATA_DEVICE_LBA);
    this.command(AtaCommand.IDENTIFY_DEVICE, 0);
    await this.dataIn(AtaCommand.IDENTIFY_DEVICE, 0, 0, 0); // PIO data-in of one 512-byte block
    const mem = this.ctx.mem;
    const w = (i: number) => mem.read16(this.buffer + 2 * i);
    this.lba48 = (w(83) & (1 << 10)) !== 0;
    this.sectors = this.lba48 ? w(100) + w(101) * 0x10000 + w(102) * 0x100000000 : w(60) + w(61) * 0x10000;
    if (this.blockSectors > 1) {
      io.write(this.base + AtaPort.SECTOR_COUNT, 1, this.blockSectors);
      this.command(AtaCommand.SET_MULTIPLE_MODE, 0);
      await this.completion(AtaCommand.SET_MULTIPLE_MODE, 0);
    }
  }

  /** Reads `count` sectors from `sector`. */
  read(sector: number, count: number): Promise<Uint8Array> {
    return this.exclusive(async () => {
      this.checkRequest(sector, count);
      const out = new Uint8Array(count * ATA_SECTOR_BYTES);
      for (let done = 0; done < count; ) {
        const n = Math.min(count - done, BOUNCE_SECTORS);
        await this.transfer(false, sector + done, n);
        out.set(this.ctx.mem.readBytes(this.buffer, n * ATA_SECTOR_BYTES), done * ATA_SECTOR_BYTES);
        done += n;
      }
      this.counters.sectorsRead += count;
      return out;
    });
  }

  /** Writes `data` (whole sectors) at `sector`. */
  write(sector: number, data: Uint8Array): Promise<void> {
    return this.exclusive(async () => {
      if (data.length % ATA_SECTOR_BYTES !== 0)
        throw new RangeError(`write of ${data.length} bytes: not a whole number of sectors`);
      const count = data.length / ATA_SECTOR_BYTES;
      this.checkRequest(sector, count);
      for (let done = 0; done < count; ) {
        const n = Math.min(count - done, BOUNCE_SECTORS);
        const off = done * ATA_SECTOR_BYTES;
        this.ctx.mem.writeBytes(this.buffer, data.subarray(off, off + n * ATA_SECTOR_BYTES));
        await this.transfer(true, sector + done, n);
        done += n;
      }
      this.counters.sectorsWritten += count;
    });
  }

  /** FLUSH CACHE: the device's write cache reaches the medium. */
  flush(): Promise<void> {
    return this.exclusive(async () => {
      this.command(AtaCommand.FLUSH_CACHE, 0);
      await this.completion(AtaCommand.FLUSH_CACHE, 0);
    });
  }

  // ---- one command of at most BOUNCE_SECTORS sectors ----

  private async transfer(write: boolean, lba: number, n: number): Promise<void> {
    const ext = this.lba48 && (lba + n > LBA28_LIMIT || n > LBA28_MAX_COUNT);
    this.taskFile(lba, n, ext);
    if (this.bm >= 0) {
      await this.dma(write, lba, n, ext);
      return;
    }
    const multiple = this.blockSectors > 1;
    const cmd = write
      ? ext
        ? multiple
          ? AtaCommand.WRITE_MULTIPLE_EXT
          : AtaCommand.WRITE_SECTORS_EXT
        : multiple
          ? AtaCommand.WRITE_MULTIPLE
          : AtaCommand.WRITE_SECTORS
      : ext
        ? multiple
          ? AtaCommand.READ_MULTIPLE_EXT
          : AtaCommand.READ_SECTORS_EXT
        : multiple
          ? AtaCommand.READ_MULTIPLE
          : AtaCommand.READ_SECTORS;
    this.command(cmd, lba);
    if (write) await this.dataOut(cmd, lba, n);
    else await this.dataIn(cmd, lba, n, this.blockSectors);
  }

  /** Device, count and LBA registers (LBA48: the high-order bytes first, ATA-6 6.20). */
  private taskFile(lba: number, n: number, ext: boolean): void {
    const io = this.io;
    const b = this.base;
    if (ext) {
      const hi = Math.floor(lba / 0x1000000);
      io.write(b + AtaPort.SECTOR_COUNT, 1, (n >> 8) & 0xff);
      io.write(b + AtaPort.LBA_LOW, 1, hi & 0xff);
      io.write(b + AtaPort.LBA_MID, 1, (hi >> 8) & 0xff);
      io.write(b + AtaPort.LBA_HIGH, 1, (hi >> 16) & 0xff);
      io.write(b + AtaPort.DEVICE, 1, ATA_DEVICE_LBA);
    } else {
      io.write(b + AtaPort.DEVICE, 1, ATA_DEVICE_LBA | ((lba >>> 24) & 0x0f));
    }
    io.write(b + AtaPort.SECTOR_COUNT, 1, n & 0xff);
    io.write(b + AtaPort.LBA_LOW, 1, lba & 0xff);
    io.write(b + AtaPort.LBA_MID, 1, (lba >>> 8) & 0xff);
    io.write(b + AtaPort.LBA_HIGH, 1, (lba >>> 16) & 0xff);
  }

  private command(cmd: number, _lba: number): void {
    this.counters.commands++;
    this.io.write(this.base + AtaPort.COMMAND, 1, cmd);
  }

  /** Waits for INTRQ and reads Status (which clears it); an error status throws. */
  private async interrupt(cmd: number, lba: number): Promise<number> {
    await this.io.waitForInterrupt(this.irqMask);
    this.counters.interrupts++;
    const st = this.io.read(this.base + AtaPort.STATUS, 1);
    if (st & (AtaStatus.ERR | AtaStatus.DF)) throw this.failed(cmd, st, lba);
    return st;
  }

  /** PIO data-in: an interrupt per DRQ block of `perBlock` sectors (0: one 512-byte block). */
  private async dataIn(cmd: number, lba: number, n: number, perBlock: number): Promise<void> {
    let left = perBlock === 0 ? 1 : n;
    let at = this.buffer;
    while (left > 0) {
      const st = await this.interrupt(cmd, lba);
      if (!(st & AtaStatus.DRQ)) throw this.failed(cmd, st, lba, "no DRQ for a data-in block");
      const k = perBlock === 0 ? 1 : Math.min(left, perBlock);
      this.io.readString(this.base + AtaPort.DATA, 4, at, (k * ATA_SECTOR_BYTES) / 4);
      at += k * ATA_SECTOR_BYTES;
      left -= k;
    }
  }

  /** PIO data-out: DRQ polled for the first block, then an interrupt after each block. */
  private async dataOut(cmd: number, lba: number, n: number): Promise<void> {
    let left = n;
    let at = this.buffer;
    let st = this.pollDrq(cmd, lba);
    while (left > 0) {
      if (!(st & AtaStatus.DRQ)) throw this.failed(cmd, st, lba, "no DRQ for a data-out block");
      const k = Math.min(left, this.blockSectors);
      this.io.writeString(this.base + AtaPort.DATA, 4, at, (k * ATA_SECTOR_BYTES) / 4);
      at += k * ATA_SECTOR_BYTES;
      left -= k;
      st = await this.interrupt(cmd, lba);
    }
  }

  private pollDrq(cmd: number, lba: number): number {
    for (let i = 0; i < MAX_DRQ_POLLS; i++) {
      const st = this.io.read(this.ctl, 1); // Alternate Status: leaves INTRQ alone
      if (st & AtaStatus.ERR) {
        this.io.read(this.base + AtaPort.STATUS, 1);
        throw this.failed(cmd, st, lba);
      }
      if (!(st & AtaStatus.BSY) && st & AtaStatus.DRQ) return st;
    }
    throw this.failed(cmd, this.io.read(this.ctl, 1), lba, "DRQ never came");
  }

  /** A non-data command's completion interrupt. */
  private async completion(cmd: number, lba: number): Promise<void> {
    await this.interrupt(cmd, lba);
  }

  /** Bus-master DMA: one PRD entry over the bounce buffer (ATA-6 9.10; PIIX3 2.7). */
  private async dma(write: boolean, lba: number, n: number, ext: boolean): Promise<void> {
    const io = this.io;
    const mem = this.ctx.mem;
    mem.write32(this.prd, this.buffer);
    mem.write32(this.prd + 4, (PRD_EOT | (n * ATA_SECTOR_BYTES)) >>> 0);
    io.write(this.bm + BusMaster.BMIDTP, 4, this.prd);
    io.write(this.bm + BusMaster.BMIS, 1, BMIS_ERROR | BMIS_INTERRUPT); // clear by writing 1
    const cmd = write
      ? ext
        ? AtaCommand.WRITE_DMA_EXT
        : AtaCommand.WRITE_DMA
      : ext
        ? AtaCommand.READ_DMA_EXT
        : AtaCommand.READ_DMA;
    this.command(cmd, lba);
    io.write(this.bm + BusMaster.BMIC, 1, BMIC_START | (write ? 0 : BMIC_WRITE_MEMORY));
    try {
      await this.interrupt(cmd, lba);
    } finally {
      io.write(this.bm + BusMaster.BMIC, 1, 0);
    }
    const bmis = io.read(this.bm + BusMaster.BMIS, 1);
    io.write(this.bm + BusMaster.BMIS, 1, BMIS_ERROR | BMIS_INTERRUPT);
    if (bmis & BMIS_ERROR)
      throw this.failed(
        cmd,
        bmis,
        lba,
        "bus-master error (BMIS.Error: PRD table too short, or memory the bus master cannot reach)",
      );
  }

  private failed(cmd: number, status: number, lba: number, what?: string): AtaError {
    this.counters.errors++;
    const error = this.io.read(this.base + AtaPort.ERROR, 1);
    return new AtaError(
      cmd,
      status,
      error,
      lba,
      `ATA command 0x${cmd.toString(16)} at LBA ${lba} failed: ${what ?? "aborted"} (status 0x${status.toString(16)}, error 0x${error.toString(16)})`,
    );
  }

  private checkRequest(sector: number, count: number): void {
    if (!Number.isSafeInteger(sector) || sector < 0 || !Number.isSafeInteger(count) || count <= 0)
      throw new RangeError(`bad request: sector ${sector}, count ${count}`);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
