/*
 * Processes: creation from embedded user images, round-robin scheduling, exit, and the
 * final report. Two processes, pid 1 and 2, with ASID = pid.
 */
#include "kernel.h"

struct proc procs[NPROC];
struct proc *cur_proc;
/* Until the first process runs, a kernel-mode exception saves into boot_frame and panics. */
static struct trapframe boot_frame;
struct trapframe *cur_frame = &boot_frame;

void proc_create(int pid, const char *name, const u32 *image, u32 image_bytes, u32 arg) {
  struct proc *p = &procs[pid - 1];
  memset(p, 0, sizeof *p);
  p->pid = pid;
  p->name = name;
  p->asid = (u32)pid;
  p->state = PROC_RUNNABLE;
  vm_init_proc(p, image, image_bytes);
  p->tf.regs[4] = arg; /* a0: main()'s argument (crt0.S passes it on) */
}

static struct trapframe *switch_to(struct proc *p) {
  cur_proc = p;
  cur_frame = &p->tf;
  vm_activate(p);
  return &p->tf;
}

/*
 * Picks the next runnable process after the current one (round robin) and makes it
 * current. When none is left, prints the report and stops the machine.
 */
struct trapframe *schedule(void) {
  int start = cur_proc ? cur_proc->pid : 0;
  for (int i = 1; i <= NPROC; i++) {
    struct proc *p = &procs[(start + i - 1) % NPROC];
    if (p->state == PROC_RUNNABLE) return switch_to(p);
  }
  kernel_finish(0);
}

struct trapframe *proc_exit(struct proc *p, int status) {
  p->state = PROC_ZOMBIE;
  p->exit_status = status;
  return schedule();
}

static void kput_s32(int v) {
  if (v < 0) {
    kputs("-");
    kput_u32((u32)-v);
  } else {
    kput_u32((u32)v);
  }
}

/*
 * Prints every process's buffered output and counters in pid order, then the end marker,
 * then stops the machine (hal_exit: the exit port natively, SCHEDOP_shutdown under PV).
 */
void kernel_finish(int status) {
  for (int i = 0; i < NPROC; i++) {
    struct proc *p = &procs[i];
    if (p->state == PROC_FREE) continue;
    kputs("--- pid ");
    kput_u32((u32)p->pid);
    kputs(" (");
    kputs(p->name);
    kputs(") output ---\n");
    hal_console_write(proc_out[i], p->out_len);
    if (p->out_truncated) kputs("[kernel] (output truncated)\n");
    kputs("[kernel] pid ");
    kput_u32((u32)p->pid);
    kputs(" exit status ");
    kput_s32(p->exit_status);
    kputs(", syscalls ");
    kput_u32(p->syscalls);
    kputs(", page faults ");
    kput_u32(p->page_faults);
    kputs(", resumed faults ");
    kput_u32(p->resumed_faults);
    kputs("\n");
  }
  /* How many ticks depends on timing; that the timer preempted at all does not (compute
     alone runs for many quanta), and it shows the timer path works. */
  kputs(timer_ticks > 0 ? "[kernel] timer preemption: seen\n" : "[kernel] timer preemption: NOT SEEN\n");
  kputs("[kernel] all processes finished\n");
  kputs("*** PVKIT KERNEL DONE ***\n");
  hal_exit(status);
}
