/*
 * The x86 PV kernel: ../kernel/kernel.c with its hardware layer swapped for Xen's x86_32 PV
 * interface (README.md "What changed"; docs/x86-pv-abi.md). Everything marked "PV:" differs
 * from the native kernel; the processes, scheduler, system calls and output are the same.
 *
 * Native description, for the parts that did not change:
 * The x86 kernel sample: a small protected-mode kernel for the pvkit PC board and QEMU -M pc.
 *
 * GDT with ring-0 and ring-3 segments and a TSS; an IDT of interrupt gates (int 0x80 callable
 * from ring 3); the 8259A pair remapped to vectors 0x20-0x2F; the 8254 at 100 Hz on IRQ0;
 * paging with one page directory per process (kernel identity map shared, supervisor only);
 * two ring-3 processes, each a flat user image with demand-zero bss and stack, switched on
 * the timer and on yield. Process 1 runs the compute workload, process 2 kernel-intensive
 * microbenchmarks. User output goes through SYS_WRITE into a per-process buffer the kernel
 * prints at the end, in pid order, so the output does not depend on timing.
 *
 * Sources for layouts: Intel SDM vol. 3A (segment descriptors 3.4.5, TSS 7.2.1, gates 6.11,
 * paging 4.3, #PF error code 4.7), Intel 8259A and 8254 datasheets.
 */
#include <stddef.h>
#include <stdint.h>

#include <pvkit_hypercall.h>

#include "../kernel/layout.h"

typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

/* ---- console ---- */
/* PV: console_io writes instead of the polled 16550; kputs is one hypercall per string. */

