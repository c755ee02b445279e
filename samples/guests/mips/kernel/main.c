/* Kernel main: console, TLB, the processes, the timer, then the first process. */
#include "kernel.h"
#include "syscalls.h"

extern const u32 user_compute_start[], user_compute_end[];
extern const u32 user_bench_start[], user_bench_end[];

#define PROG_NONE 0
#define PROG_COMPUTE 1 /* user/compute-main.c + common/compute.c */
#define PROG_KBENCH 2  /* user/kbench.c; arg = KB_* bits */

/*
 * What each pid runs and the argument its main() receives in a0. The default is what the
 * sample is: compute as pid 1, kbench with every microbenchmark as pid 2. Benchmarks patch
 * this array in the ELF (symbol proc_config, {program, arg} words per pid) to run one
 * workload alone, or two kbench processes that yield to each other.
 */
struct proc_config {
  u32 program, arg;
};
struct proc_config proc_config[NPROC] = {{PROG_COMPUTE, 0}, {PROG_KBENCH, KB_ALL}};

void kmain(u32 boot_arg) __attribute__((noreturn));

/* boot_arg: a0 at entry, handed to the HAL (the PV kernel's start_info, docs/mips-pv-abi.md
   "Boot state"; unused natively). */
void kmain(u32 boot_arg) {
  hal_init(boot_arg);
  console_init();
  u32 nproc = 0;
  for (int i = 0; i < NPROC; i++)
    if (proc_config[i].program == PROG_COMPUTE || proc_config[i].program == PROG_KBENCH) nproc++;
  kputs("[kernel] pvkit MIPS sample kernel: ");
  kput_u32(tlb_entries());
  kputs(" TLB entries, ");
  kput_u32(nproc);
  kputs(nproc == 1 ? " process\n" : " processes\n");
  tlb_init();
  for (int i = 0; i < NPROC; i++) {
    if (proc_config[i].program == PROG_COMPUTE) {
      proc_create(i + 1, "compute", user_compute_start,
                  (u32)((const char *)user_compute_end - (const char *)user_compute_start),
                  proc_config[i].arg);
    } else if (proc_config[i].program == PROG_KBENCH) {
      proc_create(i + 1, "kbench", user_bench_start,
                  (u32)((const char *)user_bench_end - (const char *)user_bench_start),
                  proc_config[i].arg);
    }
  }
  timer_arm();
  trap_return(schedule());
}
