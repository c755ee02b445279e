/*
 * x86 layer of the sample guests on the PC board (QEMU -M pc, pvkit's pc): the 16550 UART at
 * COM1 (port 0x3F8) and the exit port 0x501 (QEMU's isa-debug-exit, iobase=0x501, iosize=2,
 * exits with (v << 1) | 1; pvkit exits with v). Port I/O is always allowed: the guest runs at
 * CPL 0.
 */
#include "../common/guest.h"
#include "io.h"

#define UART_THR 0x3F8
#define UART_LSR 0x3FD
#define LSR_THRE 0x20
#define EXIT_PORT 0x501

const char arch_name[] = "x86";

void arch_putc(int c) {
  while (!(inb(UART_LSR) & LSR_THRE)) {
  }
  outb(UART_THR, (uint8_t)c);
}

void arch_exit(int code) {
  outb(EXIT_PORT, (uint8_t)code);
  /* Not reached on either machine; without the exit device, halt with interrupts off. */
  for (;;) __asm__ volatile("cli; hlt");
}
