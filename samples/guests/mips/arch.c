/*
 * MIPS layer of the sample guests on the mipssim board (QEMU -M mipssim, pvkit's mipssim).
 * The ISA I/O window is at physical 0x1FD00000 + port (QEMU hw/mips/mipssim.c); guests reach
 * it through kseg1 (physical + 0xA0000000, unmapped and uncached), which works before any TLB
 * setup and with Status.ERL set as QEMU leaves it after -kernel.
 */
#include "../common/guest.h"

#define ISA_IO(port) (0xBFD00000u + (port))
#define UART_THR ISA_IO(0x3F8)
#define UART_LSR ISA_IO(0x3FD)
#define LSR_THRE 0x20
#define EXIT_PORT ISA_IO(0x501)

#define REG8(addr) (*(volatile uint8_t *)(addr))

const char arch_name[] = "mips";

void arch_putc(int c) {
  while (!(REG8(UART_LSR) & LSR_THRE)) {
  }
  REG8(UART_THR) = (uint8_t)c;
}

void arch_exit(int code) {
  /* pvkit stops here; QEMU's mipssim ignores the write, so idle forever (the test harness
     stops QEMU when it sees the guest's last line). */
  REG8(EXIT_PORT) = (uint8_t)code;
  for (;;) __asm__ volatile("wait");
}
