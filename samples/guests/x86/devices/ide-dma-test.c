/*
 * IDE bus-master DMA test guest: finds the IDE function (00:01.1, PIIX3 on QEMU's pc) through
 * PCI configuration mechanism #1 (0xCF8/0xCFC), takes the bus-master registers from BAR4 and
 * runs READ DMA / WRITE DMA with a two-entry PRD table (Intel 82371SB PIIX3 datasheet, section
 * 2.7 and 3.0; ATA-6 READ/WRITE DMA), printing the bus-master status, the ATA status and
 * checksums. The device's interrupt is enabled (nIEN = 0) because the bus-master Interrupt bit
 * follows the IDE interrupt line, but the CPU keeps IF = 0 and polls that bit, so the 8259A only
 * latches IRQ14. Same image as ide-test.elf.
 */
#include "../../common/guest.h"
#include "ata.h"

static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) {
  uint32_t v;
  __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

static uint32_t pci_read(uint32_t dev, uint32_t fn, uint32_t reg) {
  outl(0xCF8, 0x80000000u | (dev << 11) | (fn << 8) | (reg & 0xFC));
  return inl(0xCFC);
}

static void pci_write(uint32_t dev, uint32_t fn, uint32_t reg, uint32_t v) {
  outl(0xCF8, 0x80000000u | (dev << 11) | (fn << 8) | (reg & 0xFC));
  outl(0xCFC, v);
}

/* PRD entries: physical address, byte count (bit 31 of the second word: end of table). */
static uint32_t prd[4] __attribute__((aligned(16)));
static uint8_t data[4096] __attribute__((aligned(16)));
static uint16_t bm;

static uint32_t fnv(const uint8_t *p, uint32_t n) {
  uint32_t h = 0x811c9dc5u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x01000193u;
  return h;
}

static void put_hex8(uint32_t v) {
  static const char digits[] = "0123456789abcdef";
  put_char(digits[(v >> 4) & 15]);
  put_char(digits[v & 15]);
}

static void dma(const char *name, uint8_t cmd, uint32_t lba, uint8_t count, uint32_t first_len, uint32_t second_len) {
  prd[0] = (uint32_t)(uintptr_t)data;
  prd[1] = first_len;
  prd[2] = (uint32_t)(uintptr_t)data + first_len;
  prd[3] = 0x80000000u | second_len;
  int to_memory = cmd == 0xC8;
  outb(bm + 0, 0);
  outb(bm + 2, 0x06); /* clear interrupt and error */
  outl(bm + 4, (uint32_t)(uintptr_t)prd);
  outb(bm + 0, to_memory ? 0x08 : 0x00);
  while (inb(ATA_STATUS) & ST_BSY) {
  }
  outb(ATA_DEVICE, (uint8_t)(0xE0 | ((lba >> 24) & 0x0F)));
  outb(ATA_NSECT, count);
  outb(ATA_LBAL, (uint8_t)lba);
  outb(ATA_LBAM, (uint8_t)(lba >> 8));
  outb(ATA_LBAH, (uint8_t)(lba >> 16));
  outb(ATA_COMMAND, cmd);
  outb(bm + 0, to_memory ? 0x09 : 0x01);
  uint32_t spins = 2000000;
  while (!(inb(bm + 2) & 0x04) && --spins) {
  }
  uint8_t bms = inb(bm + 2);
  outb(bm + 0, to_memory ? 0x08 : 0x00);
  uint8_t st = inb(ATA_STATUS);
  put_str(name);
  put_str(spins ? ": bmis " : ": timed out, bmis ");
  put_hex8(bms);
  put_str(" status ");
  put_hex8(st);
  put_str(" error ");
  put_hex8(inb(ATA_ERROR));
  put_str(" nsect ");
  put_hex8(inb(ATA_NSECT));
  put_str(" lba ");
  put_hex8(inb(ATA_LBAH));
  put_hex8(inb(ATA_LBAM));
  put_hex8(inb(ATA_LBAL));
  outb(bm + 2, 0x06);
  put_str(" bmis after clear ");
  put_hex8(inb(bm + 2));
  put_char('\n');
}

int main(void) {
  outb(ATA_DEVCTL, 0);
  uint32_t id = pci_read(1, 1, 0x00);
  uint32_t cls = pci_read(1, 1, 0x08);
  uint32_t bar4 = pci_read(1, 1, 0x20);
  put_str("00:01.1 id ");
  put_hex32(id);
  put_str(" class ");
  put_hex32(cls);
  put_str(" bar4 ");
  put_hex32(bar4);
  put_char('\n');
  put_str("00:00.0 id ");
  put_hex32(pci_read(0, 0, 0x00));
  put_str(", 00:01.0 id ");
  put_hex32(pci_read(1, 0, 0x00));
  put_str(", 00:1f.0 id ");
  put_hex32(pci_read(0x1f, 0, 0x00));
  put_char('\n');
  uint32_t cmdreg = pci_read(1, 1, 0x04);
  pci_write(1, 1, 0x04, (cmdreg & 0xFFFF) | 0x05); /* I/O space and bus master */
  put_str("command ");
  put_hex8(cmdreg & 0xFF);
  put_str(" -> ");
  put_hex8(pci_read(1, 1, 0x04) & 0xFF);
  put_char('\n');
  bm = (uint16_t)(bar4 & 0xFFFC);

  for (uint32_t i = 0; i < sizeof data; i++) data[i] = 0xA5;
  dma("read dma 1-4", 0xC8, 1, 4, 1024, 1024);
  put_str("checksums");
  for (int s = 0; s < 4; s++) {
    put_char(' ');
    put_hex32(fnv(data + 512 * s, 512));
  }
  put_str(" tail ");
  put_hex8(data[2048]);
  put_char('\n');

  for (uint32_t i = 0; i < 1024; i++) data[i] = (uint8_t)(i * 5 + (i >> 8));
  dma("write dma 300-301", 0xCA, 300, 2, 512, 512);
  for (uint32_t i = 0; i < 1024; i++) data[i] = 0;
  dma("read dma 300-301", 0xC8, 300, 2, 1000, 24);
  put_str("checksum ");
  put_hex32(fnv(data, 1024));
  put_char('\n');
  dma("read dma past the end", 0xC8, 2047, 2, 512, 512);
  put_str("DONE\n");
  return 0;
}
