/*
 * IDE PIO test guest: IDENTIFY DEVICE, READ/WRITE SECTORS, SET MULTIPLE MODE, READ/WRITE
 * MULTIPLE, FLUSH CACHE, aborted commands and a software reset on the primary channel's master
 * disk, printing status/error registers, the IDENTIFY words and an FNV-1a checksum of every
 * sector read. Interrupts stay masked (nIEN) and the CPU runs with IF = 0: the guest polls BSY
 * and DRQ, so its output does not depend on timing. Run with a 1 MiB raw image whose sector s
 * holds byte (s * 31 + j * 7) & 0xFF at offset j, s >= 1, and zeros in sector 0
 * (test/differential/x86-devices/ide.test.ts makes it); the same lines must come out under
 * QEMU (-drive file=IMG,format=raw,if=ide,index=0) and pvkit (--disk IMG).
 */
#include "../../common/guest.h"
#include "ata.h"

static uint16_t buf[8 * 256];

static void put_hex8(uint32_t v) {
  static const char digits[] = "0123456789abcdef";
  put_char(digits[(v >> 4) & 15]);
  put_char(digits[v & 15]);
}

static void put_hex16(uint32_t v) {
  put_hex8(v >> 8);
  put_hex8(v);
}

static uint8_t wait_not_busy(void) {
  uint8_t s;
  do {
    s = inb(ATA_STATUS);
  } while (s & ST_BSY);
  return s;
}

static void taskfile(const char *what) {
  put_str(what);
  put_str(": status ");
  put_hex8(inb(ATA_ALTSTATUS));
  put_str(" error ");
  put_hex8(inb(ATA_ERROR));
  put_str(" nsect ");
  put_hex8(inb(ATA_NSECT));
  put_str(" lba ");
  put_hex8(inb(ATA_LBAH));
  put_hex8(inb(ATA_LBAM));
  put_hex8(inb(ATA_LBAL));
  put_str(" device ");
  put_hex8(inb(ATA_DEVICE));
  put_char('\n');
}

static void command(uint8_t cmd, uint32_t lba, uint8_t count) {
  wait_not_busy();
  outb(ATA_DEVICE, (uint8_t)(0xE0 | ((lba >> 24) & 0x0F)));
  outb(ATA_NSECT, count);
  outb(ATA_LBAL, (uint8_t)lba);
  outb(ATA_LBAM, (uint8_t)(lba >> 8));
  outb(ATA_LBAH, (uint8_t)(lba >> 16));
  outb(ATA_COMMAND, cmd);
}

static uint32_t fnv(const uint16_t *w, uint32_t words) {
  uint32_t h = 0x811c9dc5u;
  for (uint32_t i = 0; i < words; i++) {
    h = (h ^ (w[i] & 0xFF)) * 0x01000193u;
    h = (h ^ (w[i] >> 8)) * 0x01000193u;
  }
  return h;
}

/* Reads `count` sectors in DRQ blocks of `block` sectors; prints each sector's checksum. */
static void read_blocks(const char *name, uint8_t cmd, uint32_t lba, uint8_t count, uint32_t block) {
  command(cmd, lba, count);
  uint32_t done = 0;
  put_str(name);
  while (done < count) {
    uint8_t s = wait_not_busy();
    if (!(s & ST_DRQ)) {
      put_str(" stopped, status ");
      put_hex8(s);
      break;
    }
    uint32_t n = count - done < block ? count - done : block;
    for (uint32_t i = 0; i < n * 256; i++) buf[i] = inw(ATA_DATA);
    for (uint32_t i = 0; i < n; i++) {
      put_char(' ');
      put_hex32(fnv(buf + i * 256, 256));
    }
    done += n;
  }
  put_char('\n');
  taskfile(name);
}

static void fill(uint32_t seed, uint32_t sectors) {
  for (uint32_t i = 0; i < sectors * 256; i++) buf[i] = (uint16_t)(seed * 0x9E37u + i * 0x0101u + (i >> 8));
}

static void write_blocks(const char *name, uint8_t cmd, uint32_t lba, uint8_t count, uint32_t block) {
  command(cmd, lba, count);
  uint32_t done = 0;
  while (done < count) {
    uint8_t s = wait_not_busy();
    if (!(s & ST_DRQ)) {
      put_str(name);
      put_str(" stopped, status ");
      put_hex8(s);
      put_char('\n');
      break;
    }
    uint32_t n = count - done < block ? count - done : block;
    for (uint32_t i = 0; i < n * 256; i++) outw(ATA_DATA, buf[done * 256 + i]);
    done += n;
  }
  wait_not_busy();
  taskfile(name);
}

