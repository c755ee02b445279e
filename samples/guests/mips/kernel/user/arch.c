/*
 * The sample guests' per-architecture layer (samples/guests/common/guest.h) for user
 * processes of the MIPS kernel sample: the console is the kernel's SYS_WRITE (one call
 * per line), exit is SYS_EXIT. With it, common/compute.c and common/print.c build
 * unchanged as user code.
 */
#include "../../../common/guest.h"
#include "usys.h"

const char arch_name[] = "mips";

static char line[128];
static unsigned line_len;

static void flush_line(void) {
  if (line_len > 0) sys_write(line, line_len);
  line_len = 0;
}

void arch_putc(int c) {
  line[line_len++] = (char)c;
  if (c == '\n' || line_len == sizeof line) flush_line();
}

void arch_exit(int code) {
  flush_line();
  sys_exit(code);
  for (;;) {
  }
}

/* Called by crt0.S with main's return value. */
void user_exit(int code) { arch_exit(code); }
