/*
 * Processes: creation from a flat user image, per-process output buffers, round-robin
 * scheduling and the context switch (the HAL switches address space and kernel stack).
 */
#include "kernel.h"

struct proc procs[NPROC];
struct proc *current;
static u32 switches;

/* Builds a process from a flat user image: copies text and data into private frames (text
   read-only), leaves bss and stack to demand-zero faults, and prepares its first frame. */
void proc_create(struct proc *p, int pid, const char *name, const u8 *image, const u8 *image_end) {
  const struct user_header *h = (const struct user_header *)image;
  if (h->magic != USER_MAGIC) {
    kputs("kernel panic: bad user image\n");
    hal_exit(3);
  }
  p->pid = pid;
  p->name = name;
  p->pd = new_address_space();
  u32 file_end = USER_BASE + (u32)(image_end - image);
  for (u32 va = USER_BASE; va < h->data_end; va += PAGE) {
    u32 f = alloc_frame();
    u32 n = file_end - va < PAGE ? file_end - va : PAGE;
    kmemcpy(hal_kva(f), image + (va - USER_BASE), n);
    map_page(p->pd, va, f, PTE_P | PTE_U | (va >= h->text_end ? PTE_W : 0));
  }
  p->bss_start = (h->data_end + PAGE - 1) & ~(PAGE - 1);
  p->bss_end = h->bss_end;
  struct trapframe *tf = (struct trapframe *)(p->kstack + KSTACK) - 1;
  kmemset(tf, 0, sizeof *tf);
  tf->gs = tf->fs = tf->es = tf->ds = HAL_SEL_UDATA;
  tf->cs = HAL_SEL_UCODE;
  tf->user_ss = HAL_SEL_UDATA;
  tf->user_esp = USER_TOP;
  tf->eip = h->entry;
  tf->eflags = 0x202; /* IF, reserved bit 1 */
  p->tf = tf;
  p->state = RUNNABLE;
}

void append(struct proc *p, const char *s, u32 n) {
  while (n-- && p->outlen < OUTBUF) p->out[p->outlen++] = *s++;
}
void append_str(struct proc *p, const char *s) {
  while (*s) append(p, s++, 1);
}
void append_hex(struct proc *p, u32 v) {
  static const char d[] = "0123456789abcdef";
  append_str(p, "0x");
  for (int s = 28; s >= 0; s -= 4) append(p, &d[(v >> s) & 15], 1);
}

/* Round robin from the current process; returns null when nothing can run. */
static struct proc *pick_next(void) {
  int start = current ? (int)(current - procs) : NPROC - 1;
  for (int k = 1; k <= NPROC; k++) {
    struct proc *p = &procs[(start + k) % NPROC];
    if (p->state == RUNNABLE) return p;
  }
  return 0;
}

/* Makes `next` current: its kernel stack for the next ring-3 entry, its address space. */
struct trapframe *switch_to(struct proc *next) {
  if (next != current) switches++;
  current = next;
  hal_switch(next->pd, (u32)(next->kstack + KSTACK));
  return next->tf;
}

struct trapframe *schedule(struct trapframe *tf) {
  if (current) current->tf = tf;
  struct proc *next = pick_next();
  if (!next) finish();
  return switch_to(next);
}
