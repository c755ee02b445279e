/* Number formatting for the kernel console (no libc). */
#include "fmt.h"

/* Writes v in decimal to buf (no terminator); returns the number of characters. */
unsigned fmt_u32(char *buf, unsigned v) {
  char tmp[10];
  unsigned n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (unsigned i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  return n;
}

/* Writes v as 0x%08x to buf (no terminator); returns 10. */
unsigned fmt_hex(char *buf, unsigned v) {
  static const char digits[] = "0123456789abcdef";
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < 8; i++) buf[2 + i] = digits[(v >> (28 - 4 * i)) & 0xf];
  return 10;
}
