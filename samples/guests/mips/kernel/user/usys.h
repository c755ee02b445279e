/* System call stubs of the sample kernel's user programs (ABI: include/syscalls.h). */
#ifndef USYS_H
#define USYS_H
#include "syscalls.h"

/* The kernel preserves every register but v0, so only v0 and memory are clobbered. */
static inline int usys(int num, unsigned a0, unsigned a1) {
  register int v0 __asm__("$2") = num;
  register unsigned r4 __asm__("$4") = a0;
  register unsigned r5 __asm__("$5") = a1;
  __asm__ volatile("syscall" : "+r"(v0) : "r"(r4), "r"(r5) : "memory");
  return v0;
}

static inline int sys_write(const char *buf, unsigned len) {
  return usys(SYS_WRITE, (unsigned)buf, len);
}
static inline int sys_yield(void) { return usys(SYS_YIELD, 0, 0); }
static inline int sys_getpid(void) { return usys(SYS_GETPID, 0, 0); }
static inline void sys_exit(int status) {
  usys(SYS_EXIT, (unsigned)status, 0);
  for (;;) {
  }
}
#endif
