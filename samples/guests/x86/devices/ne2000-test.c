/*
 * NE2000 test guest: resets the card, reads the station address PROM through remote DMA, sets
 * up the receive ring and sends frames that the host side reflects back (QEMU: a UDP socket
 * netdev sending to its own address; pvkit: --nic loopback), then reads each received frame out
 * of the ring (4-byte header, wrap-around at PSTOP) and prints its header and checksum. A frame
 * to another station is filtered; a broadcast shorter than 60 bytes arrives padded. Polling
 * only (IMR = 0, IF = 0), so the output does not depend on timing. Register names from the
 * DP8390D datasheet; ports: NE2000 at 0x300 (DESIGN.md, PC board).
 */
#include "../../common/guest.h"
#include "ata.h"

#define NE 0x300
#define CR (NE + 0x00)
#define PSTART (NE + 0x01)
#define PSTOP (NE + 0x02)
#define BNRY (NE + 0x03)
#define TPSR (NE + 0x04)
#define TSR (NE + 0x04)
#define TBCR0 (NE + 0x05)
#define TBCR1 (NE + 0x06)
#define ISR (NE + 0x07)
#define RSAR0 (NE + 0x08)
#define RSAR1 (NE + 0x09)
#define RBCR0 (NE + 0x0A)
#define RBCR1 (NE + 0x0B)
#define RCR (NE + 0x0C)
#define RSR (NE + 0x0C)
#define TCR (NE + 0x0D)
#define DCR (NE + 0x0E)
#define IMR (NE + 0x0F)
#define PAR0 (NE + 0x01) /* page 1 */
#define CURR (NE + 0x07) /* page 1 */
#define MAR0 (NE + 0x08) /* page 1 */
#define DATA (NE + 0x10)
#define RESET (NE + 0x1F)

#define CR_STP 0x01
#define CR_STA 0x02
#define CR_TXP 0x04
#define CR_RREAD 0x08
#define CR_RWRITE 0x10
#define CR_NODMA 0x20
#define CR_PAGE1 0x40

#define ISR_PRX 0x01
#define ISR_PTX 0x02
#define ISR_RDC 0x40

#define TX_PAGE 0x40
#define RX_START 0x46
#define RX_STOP 0x80

static uint8_t mac[6];
static uint8_t txbuf[1600];
static uint8_t rxbuf[1600];
static uint8_t next_page = RX_START;

static void put_hex8(uint32_t v) {
  static const char digits[] = "0123456789abcdef";
  put_char(digits[(v >> 4) & 15]);
  put_char(digits[v & 15]);
}

static uint32_t fnv(const uint8_t *p, uint32_t n) {
  uint32_t h = 0x811c9dc5u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x01000193u;
  return h;
}

static int wait_isr(uint8_t bits, uint32_t spins) {
  while (spins--) {
    if (inb(ISR) & bits) return 1;
  }
  return 0;
}

static void remote_read(uint16_t addr, uint8_t *dst, uint16_t len) {
  outb(RBCR0, (uint8_t)len);
  outb(RBCR1, (uint8_t)(len >> 8));
  outb(RSAR0, (uint8_t)addr);
  outb(RSAR1, (uint8_t)(addr >> 8));
  outb(CR, CR_RREAD | CR_STA);
  for (uint16_t i = 0; i < len; i += 2) {
    uint16_t w = inw(DATA);
    dst[i] = (uint8_t)w;
    if (i + 1 < len) dst[i + 1] = (uint8_t)(w >> 8);
  }
  wait_isr(ISR_RDC, 100000);
  outb(ISR, ISR_RDC);
}

static void send(uint16_t len) {
  uint16_t even = (uint16_t)((len + 1) & ~1);
  outb(RBCR0, (uint8_t)even);
  outb(RBCR1, (uint8_t)(even >> 8));
  outb(RSAR0, 0);
  outb(RSAR1, TX_PAGE);
  outb(CR, CR_RWRITE | CR_STA);
  for (uint16_t i = 0; i < even; i += 2) outw(DATA, (uint16_t)(txbuf[i] | (txbuf[i + 1] << 8)));
  wait_isr(ISR_RDC, 100000);
  outb(ISR, ISR_RDC);
  outb(TPSR, TX_PAGE);
  outb(TBCR0, (uint8_t)len);
  outb(TBCR1, (uint8_t)(len >> 8));
  outb(CR, CR_NODMA | CR_TXP | CR_STA);
  int ok = wait_isr(ISR_PTX, 1000000);
  put_str("sent ");
  put_dec(len);
  /* Only the transmit bits: whether the reflected frame is already back is a matter of timing. */
  put_str(ok ? ": isr " : ": no PTX, isr ");
  put_hex8(inb(ISR) & (ISR_PTX | 0x08));
  put_str(" tsr ");
  put_hex8(inb(TSR));
  put_str(" cr ");
  put_hex8(inb(CR));
  put_char('\n');
  outb(ISR, ISR_PTX);
}

static void frame(const uint8_t *dst, uint16_t type, uint16_t len, uint32_t seed) {
  for (int i = 0; i < 6; i++) {
    txbuf[i] = dst[i];
    txbuf[6 + i] = mac[i];
  }
  txbuf[12] = (uint8_t)(type >> 8);
  txbuf[13] = (uint8_t)type;
  for (uint16_t i = 14; i < len; i++) txbuf[i] = (uint8_t)(seed * 17 + i * 3 + (i >> 7));
}

