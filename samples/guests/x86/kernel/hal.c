/*
 * The native hardware layer's out-of-line parts (include/hal.h): segmentation, the IDT, the
 * 8259A and 8254, the COM1 console and the exit port.
 *
 * Sources: Intel SDM vol. 3A (segment descriptors 3.4.5, TSS 7.2.1, gates 6.11), Intel 8259A
 * and 8254 datasheets, PC16550D datasheet (LSR bit 5 = THR empty).
 */
#include "kernel.h"

/* ---- console (COM1, polled) and exit ---- */

#define COM1 0x3F8
#define EXIT_PORT 0x501 /* isa-debug-exit (QEMU) / the pvkit PC board's exit port */

static void kputc(char c) {
  while (!(inb(COM1 + 5) & 0x20)) {
  }
  outb(COM1, (u8)c);
}

void hal_console_write(const char *s, u32 n) {
  for (u32 i = 0; i < n; i++) kputc(s[i]);
}

void hal_exit(int code) {
  outb(EXIT_PORT, (u8)code);
  for (;;) __asm__ volatile("cli; hlt");
}

/* ---- segmentation: GDT and TSS (SDM 3.4.5, 7.2.1) ---- */

struct tss tss;
static u32 gdt[6 * 2];
static struct {
  u16 limit;
  u32 base;
} __attribute__((packed)) gdtr, idtr;

/* Descriptor: base, 20-bit limit, access byte (P DPL S type), flags nibble (G D/B). */
static void set_desc(int i, u32 base, u32 limit, u8 access, u8 flags) {
  gdt[2 * i] = (limit & 0xFFFF) | (base << 16);
  gdt[2 * i + 1] = ((base >> 16) & 0xFF) | ((u32)access << 8) | (limit & 0xF0000) | ((u32)flags << 20) |
                   (base & 0xFF000000);
}

void load_gdt(const void *gdtr_ptr); /* entry.S */

static void gdt_init(void) {
  /* Accessed bits preset (type | 1), so the CPU never writes the GDT when loading a segment. */
  set_desc(0, 0, 0, 0, 0);
  set_desc(1, 0, 0xFFFFF, 0x9B, 0xC); /* kernel code: P, DPL 0, execute/read; 4 KiB, 32-bit */
  set_desc(2, 0, 0xFFFFF, 0x93, 0xC); /* kernel data: read/write */
  set_desc(3, 0, 0xFFFFF, 0xFB, 0xC); /* user code: DPL 3 */
  set_desc(4, 0, 0xFFFFF, 0xF3, 0xC); /* user data: DPL 3 */
  /* 32-bit available TSS (type 9), byte granular; no I/O bitmap (base past the limit), so
     with IOPL 0 every port access from ring 3 raises #GP. */
  tss.ss0 = SEL_KDATA;
  tss.iomap_base = sizeof tss;
  set_desc(5, (u32)&tss, sizeof tss - 1, 0x89, 0x0);
  gdtr.limit = sizeof gdt - 1;
  gdtr.base = (u32)gdt;
  load_gdt(&gdtr);
}

/* ---- interrupts: IDT (SDM 6.11) ---- */

static u32 idt[256 * 2];

/* 32-bit interrupt gate (type 0xE): IF cleared on entry. */
static void set_gate(int vec, u32 handler, int dpl) {
  idt[2 * vec] = (handler & 0xFFFF) | ((u32)SEL_KCODE << 16);
  idt[2 * vec + 1] = (handler & 0xFFFF0000) | 0x8E00 | ((u32)dpl << 13);
}

static void idt_init(void) {
  /* vector_table (trap-entry.S): stubs 0-31, the IRQ stubs 0x20-0x2F, then int 0x80. */
  for (int v = 0; v < 48; v++) set_gate(v, vector_table[v], 0);
  set_gate(SYSCALL_VECTOR, vector_table[48], 3);
  idtr.limit = sizeof idt - 1;
  idtr.base = (u32)idt;
  __asm__ volatile("lidt %0" : : "m"(idtr));
}

void hal_trap_init(void) {
  gdt_init();
  idt_init();
}

/* ---- timer: 8259A and 8254 ---- */

#define PIT_HZ 100
#define PIT_INPUT_HZ 1193182

static void pic_init(void) {
  outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 */
  outb(0xA0, 0x11);
  outb(0x21, IRQ_BASE); /* ICW2: vectors 0x20.. and 0x28.. */
  outb(0xA1, IRQ_BASE + 8);
  outb(0x21, 0x04); /* ICW3: slave on IR2 */
  outb(0xA1, 0x02);
  outb(0x21, 0x01); /* ICW4: 8086 mode */
  outb(0xA1, 0x01);
  outb(0x21, 0xFE); /* OCW1: only IRQ0 (the timer) */
  outb(0xA1, 0xFF);
}

static void pit_init(void) {
  u32 count = (PIT_INPUT_HZ + PIT_HZ / 2) / PIT_HZ;
  outb(0x43, 0x34); /* counter 0, LSB then MSB, mode 2 (rate generator), binary */
  outb(0x40, (u8)count);
  outb(0x40, (u8)(count >> 8));
}

void hal_timer_init(void) {
  pic_init();
  pit_init();
}
