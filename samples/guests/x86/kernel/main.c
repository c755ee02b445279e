/*
 * The x86 kernel sample: a small protected-mode kernel for the pvkit PC board and QEMU -M pc
 * (README.md), and, built against ../pv-kernel/include/hal.h, the x86 PV kernel.
 *
 * Two ring-3 processes, each a flat user image with demand-zero bss and stack, switched on the
 * timer and on yield. Process 1 runs the compute workload, process 2 kernel-intensive
 * microbenchmarks. User output goes through SYS_WRITE into a per-process buffer the kernel
 * prints at the end, in pid order, so the output does not depend on timing.
 */
#include "kernel.h"

extern const u8 user_compute_start[], user_compute_end[]; /* user-images.S */
extern const u8 user_bench_start[], user_bench_end[];

void finish(void) {
  hal_irq_disable();
  for (int i = 0; i < NPROC; i++) {
    struct proc *p = &procs[i];
    kputs("--- pid ");
    kputdec((u32)p->pid);
    kputs(" (");
    kputs(p->name);
    kputs(") output ---\n");
    hal_console_write(p->out, p->outlen);
    kputs("--- pid ");
    kputdec((u32)p->pid);
    kputs(" exit ");
    if (p->exit_code < 0) {
      kputs("-");
      kputdec((u32)-p->exit_code);
    } else {
      kputdec((u32)p->exit_code);
    }
    kputs(", syscalls ");
    kputdec(p->syscalls);
    kputs(", page faults ");
    kputdec(p->page_faults);
    kputs("\n");
  }
  /* Timing-dependent counts are not printed, only whether the timer did its job. */
  kputs("kernel: timer preempted the compute process: ");
  kputs(procs[0].preemptions > 0 ? "yes" : "no");
  kputs("\nkernel: page frames used ");
  kputdec(frames_used);
  kputs("\nDONE\n");
  int ok = procs[0].exit_code == 0 && procs[0].preemptions > 0;
  hal_exit(ok ? 0 : 1);
}

/* boot0/boot1: what entry.S got from the loader (multiboot: magic, info; PV: start_info). */
void kmain(u32 boot0, u32 boot1) {
  hal_init(boot0, boot1);
  kputs(HAL_BANNER);
  hal_put_boot_id(boot0);
  kputs("\n");
  hal_trap_init();
  kputs(HAL_TRAPS_DONE);
  hal_timer_init();
  kputs(HAL_TIMER_DONE);
  kernel_map_init();
  proc_create(&procs[0], 1, "compute", user_compute_start, user_compute_end);
  proc_create(&procs[1], 2, "kbench", user_bench_start, user_bench_end);
  hal_paging_on(procs[0].pd);
  kputs(HAL_PAGING_DONE);
  current = 0;
  struct trapframe *tf = switch_to(&procs[0]);
  resume(tf);
}
