/*
 * Traps: the timer, system calls (int 0x80), demand-zero page faults, CLI/STI/HLT from ring 3
 * (#GP, reported and skipped), other user faults (the process is killed), kernel faults (panic).
 * Vectors: Intel SDM vol. 3A table 6-1; #PF error code 4.7.
 */
#include "kernel.h"

static u32 ticks; /* timing-dependent: never printed */

static void kill(struct proc *p, const char *why, u32 addr, u32 err, u32 eip) {
  append_str(p, "kernel: pid ");
  append(p, &"0123456789"[p->pid], 1);
  append_str(p, " killed: ");
  append_str(p, why);
  append_str(p, " at ");
  append_hex(p, addr);
  append_str(p, " error ");
  append_hex(p, err);
  append_str(p, " eip ");
  append_hex(p, eip);
  append_str(p, "\n");
  p->state = DEAD;
  p->exit_code = -1;
}

/* A user address range the kernel may read on the process's behalf. */
static int user_range_ok(u32 addr, u32 len) {
  return addr >= USER_BASE && len <= OUTBUF && addr + len >= addr && addr + len <= USER_TOP;
}

static struct trapframe *syscall(struct trapframe *tf) {
  struct proc *p = current;
  p->syscalls++;
  switch (tf->eax) {
    case SYS_EXIT:
      p->exit_code = (int)tf->ebx;
      p->state = DEAD;
      return schedule(tf);
    case SYS_WRITE:
      if (!user_range_ok(tf->ebx, tf->ecx)) {
        tf->eax = (u32)-14; /* -EFAULT */
        return tf;
      }
      append(p, (const char *)tf->ebx, tf->ecx); /* may fault: demand-zero pages */
      tf->eax = tf->ecx;
      return tf;
    case SYS_GETPID:
      tf->eax = (u32)p->pid;
      return tf;
    case SYS_YIELD:
      tf->eax = 0;
      return schedule(tf);
    default:
      tf->eax = (u32)-38; /* -ENOSYS */
      return tf;
  }
}

/* Demand-zero: maps a fresh page for a not-present fault in bss or the stack; 0 if not ours. */
static int demand_zero(u32 addr, u32 err) {
  struct proc *p = current;
  if (!p || (err & PF_P)) return 0;
  int in_bss = addr >= p->bss_start && addr < p->bss_end;
  int in_stack = addr < USER_TOP && addr >= USER_TOP - USER_STACK_PAGES * PAGE;
  if (!in_bss && !in_stack) return 0;
  u32 va = addr & ~(PAGE - 1);
  map_page(p->pd, va, alloc_frame(), PTE_P | PTE_W | PTE_U);
  hal_invlpg(va);
  p->page_faults++;
  return 1;
}

static void panic_frame(const char *why, struct trapframe *tf) __attribute__((noreturn));
static void panic_frame(const char *why, struct trapframe *tf) {
  kputs("kernel panic: ");
  kputs(why);
  kputs(" vector ");
  kputdec(tf->vector);
  kputs(" error ");
  kputhex(tf->err);
  kputs(" eip ");
  kputhex(tf->eip);
  kputs(" cr2 ");
  kputhex(hal_fault_addr());
  kputs("\n");
  hal_exit(3);
}

struct trapframe *trap(struct trapframe *tf) {
  int from_user = (tf->cs & 3) == 3;
  switch (tf->vector) {
    case IRQ_BASE + 0: /* the timer (PV: the event upcall) */
      if (!hal_timer_ack()) return tf;
      ticks++;
      if (!from_user) return tf; /* only user code is preempted */
      current->preemptions++;
      return schedule(tf);
#ifdef HAL_SPURIOUS_VECTOR
    case HAL_SPURIOUS_VECTOR:
      return tf;
#endif
    case SYSCALL_VECTOR:
      return syscall(tf);
    case 14: {
      u32 addr = hal_fault_addr();
      if (demand_zero(addr, tf->err)) return tf;
      if (!from_user) panic_frame("page fault in the kernel", tf);
      kill(current, "page fault", addr, tf->err, tf->eip);
      return schedule(tf);
    }
    case 13:
      if (!from_user) panic_frame("general protection fault in the kernel", tf);
      /* A privileged instruction in ring 3: report and skip it if it is CLI/STI/HLT (one
         byte), else kill the process. */
      {
        u8 op = *(const u8 *)tf->eip;
        if (op == 0xFA || op == 0xFB || op == 0xF4) {
          append_str(current, "kernel: pid ");
          append(current, &"0123456789"[current->pid], 1);
          append_str(current, " #GP at ");
          append_str(current, op == 0xFA ? "cli" : op == 0xFB ? "sti" : "hlt");
          append_str(current, " error ");
          append_hex(current, tf->err);
          append_str(current, ", skipped\n");
          tf->eip += 1;
          return tf;
        }
        kill(current, "general protection fault", 0, tf->err, tf->eip);
        return schedule(tf);
      }
    default:
      if (from_user && tf->vector < 32) {
        kill(current, "exception", tf->vector, tf->err, tf->eip);
        return schedule(tf);
      }
      panic_frame("unexpected interrupt", tf);
  }
}
