/**
 * The ATA register interface as a driver sees it: ATA/ATAPI-6 (T13/1410D rev. 3b) section 7
 * register offsets and bits, Table 35 command codes. The driver's own copy, as a real driver
 * has its own header: the guest SDK never imports the device models (src/machine).
 */

/** Command block register offsets from the command block base (ATA-6 Table 19). */
export const AtaPort = {
  DATA: 0,
  /** Read: Error; write: Features. */
  ERROR: 1,
  SECTOR_COUNT: 2,
  LBA_LOW: 3,
  LBA_MID: 4,
  LBA_HIGH: 5,
  DEVICE: 6,
  /** Read: Status (clears INTRQ); write: Command. */
  STATUS: 7,
  COMMAND: 7,
} as const;

/** Status register bits (ATA-6 7.15.6). */
export const AtaStatus = { ERR: 0x01, DRQ: 0x08, DF: 0x20, DRDY: 0x40, BSY: 0x80 } as const;
/** Error register bits (ATA-6 7.11.6): ABRT = command aborted. */
export const AtaErrorBit = { ABRT: 0x04 } as const;
/** Device register: LBA addressing, obsolete bits 7 and 5 set (ATA-6 7.10). */
export const ATA_DEVICE_LBA = 0xe0;
/** Device control register (ATA-6 7.9): nIEN masks INTRQ; HOB reads the previous values. */
export const AtaControl = { NIEN: 0x02, SRST: 0x04, HOB: 0x80 } as const;

/** Command codes (ATA-6 Table 35). */
export const AtaCommand = {
  READ_SECTORS: 0x20,
  READ_SECTORS_EXT: 0x24,
  READ_DMA_EXT: 0x25,
  READ_MULTIPLE_EXT: 0x29,
  WRITE_SECTORS: 0x30,
  WRITE_SECTORS_EXT: 0x34,
  WRITE_DMA_EXT: 0x35,
  WRITE_MULTIPLE_EXT: 0x39,
  READ_MULTIPLE: 0xc4,
  WRITE_MULTIPLE: 0xc5,
  SET_MULTIPLE_MODE: 0xc6,
  READ_DMA: 0xc8,
  WRITE_DMA: 0xca,
  FLUSH_CACHE: 0xe7,
  IDENTIFY_DEVICE: 0xec,
} as const;

/** Primary channel resources on a PC (ATA-6 annex; QEMU pc): command block, control, IRQ. */
export const ATA_PRIMARY = { base: 0x1f0, ctl: 0x3f6, irq: 14 } as const;
export const ATA_SECTOR_BYTES = 512;
/** Largest LBA28 address + 1, and the most sectors one LBA28 / LBA48 command moves. */
export const LBA28_LIMIT = 0x10000000;
export const LBA28_MAX_COUNT = 256;
export const LBA48_MAX_COUNT = 65536;

/**
 * Bus-master IDE (PIIX3 datasheet 2.7: BMIC command, BMIS status, BMIDTP table pointer) and the
 * PRD entry (u32 physical address, u16 byte count with 0 = 64 KiB, bit 31 of the second dword =
 * end of table).
 */
export const BusMaster = { BMIC: 0, BMIS: 2, BMIDTP: 4 } as const;
export const BMIC_START = 0x01;
/** BMIC bit 3: the bus master writes memory (a READ DMA). */
export const BMIC_WRITE_MEMORY = 0x08;
export const BMIS_ACTIVE = 0x01;
export const BMIS_ERROR = 0x02;
export const BMIS_INTERRUPT = 0x04;
export const PRD_EOT = 0x80000000;
