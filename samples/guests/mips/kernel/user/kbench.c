/*
 * User process 2 of the kernel sample: kernel-intensive microbenchmarks (null syscalls,
 * demand-zero page faults, TLB misses over many pages, context switches by yield), then
 * two user faults: an unaligned load (the kernel reports it and resumes after it) and a
 * store through a null pointer (the kernel reports it and kills the process).
 * Everything printed is independent of timing: counts of what was asked and checksums.
 * The argument (from the kernel's proc_config) selects the parts to run (KB_* bits).
 */
#include "../../../common/guest.h"
#include "usys.h"

#ifndef KB_NULL_SYSCALLS
#define KB_NULL_SYSCALLS 4000
#endif
#ifndef KB_PAGES
#define KB_PAGES 128 /* 64 TLB pairs, four times the 16-entry TLB */
#endif
#ifndef KB_TLB_ROUNDS
#define KB_TLB_ROUNDS 40
#endif
#ifndef KB_YIELD_COUNT
#define KB_YIELD_COUNT 200
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

int main(unsigned tests) {
  int pid = sys_getpid();
  put_str("kbench: running as pid ");
  put_dec((uint32_t)pid);
  put_str("\n");

  /* Null system calls. */
  if (tests & KB_SYSCALLS) {
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < KB_NULL_SYSCALLS; i++)
      if (sys_getpid() != pid) wrong++;
    line("null syscalls ", KB_NULL_SYSCALLS, wrong ? " (WRONG RESULTS)\n" : ", all returned the pid\n");
  }

  /* Page faults: first touch of each page of a demand-zero array. */
  if (tests & KB_PAGE_FAULTS) {
    uint32_t zero_ok = 1;
    for (uint32_t p = 0; p < KB_PAGES; p++) {
      uint32_t *w = &area[p * (PAGE / 4) + (p % (PAGE / 4))];
      if (*w != 0) zero_ok = 0;
      *w = p * 2654435761u + (uint32_t)pid; /* differs per process: ASID mix-ups show */
    }
    line("page faults: touched ", KB_PAGES, zero_ok ? " fresh pages, all zero-filled\n" : " pages, NOT ZERO\n");
  }

  /* TLB misses: sweep every page, round after round (each access to a pair that was
     evicted since the last round misses). */
  if (tests & KB_TLB_SWEEP) {
    uint32_t sum = 0;
    for (uint32_t r = 0; r < KB_TLB_ROUNDS; r++)
      for (uint32_t p = 0; p < KB_PAGES; p++) sum = (sum ^ area[p * (PAGE / 4) + (p % (PAGE / 4))]) * 16777619u + r;
    line("tlb sweep: ", KB_PAGES, " pages x ");
    put_dec(KB_TLB_ROUNDS);
    put_str(" rounds, checksum ");
    put_hex32(sum);
    put_str("\n");
  }

  /* Context switches (when another process is runnable). */
  if (tests & KB_YIELDS) {
    for (uint32_t i = 0; i < KB_YIELD_COUNT; i++) sys_yield();
    line("yields: ", KB_YIELD_COUNT, " done\n");
  }

  if (!(tests & KB_USER_FAULTS)) return 0;

  /* An unaligned load: the kernel skips it, so t0 keeps its value. */
  uint32_t before = 0x5a5a5a5au, after;
  __asm__ volatile(
      ".set push\n\t.set noreorder\n\t"
      "move $8, %1\n\t"
      "lw $8, 1(%2)\n\t"
      "nop\n\t"
      "move %0, $8\n\t"
      ".set pop"
      : "=r"(after)
      : "r"(before), "r"(area)
      : "$8", "memory");
  put_str(after == before ? "kbench: unaligned load skipped by the kernel\n"
                          : "kbench: unaligned load NOT skipped\n");

  put_str("kbench: storing through a null pointer\n");
  *(volatile uint32_t *)0 = 1;
  put_str("kbench: STILL ALIVE after the null store\n");
  return 2;
}
