/*
 * The x86 kernel sample's internal interfaces, shared by main.c, trap.c, proc.c, vm.c and
 * console.c. Those files serve two builds: kernel.elf (native: include/hal.h here) and
 * ../pv-kernel/pv-kernel.elf (Xen x86_32 PV: its include/hal.h, found first on its include
 * path). Everything hardware-specific goes through the hal_* interface included at the end.
 *
 * Sources for layouts: Intel SDM vol. 3A (paging 4.3, #PF error code 4.7, interrupt frame 6.12).
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "../layout.h"

typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

#define PAGE 4096u
#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PF_P 1u /* #PF error code: protection violation (else not present) */
#define PF_W 2u
#define PF_U 4u

/* Page tables of the kernel map (0..16 MiB of (pseudo-)physical memory), shared by every
   address space. */
#define KMAP_TABLES (KERNEL_MAP_END / (PAGE * 1024))

/* The timer interrupt's vector: the 8259A's IRQ 0 natively, the event upcall in the PV build. */
#define IRQ_BASE 0x20

/* Saved context, built by trap-entry.S: segment registers, PUSHAL, vector and error code, then
   the CPU's frame (SDM 6.12). */
struct trapframe {
  u32 gs, fs, es, ds;
  u32 edi, esi, ebp, esp_pushed, ebx, edx, ecx, eax;
  u32 vector, err;
  u32 eip, cs, eflags;
  u32 user_esp, user_ss; /* only on entry from ring 3 */
};

/* User image header (user/crt0.S). */
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
  u32 pd; /* page directory, (pseudo-)physical */
  u32 bss_start, bss_end; /* demand-zero range of the image */
  struct trapframe *tf;
  int exit_code;
  u32 syscalls, page_faults, preemptions;
  u32 outlen;
  char out[OUTBUF];
  u8 kstack[KSTACK] __attribute__((aligned(16)));
};

/* Byte fill and copy, inline in every file that uses them (as in the one-file kernel this was
   split from: zeroing a page frame stays a tight inlined loop). lib/mem.c gives memset and
   memcpy the same bodies for the calls the compiler emits itself. */
static inline void *kmemset(void *dst, int c, size_t n) {
  u8 *d = dst;
  while (n--) *d++ = (u8)c;
  return dst;
}
static inline void *kmemcpy(void *dst, const void *src, size_t n) {
  u8 *d = dst;
  const u8 *s = src;
  while (n--) *d++ = *s++;
  return dst;
}
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

/* console.c */
void kputs(const char *s);
void kputhex(u32 v);
void kputdec(u32 v);

/* vm.c */
extern u32 kernel_pt[KMAP_TABLES];
extern u32 frames_used;
u32 alloc_frame(void);
void kernel_map_init(void);
u32 new_address_space(void);
void map_page(u32 pd, u32 va, u32 pa, u32 flags);

/* proc.c */
extern struct proc procs[NPROC];
extern struct proc *current;
void proc_create(struct proc *p, int pid, const char *name, const u8 *image, const u8 *image_end);
void append(struct proc *p, const char *s, u32 n);
void append_str(struct proc *p, const char *s);
void append_hex(struct proc *p, u32 v);
struct trapframe *switch_to(struct proc *next);
struct trapframe *schedule(struct trapframe *tf);

/* trap.c */
struct trapframe *trap(struct trapframe *tf); /* called by trap-entry.S */

/* main.c */
void kmain(u32 boot0, u32 boot1); /* called by entry.S */
void finish(void) __attribute__((noreturn));

/* trap-entry.S */
extern const u32 vector_table[];
void resume(struct trapframe *tf) __attribute__((noreturn));

/* The hardware layer: include/hal.h natively, the PV kernel's include/hal.h (found first on its
   include path, hence <>) in pv-kernel.elf. */
#include <hal.h>

#endif
