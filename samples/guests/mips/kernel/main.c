/* Kernel main: console, TLB, the two processes, the timer, then the first process. */
#include "kernel.h"

extern const u32 user_compute_start[], user_compute_end[];
extern const u32 user_bench_start[], user_bench_end[];

void kmain(void) __attribute__((noreturn));

void kmain(void) {
  uart_init();
  kputs("[kernel] pvkit MIPS sample kernel: ");
  kput_u32(tlb_entries());
  kputs(" TLB entries, 2 processes\n");
  tlb_init();
  proc_create(1, "compute", user_compute_start,
              (u32)((const char *)user_compute_end - (const char *)user_compute_start));
  proc_create(2, "kbench", user_bench_start,
              (u32)((const char *)user_bench_end - (const char *)user_bench_start));
  timer_arm();
  trap_return(schedule());
}
