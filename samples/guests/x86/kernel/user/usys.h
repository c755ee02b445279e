/* System calls of the x86 kernel sample (layout.h): int 0x80, EAX = number, EBX/ECX args. */
#ifndef PVKIT_X86_USYS_H
#define PVKIT_X86_USYS_H
#include <stdint.h>
#include "../layout.h"

static inline int syscall2(int n, uint32_t a, uint32_t b) {
  int r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b) : "memory");
  return r;
}
static inline void sys_exit(int code) { syscall2(SYS_EXIT, (uint32_t)code, 0); }
static inline int sys_write(const char *buf, uint32_t len) { return syscall2(SYS_WRITE, (uint32_t)buf, len); }
static inline int sys_getpid(void) { return syscall2(SYS_GETPID, 0, 0); }
static inline void sys_yield(void) { syscall2(SYS_YIELD, 0, 0); }

#endif
