/*
 * User process 2 of the x86 kernel sample: kernel-intensive microbenchmarks (null syscalls,
 * demand-zero page faults, context switches by yield), then two user faults: CLI in ring 3
 * (#GP(0): the kernel reports it and skips it) and a store into the process's own read-only
 * text (#PF, error code 7 = present | write | user: the kernel kills the process).
 * Everything printed is independent of timing: counts of what was asked and checksums.
 */
#include "../../../common/guest.h"
#include "usys.h"

#ifndef KB_NULL_SYSCALLS
#define KB_NULL_SYSCALLS 4000
#endif
#ifndef KB_PAGES
#define KB_PAGES 64
#endif
#ifndef KB_ROUNDS
#define KB_ROUNDS 40
#endif
#ifndef KB_YIELDS
#define KB_YIELDS 200
#endif

#define PAGE 4096

/* Demand-zero: untouched until the page-fault benchmark. */
static uint32_t area[KB_PAGES * PAGE / 4] __attribute__((aligned(PAGE)));

static void line(const char *what, uint32_t n, const char *rest) {
  put_str("kbench: ");
  put_str(what);
  put_dec(n);
  put_str(rest);
}

int main(void);
int main(void) {
  int pid = sys_getpid();
  put_str("kbench: running as pid ");
  put_dec((uint32_t)pid);
  put_str("\n");

  uint32_t wrong = 0;
  for (uint32_t i = 0; i < KB_NULL_SYSCALLS; i++)
    if (sys_getpid() != pid) wrong++;
  line("null syscalls ", KB_NULL_SYSCALLS, wrong ? " (WRONG RESULTS)\n" : ", all returned the pid\n");

  uint32_t zero_ok = 1;
  for (uint32_t p = 0; p < KB_PAGES; p++) {
    uint32_t *w = &area[p * (PAGE / 4) + (p % (PAGE / 4))];
    if (*w != 0) zero_ok = 0;
    *w = p * 2654435761u;
  }
  line("page faults: touched ", KB_PAGES, zero_ok ? " fresh pages, all zero-filled\n" : " pages, NOT ZERO\n");

  uint32_t sum = 0;
  for (uint32_t r = 0; r < KB_ROUNDS; r++)
    for (uint32_t p = 0; p < KB_PAGES; p++) sum = (sum ^ area[p * (PAGE / 4) + (p % (PAGE / 4))]) * 16777619u + r;
  line("page sweep: ", KB_PAGES, " pages x ");
  put_dec(KB_ROUNDS);
  put_str(" rounds, checksum ");
  put_hex32(sum);
  put_str("\n");

  for (uint32_t i = 0; i < KB_YIELDS; i++) sys_yield();
  line("yields: ", KB_YIELDS, " done\n");

  /* Ring 3 may not clear IF (IOPL 0): #GP(0), which the kernel skips. */
  __asm__ volatile("cli");
  put_str("kbench: still running after cli\n");

  put_str("kbench: writing to my own code\n");
  put_str(""); /* flush happens at newline above; the kernel output follows in order */
  *(volatile uint8_t *)(uintptr_t)main = 0xC3;
  put_str("kbench: NOT KILLED\n");
  return 0;
}
