/*
 * Console: the HAL's console (hal.h: the polled 16550 natively, console_io under PV) and
 * the per-process output buffers. User output is buffered and printed only when every
 * process has finished, so the console shows results, never timer-dependent
 * interleavings.
 */
#include "kernel.h"

/* Output buffers sit in their own section, outside the wired kernel range. */
char proc_out[NPROC][OUTBUF_SIZE] __attribute__((section(".bss.kbulk")));

void console_init(void) {
  hal_console_init();
}

void kputs(const char *s) {
  hal_console_puts(s);
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
