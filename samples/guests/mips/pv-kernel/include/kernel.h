/* The PV kernel's internal interfaces (the sample kernel's, with the HAL of pv.h). */
#ifndef KERNEL_H
#define KERNEL_H

#include "layout.h"
#include "mips-cp0.h"
#include "fmt.h"
#include "pv.h"

typedef unsigned int u32;
typedef int s32;
typedef unsigned char u8;

/*
 * CP0 access from C, paravirtualized (docs/mips-pv-abi.md): the virtual CP0 is the
 * privileged-register page, so MFC0 is a load and MTC0 a store (the monitor picks the stores
 * up at the next hypercall). Register numbers are constants, so the switch folds away.
 */
static inline volatile u32 *pv_cp0(int reg) {
  switch (reg) {
    case C0_INDEX: return pv_regs + PR_INDEX / 4;
    case C0_ENTRYLO0: return pv_regs + PR_ENTRYLO0 / 4;
    case C0_ENTRYLO1: return pv_regs + PR_ENTRYLO1 / 4;
    case C0_CONTEXT: return pv_regs + PR_CONTEXT / 4;
    case C0_PAGEMASK: return pv_regs + PR_PAGEMASK / 4;
    case C0_WIRED: return pv_regs + PR_WIRED / 4;
    case C0_BADVADDR: return pv_regs + PR_BADVADDR / 4;
    case C0_COUNT: return pv_regs + PR_COUNT / 4;
    case C0_ENTRYHI: return pv_regs + PR_ENTRYHI / 4;
    case C0_COMPARE: return pv_regs + PR_COMPARE / 4;
    case C0_STATUS: return pv_regs + PR_STATUS / 4;
    case C0_CAUSE: return pv_regs + PR_CAUSE / 4;
    case C0_EPC: return pv_regs + PR_EPC / 4;
    case C0_PRID: return pv_regs + PR_PRID / 4;
    default: return pv_regs + PR_CONFIG / 4; /* Config1 */
  }
}
#define mfc0(reg) (*pv_cp0(reg))
#define mtc0(reg, val) (*pv_cp0(reg) = (u32)(val))

/* Saved user context; offsets are the TF_* constants of layout.h. */
struct trapframe {
  u32 regs[32]; /* regs[0] unused; k0/k1 not saved */
  u32 hi, lo, epc, status, cause, badvaddr;
};

enum proc_state { PROC_FREE = 0, PROC_RUNNABLE, PROC_ZOMBIE };

#define OUTBUF_SIZE 2048
#define NPROC 2

struct proc {
  struct trapframe tf; /* first: the trap path treats &proc as the frame */
  int pid;
  enum proc_state state;
  int exit_status;
  const char *name;
  u32 asid;
  u32 pt_kva; /* page table, KVA, 8 MiB aligned (Context.PTEBase) */
  /* deterministic counters, printed at the end */
  u32 syscalls, page_faults, resumed_faults;
  u32 out_len;
  int out_truncated;
};

/* Output lives outside the wired region in the ksseg build (see the linker scripts). */
extern char proc_out[NPROC][OUTBUF_SIZE];

extern struct trapframe *cur_frame; /* read by the trap entry code */
extern struct proc procs[NPROC];
extern struct proc *cur_proc;

/* vectors.S */
void trap_return(struct trapframe *tf) __attribute__((noreturn));

/* console.c */
void kputs(const char *s);
void kput_u32(u32 v);
void kput_hex(u32 v);
void out_append(struct proc *p, const char *s, u32 n);
void out_puts(struct proc *p, const char *s);
void out_u32(struct proc *p, u32 v);
void out_hex(struct proc *p, u32 v);

/* vm.c */
void tlb_init(void);
u32 tlb_entries(void);
void vm_init_proc(struct proc *p, const u32 *image, u32 image_bytes);
int vm_fault(struct proc *p, u32 va, int write); /* 0 = resolved, -1 = bad address */
int copyin(struct proc *p, char *dst, u32 uva, u32 n);
void vm_activate(struct proc *p);

/* proc.c */
void proc_create(int pid, const char *name, const u32 *image, u32 image_bytes, u32 arg);
struct trapframe *schedule(void);
struct trapframe *proc_exit(struct proc *p, int status);
void kernel_finish(int status) __attribute__((noreturn));

/* trap.c */
extern u32 timer_ticks; /* timing-dependent: only "seen or not" is ever printed */
struct trapframe *trap_handler(struct trapframe *tf);
void timer_arm(void);


#endif
