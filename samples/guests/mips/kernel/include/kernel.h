/* The sample kernel's internal interfaces. */
#ifndef KERNEL_H
#define KERNEL_H

#include "layout.h"
#include "mips-cp0.h"
#include "../lib/fmt.h"

typedef unsigned int u32;
typedef int s32;
typedef unsigned char u8;

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
void console_init(void);
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

/* The hardware layer: include/hal.h natively, the PV kernel's include/hal.h (found first on its
   include path, hence <>) in pv-kernel.elf. */
#include <hal.h>

#endif