/* Takes the next frame out of the ring; returns 0 when none came. */
static int receive(void) {
  /* The socket round trip under QEMU takes host time: poll generously. */
  if (!wait_isr(ISR_PRX, 20000000)) {
    put_str("no frame\n");
    return 0;
  }
  outb(ISR, ISR_PRX);
  uint8_t hdr[4];
  remote_read((uint16_t)(next_page << 8), hdr, 4);
  uint16_t total = (uint16_t)(hdr[2] | (hdr[3] << 8));
  uint16_t len = (uint16_t)(total - 4);
  remote_read((uint16_t)((next_page << 8) + 4), rxbuf, len);
  put_str("received at page ");
  put_hex8(next_page);
  put_str(": status ");
  put_hex8(hdr[0]);
  put_str(" next ");
  put_hex8(hdr[1]);
  put_str(" length ");
  put_dec(total);
  put_str(" fnv ");
  put_hex32(fnv(rxbuf, len));
  put_str(" rsr ");
  put_hex8(inb(RSR));
  put_char('\n');
  next_page = hdr[1];
  /* BNRY trails the next frame by one page (the usual driver convention). */
  outb(BNRY, next_page == RX_START ? RX_STOP - 1 : next_page - 1);
  return 1;
}

int main(void) {
  static const uint8_t other[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

  (void)inb(RESET);
  wait_isr(0x80, 100000);
  put_str("after reset: isr ");
  put_hex8(inb(ISR));
  put_str(" cr ");
  put_hex8(inb(CR));
  put_char('\n');
  outb(CR, CR_NODMA | CR_STP);
  outb(DCR, 0x48); /* byte-wide DMA for the PROM, normal operation, FIFO threshold 8 bytes */
  outb(RBCR0, 0);
  outb(RBCR1, 0);
  outb(RCR, 0x20); /* monitor mode while setting up */
  outb(TCR, 0x02); /* internal loopback while setting up */
  outb(ISR, 0xFF);

  /* PROM: 32 bytes, each byte doubled. */
  outb(RBCR0, 32);
  outb(RBCR1, 0);
  outb(RSAR0, 0);
  outb(RSAR1, 0);
  outb(CR, CR_RREAD | CR_STA);
  put_str("prom");
  uint8_t prom[32];
  for (int i = 0; i < 32; i++) {
    prom[i] = inb(DATA);
    put_char(' ');
    put_hex8(prom[i]);
  }
  put_str("\nisr after prom read ");
  put_hex8(inb(ISR));
  put_char('\n');
  outb(ISR, ISR_RDC);
  for (int i = 0; i < 6; i++) mac[i] = prom[2 * i];
  put_str("mac ");
  for (int i = 0; i < 6; i++) {
    if (i) put_char(':');
    put_hex8(mac[i]);
  }
  put_char('\n');

  outb(CR, CR_NODMA | CR_STP);
  outb(DCR, 0x49); /* word-wide DMA from now on */
  outb(PSTART, RX_START);
  outb(PSTOP, RX_STOP);
  outb(BNRY, RX_STOP - 1);
  outb(CR, CR_PAGE1 | CR_NODMA | CR_STP);
  for (int i = 0; i < 6; i++) outb(PAR0 + i, mac[i]);
  for (int i = 0; i < 8; i++) outb(MAR0 + i, 0);
  outb(CURR, RX_START);
  put_str("page 1: par");
  for (int i = 0; i < 6; i++) {
    put_char(' ');
    put_hex8(inb(PAR0 + i));
  }
  put_str(" curr ");
  put_hex8(inb(CURR));
  put_char('\n');
  outb(CR, 0x80 | CR_NODMA | CR_STP);
  put_str("page 2: pstart ");
  put_hex8(inb(PSTART));
  put_str(" pstop ");
  put_hex8(inb(PSTOP));
  put_char('\n');
  outb(CR, CR_NODMA | CR_STP);
  outb(ISR, 0xFF);
  outb(IMR, 0);
  outb(TCR, 0x00); /* normal transmit */
  outb(RCR, 0x04); /* accept broadcast and our own address */
  outb(CR, CR_NODMA | CR_STA);

  frame(mac, 0x88B5, 100, 1);
  send(100);
  receive();
  frame(bcast, 0x88B5, 42, 2);
  send(42);
  receive();
  frame(other, 0x88B5, 80, 3);
  send(80);
  /* Filtered: the next frame to arrive must be the one after it. */
  frame(mac, 0x88B5, 1514, 4);
  send(1514);
  receive();
  /* Enough frames to wrap the ring (58 pages) several times. */
  for (uint32_t k = 0; k < 30; k++) {
    uint16_t len = (uint16_t)(60 + k * 47);
    frame(mac, 0x88B5, len, 10 + k);
    send(len);
    receive();
  }
  /* 40 frames of 3 pages each over a 58-page ring: at least one straddles PSTOP and
     continues at PSTART (the remote DMA read wraps with it). */
  for (uint32_t k = 0; k < 40; k++) {
    frame(mac, 0x88B5, 700, 100 + k);
    send(700);
    receive();
  }
  outb(CR, CR_NODMA | CR_STP);
  put_str("DONE\n");
  return 0;
}
