/*
 * Kernel console output: strings, hex and decimal numbers, each handed to the HAL as one
 * string (natively a polled UART loop, in the PV kernel one console_io hypercall).
 */
#include "kernel.h"

void kputs(const char *s) {
  u32 n = 0;
  while (s[n]) n++;
  hal_console_write(s, n);
}

void kputhex(u32 v) {
  static const char d[] = "0123456789abcdef";
  char b[11] = "0x";
  for (int s = 28, i = 2; s >= 0; s -= 4) b[i++] = d[(v >> s) & 15];
  b[10] = 0;
  kputs(b);
}

void kputdec(u32 v) {
  char b[11];
  int n = 10;
  b[n] = 0;
  do {
    b[--n] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  kputs(b + n);
}