static void kputs(const char *s) {
  int n = 0;
  while (s[n]) n++;
  if (n) pvkit_console_write(s, n);
}
static void kputhex(u32 v) {
  static const char d[] = "0123456789abcdef";
  char b[11] = "0x";
  for (int s = 28, i = 2; s >= 0; s -= 4) b[i++] = d[(v >> s) & 15];
  b[10] = 0;
  kputs(b);
}
static void kputdec(u32 v) {
  char b[11];
  int n = 10;
  b[n] = 0;
  do {
    b[--n] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  kputs(b + n);
}

/* PV: SCHEDOP_shutdown instead of the exit port: poweroff for 0, crash otherwise (pvkit run
   reports exit status 0 and 1 for them). */
static void kexit(int code) __attribute__((noreturn));
static void kexit(int code) {
  pvkit_shutdown(code == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash);
  for (;;) {
  }
}

void *memset(void *dst, int c, size_t n) {
  u8 *d = dst;
  while (n--) *d++ = (u8)c;
  return dst;
}
void *memcpy(void *dst, const void *src, size_t n) {
  u8 *d = dst;
  const u8 *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

/* ---- PV: the hypervisor's pages, events and the CPU interface ---- */

#define PAGE 4096u
#define KVA PVKIT_X86_PV_VIRT_BASE /* pseudo-physical 0 (docs/x86-pv-abi.md) */
#define PV_SEL_UCODE FLAT_RING3_CS
#define PV_SEL_UDATA FLAT_RING3_DS
#define PV_SEL_KDATA FLAT_RING1_DS

static struct start_info *si;
static volatile struct shared_info *shared; /* pfn 1, mapped at KVA + 4 KiB */
static const u32 *mfn_list;                 /* the P2M (start_info.mfn_list) */
static evtchn_port_t timer_port;

static inline u32 mfn_of(u32 pa) { return mfn_list[pa / PAGE]; }
static inline void *kva(u32 pa) { return (void *)(KVA + pa); }

/* PV: CR2 is in shared_info (Xen: vcpu_info.arch.cr2, written before the #PF bounce). */
static inline u32 read_cr2(void) { return shared->vcpu_info[0].arch.cr2; }

static void pv_check(long rc, const char *what) {
  if (rc) {
    kputs("kernel panic: ");
    kputs(what);
    kputs(" failed\n");
    kexit(3);
  }
}

static void mmu_set(u32 table_pa, u32 index, u32 val) {
  struct mmu_update u;
  u.ptr = ((uint64_t)mfn_of(table_pa) << 12) | (index * 4) | MMU_normal_pt_update;
  u.val = val;
  pv_check(HYPERVISOR_mmu_update(&u, 1, 0, DOMID_SELF), "mmu_update");
}

static long mmuext(u32 cmd, u32 arg1) {
  struct mmuext_op op;
  op.cmd = cmd;
  op.arg1 = arg1;
  op.arg2 = 0;
  return HYPERVISOR_mmuext_op(&op, 1, 0, DOMID_SELF);
}

/* System time as Xen guests compute it from vcpu_time_info and the TSC (xen.h). */
static uint64_t now_ns(void) {
  volatile struct vcpu_time_info *t = &shared->vcpu_info[0].time;
  u32 version;
  uint64_t ns;
  do {
    version = t->version;
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    uint64_t delta = ((uint64_t)hi << 32 | lo) - t->tsc_timestamp;
    ns = t->system_time + (((delta & 0xffffffffu) * t->tsc_to_system_mul) >> 32);
  } while ((version & 1) || version != t->version);
  return ns;
}

/* PV: the 8254's 100 Hz becomes a one-shot set_timer_op re-armed at each tick. The period is the
   native tick's length in simulated cycles (1.19 MHz / 11932 at 100 MHz = 1 M cycles; 1 ns per
   cycle on pvkit), so the processes see the same preemption rate. */
#define TICK_NS 1000000u
/* The upcall enters trap() as the native timer vector (entry.S upcall_entry). */
#define IRQ_BASE 0x20

static void timer_arm(void) { HYPERVISOR_set_timer_op(now_ns() + TICK_NS); }

/* Acknowledges every pending event (the PIC's EOI); returns true if the timer's port was one. */
static int events_ack(void) {
  volatile struct vcpu_info *v = &shared->vcpu_info[0];
  int timer = 0;
  v->evtchn_upcall_pending = 0;
  u32 sel = __atomic_exchange_n(&((struct vcpu_info *)v)->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
  while (sel) {
    int w = __builtin_ctz(sel);
    sel &= sel - 1;
    u32 bits = __atomic_exchange_n(&((struct shared_info *)shared)->evtchn_pending[w], 0, __ATOMIC_SEQ_CST);
    if (w == (int)(timer_port / 32) && (bits >> (timer_port % 32)) & 1) timer = 1;
  }
  return timer;
}

/* PV: trap_info entries instead of IDT gates; TI_CLEAR_IF is the interrupt gate's IF clear. */
extern const u32 vector_table[];
extern void upcall_entry(void), failsafe_entry(void);
static struct trap_info traps[32 + 2];

static void traps_init(void) {
  for (int v = 0; v < 32; v++) {
    traps[v].vector = (u8)v;
    traps[v].flags = TI_CLEAR_IF;
    traps[v].cs = FLAT_RING1_CS;
    traps[v].address = vector_table[v];
  }
  traps[32].vector = SYSCALL_VECTOR;
  traps[32].flags = TI_CLEAR_IF | 3; /* callable from ring 3 */
  traps[32].cs = FLAT_RING1_CS;
  traps[32].address = vector_table[32];
  pv_check(HYPERVISOR_set_trap_table(traps), "set_trap_table");
}

/* PV: the event channel for VIRQ_TIMER and the upcall entry instead of the 8259A and 8254. */
static void events_init(void) {
  pv_check(HYPERVISOR_set_callbacks(FLAT_RING1_CS, (unsigned long)upcall_entry, FLAT_RING1_CS,
                                    (unsigned long)failsafe_entry),
           "set_callbacks");
  struct evtchn_bind_virq bv = {VIRQ_timer, 0, 0};
  pv_check(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv), "bind_virq");
  timer_port = bv.port;
  timer_arm();
}

/* ---- page frames and page tables (SDM 4.3) ---- */

#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PF_P 1u /* #PF error code: protection violation (else not present) */
#define PF_W 2u
#define PF_U 4u

/* PV: the frame pool starts after the domain builder's structures (start_info.pt_base +
   nr_pt_frames + the boot stack page) instead of at 4 MiB; frames are pseudo-physical. The
   first allocations lie in the builder's initial 4 MiB mapping, the only memory mapped before
   the kernel's own map exists. */
static u32 next_frame;
static u32 frames_used;

static u32 alloc_frame(void) {
  if (next_frame >= FRAME_END) {
    kputs("kernel panic: out of page frames\n");
    kexit(3);
  }
  u32 f = next_frame;
  next_frame += PAGE;
  frames_used++;
  memset(kva(f), 0, PAGE); /* frames lie in the kernel map */
  return f;
}

/* PV: the kernel map is all of pseudo-physical 0..16 MiB at KVA (not an identity map at 0),
   shared by every address space through these four L1 tables. */
#define KMAP_TABLES (KERNEL_MAP_END / (PAGE * 1024))
#define KSLOT (KVA >> 22)
static u32 kernel_pt[KMAP_TABLES];
static u32 boot_pt_first, boot_pt_end; /* the builder's page-table frames (pa) */
static int on_boot_tables = 1;

/* PV: a page table must not be writable anywhere: its kernel-map entry becomes read-only
   (mmu_update on the shared L1), and so does its entry in the builder's map while that is live. */
static void make_readonly(u32 pa) {
  mmu_set(kernel_pt[pa >> 22], (pa >> 12) & 1023, mfn_of(pa) << 12 | PTE_P);
  if (on_boot_tables && pa < 0x400000u)
    pv_check(HYPERVISOR_update_va_mapping((unsigned long)kva(pa), mfn_of(pa) << 12 | PTE_P, UVMF_INVLPG),
             "update_va_mapping");
}

static void kernel_map_init(void) {
  for (u32 t = 0; t < KMAP_TABLES; t++) kernel_pt[t] = alloc_frame();
  for (u32 t = 0; t < KMAP_TABLES; t++) {
    u32 *pt = kva(kernel_pt[t]);
    for (u32 i = 0; i < 1024; i++) {
      u32 pa = (t * 1024 + i) * PAGE;
      int table = (pa >= boot_pt_first && pa < boot_pt_end) || pa == kernel_pt[0] || pa == kernel_pt[1] ||
                  pa == kernel_pt[2] || pa == kernel_pt[3];
      pt[i] = mfn_of(pa) << 12 | PTE_P | (table ? 0 : PTE_W);
    }
  }
  for (u32 t = 0; t < KMAP_TABLES; t++) {
    pv_check(HYPERVISOR_update_va_mapping((unsigned long)kva(kernel_pt[t]), mfn_of(kernel_pt[t]) << 12 | PTE_P,
                                          UVMF_INVLPG),
             "update_va_mapping");
    pv_check(mmuext(MMUEXT_pin_l1_table, mfn_of(kernel_pt[t])), "pin kernel L1");
  }
}

static u32 new_address_space(void) {
  u32 pd = alloc_frame();
  u32 *e = kva(pd);
  for (u32 t = 0; t < KMAP_TABLES; t++) e[KSLOT + t] = mfn_of(kernel_pt[t]) << 12 | PTE_P | PTE_W;
  make_readonly(pd);
  pv_check(mmuext(MMUEXT_pin_l2_table, mfn_of(pd)), "pin L2");
  return pd;
}

/* Maps `va` to frame `pa` in page directory `pd` (creating the page table), user-accessible.
   PV: the tables are read-only, so entries go through mmu_update; each page table keeps its
   pseudo-physical address in pt_pa (the guest has no M2P to turn a PDE's mfn back into one). */
static u32 pt_pa[2][1024];
static int pd_index(u32 pd);

static void map_page(u32 pd_phys, u32 va, u32 pa, u32 flags) {
  u32 *pde = (u32 *)kva(pd_phys) + (va >> 22);
  u32 *ptp = &pt_pa[pd_index(pd_phys)][va >> 22];
  if (!(*pde & PTE_P)) {
    u32 pt = alloc_frame();
    make_readonly(pt);
    pv_check(mmuext(MMUEXT_pin_l1_table, mfn_of(pt)), "pin L1");
    *ptp = pt;
    mmu_set(pd_phys, va >> 22, mfn_of(pt) << 12 | PTE_P | PTE_W | PTE_U);
  }
  mmu_set(*ptp, (va >> 12) & 0x3FF, mfn_of(pa) << 12 | flags);
}

/* ---- processes ---- */

struct trapframe {
  u32 gs, fs, es, ds;
  u32 edi, esi, ebp, esp_pushed, ebx, edx, ecx, eax;
  u32 vector, err;
  u32 eip, cs, eflags;
  u32 user_esp, user_ss; /* only on entry from ring 3 */
};

struct user_header {
  u32 magic, entry, text_end, data_end, bss_end;
};

#define NPROC 2
#define KSTACK 8192
#define OUTBUF 4096
enum { UNUSED, RUNNABLE, DEAD };

struct proc {
  int pid;
  int state;
  const char *name;
  u32 pd;
  u32 bss_start, bss_end; /* demand-zero range of the image */
  struct trapframe *tf;
  int exit_code;
  u32 syscalls, page_faults, preemptions;
  u32 outlen;
  char out[OUTBUF];
  u8 kstack[KSTACK] __attribute__((aligned(16)));
};

static struct proc procs[NPROC];
static struct proc *current;
static u32 ticks, switches;

static int pd_index(u32 pd) { return pd == procs[1].pd ? 1 : 0; }

extern const u8 user_compute_start[], user_compute_end[];
extern const u8 user_bench_start[], user_bench_end[];

/* Builds a process from a flat user image: copies text and data into private frames (text
   read-only), leaves bss and stack to demand-zero faults, and prepares its first frame. */
static void proc_create(struct proc *p, int pid, const char *name, const u8 *image, const u8 *image_end) {
  const struct user_header *h = (const struct user_header *)image;
  if (h->magic != USER_MAGIC) {
    kputs("kernel panic: bad user image\n");
    kexit(3);
  }
  p->pid = pid;
  p->name = name;
  p->pd = new_address_space();
  u32 file_end = USER_BASE + (u32)(image_end - image);
  for (u32 va = USER_BASE; va < h->data_end; va += PAGE) {
    u32 f = alloc_frame();
    u32 n = file_end - va < PAGE ? file_end - va : PAGE;
    memcpy(kva(f), image + (va - USER_BASE), n);
    map_page(p->pd, va, f, PTE_P | PTE_U | (va >= h->text_end ? PTE_W : 0));
  }
  p->bss_start = (h->data_end + PAGE - 1) & ~(PAGE - 1);
  p->bss_end = h->bss_end;
  struct trapframe *tf = (struct trapframe *)(p->kstack + KSTACK) - 1;
  memset(tf, 0, sizeof *tf);
  tf->gs = tf->fs = tf->es = tf->ds = PV_SEL_UDATA;
  tf->cs = PV_SEL_UCODE;
  tf->user_ss = PV_SEL_UDATA;
  tf->user_esp = USER_TOP;
  tf->eip = h->entry;
  tf->eflags = 0x202; /* IF, reserved bit 1 */
  p->tf = tf;
  p->state = RUNNABLE;
}

static void append(struct proc *p, const char *s, u32 n) {
  while (n-- && p->outlen < OUTBUF) p->out[p->outlen++] = *s++;
}
static void append_str(struct proc *p, const char *s) {
  while (*s) append(p, s++, 1);
}
static void append_hex(struct proc *p, u32 v) {
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

static void finish(void) __attribute__((noreturn));

/* Makes `next` current: its kernel stack for the next ring-3 entry, its address space. */
static struct trapframe *switch_to(struct proc *next) {
  if (next != current) switches++;
  current = next;
  /* PV: stack_switch instead of tss.esp0 and MMUEXT_NEW_BASEPTR instead of MOV CR3, in one
     multicall. */
  struct mmuext_op op = {MMUEXT_new_baseptr, mfn_of(next->pd), 0};
  struct multicall_entry mc[2] = {
      {__HYPERVISOR_mmuext_op, 0, {(u32)&op, 1, 0, DOMID_SELF, 0, 0}},
      {__HYPERVISOR_stack_switch, 0, {FLAT_RING1_SS, (u32)(next->kstack + KSTACK), 0, 0, 0, 0}},
  };
  HYPERVISOR_multicall(mc, 2);
  if (mc[0].result || mc[1].result) {
    kputs("kernel panic: switch_to failed\n");
    kexit(3);
  }
  if (on_boot_tables) {
    /* The builder's tables are no longer needed: unpinning them drops their mappings. */
    on_boot_tables = 0;
    pv_check(mmuext(MMUEXT_unpin_table, mfn_of(boot_pt_first)), "unpin");
  }
  return next->tf;
}

static struct trapframe *schedule(struct trapframe *tf) {
  if (current) current->tf = tf;
  struct proc *next = pick_next();
  if (!next) finish();
  return switch_to(next);
}

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
  pv_check(mmuext(MMUEXT_invlpg_local, va), "invlpg"); /* PV: INVLPG #GPs in ring 1 */
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
  kputhex(read_cr2());
  kputs("\n");
  kexit(3);
}

struct trapframe *trap(struct trapframe *tf);
struct trapframe *trap(struct trapframe *tf) {
  int from_user = (tf->cs & 3) == 3;
  switch (tf->vector) {
    case IRQ_BASE + 0: /* PV: the event upcall (native: the PIT's IRQ 0) */
      if (!events_ack()) return tf;
      timer_arm();
      ticks++;
      if (!from_user) return tf; /* only user code is preempted */
      current->preemptions++;
      return schedule(tf);
    case SYSCALL_VECTOR:
      return syscall(tf);
    case 14: {
      u32 addr = read_cr2();
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

static void finish(void) {
  shared->vcpu_info[0].evtchn_upcall_mask = 1; /* PV: the virtual CLI */
  for (int i = 0; i < NPROC; i++) {
    struct proc *p = &procs[i];
    kputs("--- pid ");
    kputdec((u32)p->pid);
    kputs(" (");
    kputs(p->name);
    kputs(") output ---\n");
    if (p->outlen) pvkit_console_write(p->out, (int)p->outlen); /* PV: one console_io per buffer */
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
  kexit(ok ? 0 : 1);
}

void resume(struct trapframe *tf) __attribute__((noreturn));
void kmain(struct start_info *start);

void kmain(struct start_info *start) {
  si = start;
  shared = kva(PAGE);
  mfn_list = (const u32 *)si->mfn_list;
  boot_pt_first = si->pt_base - KVA;
  boot_pt_end = boot_pt_first + si->nr_pt_frames * PAGE;
  next_frame = boot_pt_end + PAGE; /* after the boot stack page */
  kputs("kernel: x86 PV kernel sample, start_info magic ");
  kputs((const char *)si->magic);
  kputs("\n");
  traps_init();
  kputs("kernel: trap table set\n");
  events_init();
  kputs("kernel: VIRQ_TIMER bound, one-shot timer every 1 M cycles\n");
  kernel_map_init();
  proc_create(&procs[0], 1, "compute", user_compute_start, user_compute_end);
  proc_create(&procs[1], 2, "kbench", user_bench_start, user_bench_end);
  kputs("kernel: own page tables pinned, starting 2 ring-3 processes\n");
  current = 0;
  struct trapframe *tf = switch_to(&procs[0]);
  resume(tf);
}
