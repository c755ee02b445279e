/*
 * Interrupt delivery test guest: the IDE disk's INTRQ on IRQ14 and the NE2000's on IRQ9 reach
 * the CPU through the 8259A pair (re-initialised: master vectors 0x20-0x27, slave 0x28-0x2F,
 * cascade on IR2; Intel 8259A datasheet ICW1-4) and an IDT of 32-bit interrupt gates. The CPU
 * waits with `sti; hlt` (STI's one-instruction shadow closes the race with the interrupt); the
 * handlers read the device's status (which clears its request) and send non-specific EOIs.
 * Prints how many interrupts each IDE command raised and which NE2000 ISR bits were seen.
 * Needs the IDE image of ide-test.elf and an NE2000 whose frames come back.
 */
#include "../../common/guest.h"
#include "ata.h"

struct idt_entry {
  uint16_t off_lo, sel;
  uint8_t zero, type;
  uint16_t off_hi;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(8)));
static struct {
  uint16_t limit;
  uint32_t base;
} __attribute__((packed)) idtr;

static volatile uint32_t ide_irqs;
static volatile uint8_t ide_status;
static volatile uint32_t nic_irqs;
static volatile uint8_t nic_isr_seen;
static volatile uint32_t other_irqs;
static uint16_t buf[256];

void ide_handler(void);
void nic_handler(void);
void other_handler(void);
extern char ide_stub[], nic_stub[], other_stub[];

__asm__(".text\n"
        ".globl ide_stub\nide_stub:\n pushal\n cld\n call ide_handler\n popal\n iret\n"
        ".globl nic_stub\nnic_stub:\n pushal\n cld\n call nic_handler\n popal\n iret\n"
        ".globl other_stub\nother_stub:\n pushal\n cld\n call other_handler\n popal\n iret\n");

void ide_handler(void) {
  ide_status = inb(ATA_STATUS);
  ide_irqs++;
  outb(0xA0, 0x20);
  outb(0x20, 0x20);
}

void nic_handler(void) {
  uint8_t isr = inb(0x307);
  nic_isr_seen |= isr;
  outb(0x307, isr);
  nic_irqs++;
  outb(0xA0, 0x20);
  outb(0x20, 0x20);
}

void other_handler(void) {
  other_irqs++;
  outb(0xA0, 0x20);
  outb(0x20, 0x20);
}

static void set_gate(int v, char *fn) {
  uint32_t a = (uint32_t)(uintptr_t)fn;
  uint16_t cs;
  __asm__ volatile("mov %%cs, %0" : "=r"(cs));
  idt[v].off_lo = (uint16_t)a;
  idt[v].sel = cs;
  idt[v].zero = 0;
  idt[v].type = 0x8E; /* present, DPL 0, 32-bit interrupt gate */
  idt[v].off_hi = (uint16_t)(a >> 16);
}

static void wait_for(volatile uint32_t *counter, uint32_t target) {
  while (*counter < target) __asm__ volatile("sti; hlt; cli");
}

static void put_hex8(uint32_t v) {
  static const char digits[] = "0123456789abcdef";
  put_char(digits[(v >> 4) & 15]);
  put_char(digits[v & 15]);
}

static void report(const char *name, uint32_t before) {
  put_str(name);
  put_str(": ");
  put_dec(ide_irqs - before);
  put_str(" interrupts, last status ");
  put_hex8(ide_status);
  put_str(", status now ");
  put_hex8(inb(ATA_ALTSTATUS));
  put_char('\n');
}

static void ata_cmd(uint8_t cmd, uint32_t lba, uint8_t count) {
  while (inb(ATA_ALTSTATUS) & ST_BSY) {
  }
  outb(ATA_DEVICE, (uint8_t)(0xE0 | ((lba >> 24) & 0x0F)));
  outb(ATA_NSECT, count);
  outb(ATA_LBAL, (uint8_t)lba);
  outb(ATA_LBAM, (uint8_t)(lba >> 8));
  outb(ATA_LBAH, (uint8_t)(lba >> 16));
  outb(ATA_COMMAND, cmd);
}

