/*
 * Console: the 16550 UART at ISA port 0x3F8 (mipssim; kseg1 0xBFD003F8), polled, and the
 * per-process output buffers. User output is buffered and printed only when every
 * process has finished, so the console shows results, never timer-dependent
 * interleavings.
 */
#include "kernel.h"

/* 16550 registers (offsets from the base port) and LSR bits: PC16550D datasheet. */
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define LCR_8N1 0x03

#define UART_REG(r) (*(volatile u8 *)(ISA_BASE + UART_PORT + (r)))

/* Output buffers sit in their own section, outside the wired kernel range. */
char proc_out[NPROC][OUTBUF_SIZE] __attribute__((section(".bss.kbulk")));

void uart_init(void) {
  UART_REG(UART_IER) = 0; /* polled: no UART interrupts */
  UART_REG(UART_LCR) = LCR_8N1;
  UART_REG(UART_FCR) = 0;
  UART_REG(UART_MCR) = 0;
}

static void uart_putc(char c) {
  while ((UART_REG(UART_LSR) & LSR_THRE) == 0) {
  }
  UART_REG(UART_THR) = (u8)c;
}

void kputs(const char *s) {
  while (*s) uart_putc(*s++);
}

void kput_u32(u32 v) {
  char b[12];
  unsigned n = fmt_u32(b, v);
  b[n] = 0;
  kputs(b);
}

void kput_hex(u32 v) {
  char b[12];
  unsigned n = fmt_hex(b, v);
  b[n] = 0;
  kputs(b);
}

void out_append(struct proc *p, const char *s, u32 n) {
  char *buf = proc_out[p->pid - 1];
  for (u32 i = 0; i < n; i++) {
    if (p->out_len >= OUTBUF_SIZE) {
      p->out_truncated = 1;
      return;
    }
    buf[p->out_len++] = s[i];
  }
}

void out_puts(struct proc *p, const char *s) {
  u32 n = 0;
  while (s[n]) n++;
  out_append(p, s, n);
}

void out_u32(struct proc *p, u32 v) {
  char b[12];
  out_append(p, b, fmt_u32(b, v));
}

void out_hex(struct proc *p, u32 v) {
  char b[12];
  out_append(p, b, fmt_hex(b, v));
}
