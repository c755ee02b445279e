/**
 * The NE2000's register interface as a driver sees it: National Semiconductor DP8390D datasheet
 * (July 1995) page-0/1/2 register offsets and bits, plus the NE2000's data port (base + 0x10) and
 * reset port (base + 0x1F). The driver's own copy; the guest SDK never imports the device model.
 */

/** Register offsets from the base (page 0 unless noted). */
export const Dp8390Port = {
  CR: 0x00,
  PSTART: 0x01,
  PSTOP: 0x02,
  BNRY: 0x03,
  /** Write: TPSR; read: TSR. */
  TPSR: 0x04,
  TBCR0: 0x05,
  TBCR1: 0x06,
  ISR: 0x07,
  RSAR0: 0x08,
  RSAR1: 0x09,
  RBCR0: 0x0a,
  RBCR1: 0x0b,
  RCR: 0x0c,
  TCR: 0x0d,
  DCR: 0x0e,
  IMR: 0x0f,
  /** Page 1: physical address and current page. */
  PAR0: 0x01,
  CURR: 0x07,
  MAR0: 0x08,
  /** NE2000: remote DMA data port and reset port. */
  DATA: 0x10,
  RESET: 0x1f,
} as const;

/** CR (datasheet p. 19): stop/start, transmit, remote DMA command, page select. */
export const Cr = {
  STP: 0x01,
  STA: 0x02,
  TXP: 0x04,
  RD_READ: 0x08,
  RD_WRITE: 0x10,
  RD_ABORT: 0x20,
  PAGE0: 0x00,
  PAGE1: 0x40,
} as const;

/** ISR / IMR bits. */
export const Isr = {
  PRX: 0x01,
  PTX: 0x02,
  RXE: 0x04,
  TXE: 0x08,
  OVW: 0x10,
  CNT: 0x20,
  RDC: 0x40,
  RST: 0x80,
} as const;

/** DCR: word transfers, normal operation (LS), FIFO threshold 8 bytes (FT1). */
export const DCR_WORD_NORMAL = 0x49;
/** RCR: accept broadcast (AB). Unicast to the station address is always accepted. */
export const RCR_AB = 0x04;
/** TCR: internal loopback (LB = 01) while initialising; 0 = normal. */
export const TCR_LOOPBACK = 0x02;

/**
 * Card RAM layout the driver uses (pages of 256 bytes in 0x40–0xBF, the NE2000's 32 KiB): six
 * pages of transmit buffer (one 1514-byte frame), the rest a receive ring.
 */
export const NE_TX_PAGE = 0x40;
export const NE_RX_START = 0x46;
export const NE_RX_STOP = 0xc0;
/** PC resources (QEMU ne2k_isa defaults): base 0x300, IRQ 9. */
export const NE2000_PC = { base: 0x300, irq: 9 } as const;
/** Ethernet frame limits without FCS (IEEE 802.3): header 14, minimum 60, maximum 1514. */
export const ETH_HEADER_BYTES = 14;
export const ETH_MIN_BYTES = 60;
export const ETH_MAX_BYTES = 1514;
