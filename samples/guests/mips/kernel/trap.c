/*
 * Trap dispatch: timer interrupts (preemption), system calls, user page faults and user
 * faults. Called by trap_entry (vectors.S) with the current process's saved frame;
 * returns the frame to resume.
 */
#include "kernel.h"
#include "syscalls.h"

static const char *const exc_names[32] = {
    [EXC_INT] = "interrupt",         [EXC_MOD] = "TLB modified",
    [EXC_TLBL] = "TLB load",         [EXC_TLBS] = "TLB store",
    [EXC_ADEL] = "address error (load)", [EXC_ADES] = "address error (store)",
    [EXC_IBE] = "bus error (fetch)", [EXC_DBE] = "bus error (data)",
    [EXC_SYS] = "syscall",           [EXC_BP] = "breakpoint",
    [EXC_RI] = "reserved instruction", [EXC_CPU] = "coprocessor unusable",
    [EXC_OV] = "overflow",           [EXC_TR] = "trap",
};

static void panic(const char *why, const struct trapframe *tf) {
  kputs("[kernel] PANIC: ");
  kputs(why);
  kputs(" cause ");
  kput_hex(tf->cause);
  kputs(" epc ");
  kput_hex(tf->epc);
  kputs(" badvaddr ");
  kput_hex(tf->badvaddr);
  kputs("\n*** PVKIT KERNEL DONE ***\n");
  hal_exit(1);
}

static void report(struct proc *p, const char *what, u32 exc, const struct trapframe *tf) {
  out_puts(p, "[kernel] pid ");
  out_u32(p, (u32)p->pid);
  out_puts(p, ": ");
  out_puts(p, what);
  out_puts(p, ": ");
  out_puts(p, exc_names[exc] ? exc_names[exc] : "exception");
  if (exc >= EXC_MOD && exc <= EXC_ADES) { /* BadVAddr is meaningful only for these */
    out_puts(p, " at ");
    out_hex(p, tf->badvaddr);
  }
  out_puts(p, ", epc ");
  out_hex(p, tf->epc);
  out_puts(p, "\n");
}

static struct trapframe *do_syscall(struct proc *p, struct trapframe *tf) {
  u32 num = tf->regs[2];
  u32 a0 = tf->regs[4];
  u32 a1 = tf->regs[5];
  p->syscalls++;
  tf->epc += 4;
  switch (num) {
    case SYS_WRITE: {
      char chunk[64];
      u32 done = 0;
      while (done < a1) {
        u32 n = a1 - done < sizeof chunk ? a1 - done : sizeof chunk;
        if (copyin(p, chunk, a0 + done, n) != 0) {
          tf->regs[2] = (u32)-E_FAULT;
          return tf;
        }
        out_append(p, chunk, n);
        done += n;
      }
      tf->regs[2] = a1;
      return tf;
    }
    case SYS_YIELD:
      tf->regs[2] = 0;
      return schedule();
    case SYS_EXIT:
      return proc_exit(p, (int)a0);
    case SYS_GETPID:
      tf->regs[2] = (u32)p->pid;
      return tf;
    default:
      tf->regs[2] = (u32)-E_NOSYS;
      return tf;
  }
}

u32 timer_ticks;

/* The quantum in Count ticks; a variable so tests can patch it in the ELF and check that the
   output does not depend on it. */
u32 timer_interval = TIMER_INTERVAL;

/*
 * Sets Compare one quantum ahead; writing Compare also acknowledges the timer (MIPS32
 * Vol. III, Compare register). If Count has already passed the new Compare (the host ran
 * something else in between: seen under QEMU on a loaded machine), the interrupt would not
 * come until Count wraps, so re-arm until Compare is still ahead of Count.
 * hal_sync() is a no-op natively; under PV the page's Count is the snapshot of the last
 * hypervisor exit and a stored Compare takes effect at the next entry, so it (a null
 * hypercall) stands where the native code relies on live CP0 reads: before reading Count,
 * and to apply Compare before the check.
 */
void timer_arm(void) {
  u32 next;
  do {
    hal_sync();
    next = mfc0(C0_COUNT) + timer_interval;
    mtc0(C0_COMPARE, next);
    hal_sync();
  } while ((s32)(next - mfc0(C0_COUNT)) <= 0);
}

struct trapframe *trap_handler(struct trapframe *tf) {
  struct proc *p = cur_proc;
  u32 exc = (tf->cause & CAUSE_EXC_MASK) >> CAUSE_EXC_SHIFT;
  if ((tf->status & ST_KSU_MASK) != ST_KSU_USER) panic("exception in kernel mode", tf);

  switch (exc) {
    case EXC_INT:
      if (tf->cause & CAUSE_IP7) {
        timer_ticks++;
        timer_arm();
        return schedule();
      }
      return tf; /* spurious: nothing else is unmasked */
    case EXC_SYS:
      if (tf->cause & CAUSE_BD) break;
      return do_syscall(p, tf);
    case EXC_TLBL:
    case EXC_TLBS:
      if (vm_fault(p, tf->badvaddr, exc == EXC_TLBS) == 0) return tf;
      report(p, "segmentation fault, killed", exc, tf);
      return proc_exit(p, -11);
    case EXC_ADEL:
    case EXC_ADES:
      /* An unaligned data access outside a delay slot is skipped and the process resumed;
         a bad fetch or one in a delay slot is fatal. */
      if (tf->badvaddr != tf->epc && (tf->cause & CAUSE_BD) == 0 &&
          tf->badvaddr < USER_VA_LIMIT) {
        report(p, "unaligned access, instruction skipped", exc, tf);
        p->resumed_faults++;
        tf->epc += 4;
        return tf;
      }
      break;
    default:
      break;
  }
  report(p, "fatal exception, killed", exc, tf);
  return proc_exit(p, -1);
}