static void identify(int all) {
  wait_not_busy();
  outb(ATA_DEVICE, 0xA0);
  if (all) {
    /* The count and LBA registers hold what the BIOS left (SeaBIOS under QEMU): clear them. */
    outb(ATA_NSECT, 0);
    outb(ATA_LBAL, 0);
    outb(ATA_LBAM, 0);
    outb(ATA_LBAH, 0);
  }
  outb(ATA_COMMAND, 0xEC);
  uint8_t s = wait_not_busy();
  put_str("identify status ");
  put_hex8(s);
  put_char('\n');
  for (uint32_t i = 0; i < 256; i++) buf[i] = inw(ATA_DATA);
  taskfile("after identify");
  if (all) {
    for (uint32_t i = 0; i < 256; i += 16) {
      put_hex8(i);
      put_char(':');
      for (uint32_t j = 0; j < 16; j++) {
        put_char(' ');
        put_hex16(buf[i + j]);
      }
      put_char('\n');
    }
    /* Strings are stored with the two bytes of each word swapped (ATA-6 section 8.15.9). */
    static const struct {
      const char *name;
      uint32_t first, words;
    } strs[] = {{"serial", 10, 10}, {"firmware", 23, 4}, {"model", 27, 20}};
    for (uint32_t k = 0; k < 3; k++) {
      put_str(strs[k].name);
      put_str(" \"");
      for (uint32_t w = strs[k].first; w < strs[k].first + strs[k].words; w++) {
        put_char(buf[w] >> 8);
        put_char(buf[w] & 0xFF);
      }
      put_str("\"\n");
    }
  } else {
    put_str("word 47 ");
    put_hex16(buf[47]);
    put_str(" word 59 ");
    put_hex16(buf[59]);
    put_char('\n');
  }
}

static void simple(const char *name, uint8_t cmd, uint8_t count) {
  command(cmd, 0, count);
  wait_not_busy();
  taskfile(name);
}

/* READ SECTORS EXT: each task-file register written twice (high-order byte first); reading
   with HOB set in Device Control shows the first writes (ATA-6 7.9.6). */
static void lba48_read(void) {
  wait_not_busy();
  outb(ATA_DEVICE, 0x40);
  outb(ATA_NSECT, 0);
  outb(ATA_NSECT, 2);
  outb(ATA_LBAL, 0);
  outb(ATA_LBAL, 0xFE);
  outb(ATA_LBAM, 0);
  outb(ATA_LBAM, 0x07);
  outb(ATA_LBAH, 0);
  outb(ATA_LBAH, 0);
  outb(ATA_COMMAND, 0x24);
  put_str("read sectors ext 2046-2047");
  for (int s = 0; s < 2; s++) {
    uint8_t st = wait_not_busy();
    if (!(st & ST_DRQ)) {
      put_str(" stopped, status ");
      put_hex8(st);
      break;
    }
    for (int i = 0; i < 256; i++) buf[i] = inw(ATA_DATA);
    put_char(' ');
    put_hex32(fnv(buf, 256));
  }
  put_char('\n');
  taskfile("read sectors ext");
  outb(ATA_DEVCTL, CTL_NIEN | 0x80);
  taskfile("read sectors ext, HOB");
  outb(ATA_DEVCTL, CTL_NIEN);
}

int main(void) {
  /* The task file's power-on contents are what the BIOS left (SeaBIOS probes both drives
     under QEMU; pvkit has no BIOS), so only the status of each drive is printed here. */
  outb(ATA_DEVCTL, CTL_NIEN);
  outb(ATA_DEVICE, 0xB0);
  put_str("slave selected: status ");
  put_hex8(inb(ATA_STATUS));
  outb(ATA_DEVICE, 0xA0);
  put_str(", master selected: status ");
  put_hex8(inb(ATA_STATUS));
  put_char('\n');
  identify(1);

  read_blocks("read sectors 0-3", 0x20, 0, 4, 1);
  read_blocks("read sectors 2045-2047", 0x20, 2045, 3, 1);
  fill(1, 2);
  write_blocks("write sectors 100-101", 0x30, 100, 2, 1);
  read_blocks("read sectors 99-102", 0x20, 99, 4, 1);

  read_blocks("read multiple before set", 0xC4, 8, 2, 1);
  simple("set multiple 3", 0xC6, 3);
  simple("set multiple 4", 0xC6, 4);
  identify(0);
  read_blocks("read multiple 8-17", 0xC4, 8, 10, 4);
  fill(2, 5);
  write_blocks("write multiple 200-204", 0xC5, 200, 5, 4);
  read_blocks("read sectors 200-204", 0x20, 200, 5, 1);

  lba48_read();
  simple("flush cache", 0xE7, 0);
  read_blocks("read past the end", 0x20, 2048, 1, 1);
  read_blocks("read across the end", 0x20, 2046, 4, 1);
  simple("unknown command ff", 0xFF, 0);
  simple("nop", 0x00, 0);

  outb(ATA_DEVCTL, CTL_NIEN | CTL_SRST);
  outb(ATA_DEVCTL, CTL_NIEN);
  wait_not_busy();
  taskfile("after srst");
  identify(0);
  put_str("DONE\n");
  return 0;
}