int main(void) {
  for (int v = 0; v < 256; v++) set_gate(v, other_stub);
  set_gate(0x2E, ide_stub);
  set_gate(0x29, nic_stub);
  idtr.limit = sizeof idt - 1;
  idtr.base = (uint32_t)(uintptr_t)idt;
  __asm__ volatile("lidt %0" : : "m"(idtr));

  outb(0x20, 0x11);
  outb(0x21, 0x20);
  outb(0x21, 0x04);
  outb(0x21, 0x01);
  outb(0xA0, 0x11);
  outb(0xA1, 0x28);
  outb(0xA1, 0x02);
  outb(0xA1, 0x01);
  outb(0x21, 0xFB);        /* only the cascade on the master (no timer) */
  outb(0xA1, 0xBD);        /* IRQ9 and IRQ14 on the slave */
  outb(ATA_DEVCTL, 0x00);  /* nIEN = 0 */
  (void)inb(ATA_STATUS);   /* drop a request left from before */

  uint32_t before = ide_irqs;
  ata_cmd(0xEC, 0, 0);
  outb(ATA_DEVICE, 0xA0);
  wait_for(&ide_irqs, before + 1);
  for (int i = 0; i < 256; i++) buf[i] = inw(ATA_DATA);
  report("identify", before);

  before = ide_irqs;
  ata_cmd(0x20, 1, 3);
  for (uint32_t s = 0; s < 3; s++) {
    wait_for(&ide_irqs, before + s + 1);
    for (int i = 0; i < 256; i++) buf[i] = inw(ATA_DATA);
  }
  report("read sectors 1-3", before);

  before = ide_irqs;
  ata_cmd(0x30, 400, 2);
  for (uint32_t s = 0; s < 2; s++) {
    while (!(inb(ATA_ALTSTATUS) & ST_DRQ)) {
    }
    for (int i = 0; i < 256; i++) outw(ATA_DATA, (uint16_t)(i * 3 + s));
    wait_for(&ide_irqs, before + s + 1);
  }
  report("write sectors 400-401", before);

  before = ide_irqs;
  ata_cmd(0xE7, 0, 0);
  wait_for(&ide_irqs, before + 1);
  report("flush cache", before);

  before = ide_irqs;
  ata_cmd(0xFF, 0, 0);
  wait_for(&ide_irqs, before + 1);
  report("unknown command", before);

  /* NE2000: PTX and PRX interrupts through IRQ9 (IMR = PRX | PTX). */
  (void)inb(0x31F);
  outb(0x300, 0x21);
  outb(0x30E, 0x49);
  outb(0x301, 0x46);
  outb(0x302, 0x80);
  outb(0x303, 0x46);
  outb(0x300, 0x61);
  static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  for (int i = 0; i < 6; i++) outb(0x301 + i, mac[i]);
  outb(0x307, 0x46);
  outb(0x300, 0x21);
  outb(0x30C, 0x04);
  outb(0x30D, 0x00);
  outb(0x307, 0xFF);
  outb(0x30F, 0x03);
  outb(0x300, 0x22);
  static uint8_t frame[64];
  for (int i = 0; i < 6; i++) frame[i] = frame[6 + i] = mac[i];
  frame[12] = 0x88;
  frame[13] = 0xB5;
  outb(0x30A, 64);
  outb(0x30B, 0);
  outb(0x308, 0);
  outb(0x309, 0x40);
  outb(0x300, 0x12);
  for (int i = 0; i < 64; i += 2) outw(0x310, (uint16_t)(frame[i] | (frame[i + 1] << 8)));
  outb(0x307, 0x40); /* RDC is masked: acknowledge it by hand */
  outb(0x304, 0x40);
  outb(0x305, 64);
  outb(0x306, 0);
  outb(0x300, 0x26);
  while ((nic_isr_seen & 0x03) != 0x03) __asm__ volatile("sti; hlt; cli");
  put_str("ne2000: isr bits seen ");
  put_hex8(nic_isr_seen);
  put_str(", other interrupts ");
  put_dec(other_irqs);
  put_char('\n');
  put_str("DONE\n");
  return 0;
}
