/*
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

#include "io.h"
#include "layout.h"

typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

/* ---- console (COM1, polled) ---- */

#define COM1 0x3F8
#define EXIT_PORT 0x501

static void kputc(char c) {
  while (!(inb(COM1 + 5) & 0x20)) {
  }
  outb(COM1, (u8)c);
}
static void kputs(const char *s) {
  while (*s) kputc(*s++);
}
static void kputhex(u32 v) {
  static const char d[] = "0123456789abcdef";
  kputs("0x");
  for (int s = 28; s >= 0; s -= 4) kputc(d[(v >> s) & 15]);
}
static void kputdec(u32 v) {
  char b[10];
  int n = 0;
  do {
    b[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) kputc(b[--n]);
}

static void kexit(int code) __attribute__((noreturn));
static void kexit(int code) {
  outb(EXIT_PORT, (u8)code);
  for (;;) __asm__ volatile("cli; hlt");
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

/* ---- control registers ---- */

static inline u32 read_cr2(void) {
  u32 v;
  __asm__ volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}
static inline void write_cr3(u32 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline u32 read_cr0(void) {
  u32 v;
  __asm__ volatile("mov %%cr0, %0" : "=r"(v));
  return v;
}
static inline void write_cr0(u32 v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void invlpg(u32 va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }

/* ---- segmentation: GDT and TSS (SDM 3.4.5, 7.2.1) ---- */

struct tss {
  u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
  u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
  u32 es, cs, ss, ds, fs, gs, ldt;
  u16 trap, iomap_base;
} __attribute__((packed));

static struct tss tss;
static u32 gdt[6 * 2];
static struct {
  u16 limit;
  u32 base;
} __attribute__((packed)) gdtr, idtr;

/* Descriptor: base, 20-bit limit, access byte (P DPL S type), flags nibble (G D/B). */
static void set_desc(int i, u32 base, u32 limit, u8 access, u8 flags) {
  gdt[2 * i] = (limit & 0xFFFF) | (base << 16);
  gdt[2 * i + 1] = ((base >> 16) & 0xFF) | ((u32)access << 8) | (limit & 0xF0000) | ((u32)flags << 20) |
                   (base & 0xFF000000);
}

void load_gdt(const void *gdtr_ptr);

static void gdt_init(void) {
  /* Accessed bits preset (type | 1), so the CPU never writes the GDT when loading a segment. */
  set_desc(0, 0, 0, 0, 0);
  set_desc(1, 0, 0xFFFFF, 0x9B, 0xC); /* kernel code: P, DPL 0, execute/read; 4 KiB, 32-bit */
  set_desc(2, 0, 0xFFFFF, 0x93, 0xC); /* kernel data: read/write */
  set_desc(3, 0, 0xFFFFF, 0xFB, 0xC); /* user code: DPL 3 */
  set_desc(4, 0, 0xFFFFF, 0xF3, 0xC); /* user data: DPL 3 */
  /* 32-bit available TSS (type 9), byte granular; no I/O bitmap (base past the limit), so
     with IOPL 0 every port access from ring 3 raises #GP. */
  tss.ss0 = SEL_KDATA;
  tss.iomap_base = sizeof tss;
  set_desc(5, (u32)&tss, sizeof tss - 1, 0x89, 0x0);
  gdtr.limit = sizeof gdt - 1;
  gdtr.base = (u32)gdt;
  load_gdt(&gdtr);
}

/* ---- interrupts: IDT (SDM 6.11), 8259A, 8254 ---- */

static u32 idt[256 * 2];
extern const u32 vector_table[];

/* 32-bit interrupt gate (type 0xE): IF cleared on entry. */
static void set_gate(int vec, u32 handler, int dpl) {
  idt[2 * vec] = (handler & 0xFFFF) | ((u32)SEL_KCODE << 16);
  idt[2 * vec + 1] = (handler & 0xFFFF0000) | 0x8E00 | ((u32)dpl << 13);
}

static void idt_init(void) {
  for (int v = 0; v < 48; v++) set_gate(v, vector_table[v], 0);
  set_gate(SYSCALL_VECTOR, vector_table[48], 3);
  idtr.limit = sizeof idt - 1;
  idtr.base = (u32)idt;
  __asm__ volatile("lidt %0" : : "m"(idtr));
}

#define IRQ_BASE 0x20
#define PIT_HZ 100
#define PIT_INPUT_HZ 1193182

static void pic_init(void) {
  outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 */
  outb(0xA0, 0x11);
  outb(0x21, IRQ_BASE); /* ICW2: vectors 0x20.. and 0x28.. */
  outb(0xA1, IRQ_BASE + 8);
  outb(0x21, 0x04); /* ICW3: slave on IR2 */
  outb(0xA1, 0x02);
  outb(0x21, 0x01); /* ICW4: 8086 mode */
  outb(0xA1, 0x01);
  outb(0x21, 0xFE); /* OCW1: only IRQ0 (the timer) */
  outb(0xA1, 0xFF);
}

static void pit_init(void) {
  u32 count = (PIT_INPUT_HZ + PIT_HZ / 2) / PIT_HZ;
  outb(0x43, 0x34); /* counter 0, LSB then MSB, mode 2 (rate generator), binary */
  outb(0x40, (u8)count);
  outb(0x40, (u8)(count >> 8));
}

/* ---- page frames and page tables (SDM 4.3) ---- */

#define PAGE 4096u
#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PF_P 1u /* #PF error code: protection violation (else not present) */
#define PF_W 2u
#define PF_U 4u

static u32 next_frame = FRAME_BASE;
static u32 frames_used;

static u32 alloc_frame(void) {
  if (next_frame >= FRAME_END) {
    kputs("kernel panic: out of page frames\n");
    kexit(3);
  }
  u32 f = next_frame;
  next_frame += PAGE;
  frames_used++;
  memset((void *)f, 0, PAGE); /* frames lie in the identity map */
  return f;
}

static u32 kernel_pt[KERNEL_MAP_END / (PAGE * 1024)]; /* shared page tables of the identity map */

static void kernel_map_init(void) {
  for (u32 t = 0; t < KERNEL_MAP_END / (PAGE * 1024); t++) {
    u32 *pt = (u32 *)alloc_frame();
    for (u32 i = 0; i < 1024; i++) pt[i] = ((t * 1024 + i) * PAGE) | PTE_P | PTE_W;
    kernel_pt[t] = (u32)pt;
  }
}

static u32 new_address_space(void) {
  u32 *pd = (u32 *)alloc_frame();
  for (u32 t = 0; t < KERNEL_MAP_END / (PAGE * 1024); t++) pd[t] = kernel_pt[t] | PTE_P | PTE_W;
  return (u32)pd;
}

/* Maps `va` to frame `pa` in page directory `pd` (creating the page table), user-accessible. */
static void map_page(u32 pd_phys, u32 va, u32 pa, u32 flags) {
  u32 *pd = (u32 *)pd_phys;
  u32 *pde = &pd[va >> 22];
  if (!(*pde & PTE_P)) *pde = alloc_frame() | PTE_P | PTE_W | PTE_U;
  u32 *pt = (u32 *)(*pde & ~0xFFFu);
  pt[(va >> 12) & 0x3FF] = pa | flags;
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
    memcpy((void *)f, image + (va - USER_BASE), n);
    map_page(p->pd, va, f, PTE_P | PTE_U | (va >= h->text_end ? PTE_W : 0));
  }
  p->bss_start = (h->data_end + PAGE - 1) & ~(PAGE - 1);
  p->bss_end = h->bss_end;
  struct trapframe *tf = (struct trapframe *)(p->kstack + KSTACK) - 1;
  memset(tf, 0, sizeof *tf);
  tf->gs = tf->fs = tf->es = tf->ds = SEL_UDATA;
  tf->cs = SEL_UCODE;
  tf->user_ss = SEL_UDATA;
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
  tss.esp0 = (u32)(next->kstack + KSTACK);
  write_cr3(next->pd);
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
  invlpg(va);
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
    case IRQ_BASE + 0: /* PIT */
      outb(0x20, 0x20); /* non-specific EOI */
      ticks++;
      if (!from_user) return tf; /* only user code is preempted */
      current->preemptions++;
      return schedule(tf);
    case IRQ_BASE + 7: /* spurious IRQ7: no EOI (8259A datasheet) */
      return tf;
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
  __asm__ volatile("cli");
  for (int i = 0; i < NPROC; i++) {
    struct proc *p = &procs[i];
    kputs("--- pid ");
    kputdec((u32)p->pid);
    kputs(" (");
    kputs(p->name);
    kputs(") output ---\n");
    for (u32 k = 0; k < p->outlen; k++) kputc(p->out[k]);
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
void kmain(u32 magic, u32 info);

void kmain(u32 magic, u32 info) {
  (void)info;
  kputs("kernel: x86 kernel sample, multiboot magic ");
  kputhex(magic);
  kputs("\n");
  gdt_init();
  idt_init();
  kputs("kernel: GDT, TSS and IDT loaded\n");
  pic_init();
  pit_init();
  kputs("kernel: 8259A remapped to 0x20/0x28, 8254 at 100 Hz\n");
  kernel_map_init();
  proc_create(&procs[0], 1, "compute", user_compute_start, user_compute_end);
  proc_create(&procs[1], 2, "kbench", user_bench_start, user_bench_end);
  write_cr3(procs[0].pd);
  write_cr0(read_cr0() | 0x80000000u); /* PG */
  kputs("kernel: paging on, starting 2 ring-3 processes\n");
  current = 0;
  struct trapframe *tf = switch_to(&procs[0]);
  resume(tf);
}
