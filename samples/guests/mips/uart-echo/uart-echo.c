/*
 * Interrupt-driven console input: the 16550's receive interrupt (IER.ERBFI, FIFOs off)
 * reaches the CPU on Cause.IP4 as mipssim wires it; the handler moves bytes into a ring, main
 * echoes them in upper case until a newline, then reports the count. Output depends only on
 * the input, not on when it arrives, so QEMU (input on its stdin) and pvkit (--input) agree.
 */
#include "../../common/guest.h"

#define ISA_IO(port) (0xBFD00000u + (port))
#define REG8(addr) (*(volatile uint8_t *)(addr))
#define UART_RBR ISA_IO(0x3F8)
#define UART_IER ISA_IO(0x3F9)
#define UART_IIR ISA_IO(0x3FA)
#define UART_FCR ISA_IO(0x3FA)
#define UART_LSR ISA_IO(0x3FD)

#define STATUS_IE 0x1u
#define STATUS_IM4 (1u << 12)

void set_status(uint32_t status);

static volatile uint8_t ring[256];
static volatile uint32_t ring_head, ring_tail;
static volatile uint32_t interrupts;

/* Called from vectors.S for every exception; only the UART interrupt is enabled. */
void irq_handler(void) {
  interrupts++;
  while (REG8(UART_LSR) & 0x01) ring[ring_head++ & 255] = REG8(UART_RBR);
}

int main(void) {
  put_str("uart-echo: send a line\n");
  /* FIFOs stay off: turning them on clears them (PC16550D FCR bit 0), losing input that arrived
     before this point, on QEMU and pvkit alike. */
  REG8(UART_FCR) = 0x00;
  REG8(UART_IER) = 0x01; /* received data available */
  set_status(STATUS_IM4 | STATUS_IE); /* BEV = ERL = EXL = 0: vectors at 0x80000180 */
  uint32_t count = 0;
  for (;;) {
    while (ring_tail == ring_head) {
    }
    int c = ring[ring_tail++ & 255];
    count++;
    put_char(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    if (c == '\n') break;
  }
  set_status(0);
  put_str("uart-echo: ");
  put_dec(count);
  put_str(interrupts > 0 ? " bytes, received by interrupt\n" : " bytes, but no interrupt\n");
  put_str("DONE\n");
  return 0;
}
