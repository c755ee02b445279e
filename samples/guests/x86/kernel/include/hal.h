/*
 * The kernel's hardware layer, native implementation: a GDT with a TSS and an IDT of interrupt
 * gates, the 8259A and 8254, page tables written in place with MOV CR3 and INVLPG, the polled
 * 16550 on COM1 and the exit port. The PV kernel (../../pv-kernel/include/hal.h) shadows this
 * header with the same interface on Xen's x86_32 PV hypercalls (the "HAL change" of Disco,
 * Bugnion et al., SOSP 1997 §4.4), so main.c, trap.c, proc.c, vm.c and console.c build both
 * kernels unchanged. Included at the end of kernel.h (needs u32, struct trapframe).
 *
 * Sources: Intel SDM vol. 3A (segment descriptors 3.4.5, TSS 7.2.1, gates 6.11, CR0/CR2/CR3
 * 2.5, INVLPG), Intel 8259A and 8254 datasheets, PC16550D datasheet (LSR bit 5).
 */
#ifndef HAL_H
#define HAL_H

#include "io.h"

#define HAL_INLINE static inline __attribute__((always_inline))

/* Boot lines (main.c prints them around the steps they describe). */
#define HAL_BANNER "kernel: x86 kernel sample, multiboot magic "
#define HAL_TRAPS_DONE "kernel: GDT, TSS and IDT loaded\n"
#define HAL_TIMER_DONE "kernel: 8259A remapped to 0x20/0x28, 8254 at 100 Hz\n"
#define HAL_PAGING_DONE "kernel: paging on, starting 2 ring-3 processes\n"

/* Ring-3 selectors of the GDT (hal.c gdt_init). */
#define HAL_SEL_UCODE SEL_UCODE
#define HAL_SEL_UDATA SEL_UDATA

/* The 8259A's IRQ 7 may be spurious (no EOI then: 8259A datasheet); trap.c ignores it. */
#define HAL_SPURIOUS_VECTOR (IRQ_BASE + 7)

/* ---- boot, traps, timer, console, exit (hal.c) ---- */

/* multiboot: EAX = magic, EBX = info (multiboot spec 0.6.96 §3.2). Nothing to set up. */
HAL_INLINE void hal_init(u32 magic, u32 info) {
  (void)magic;
  (void)info;
}
HAL_INLINE void hal_put_boot_id(u32 magic) { kputhex(magic); }

void hal_trap_init(void);  /* GDT, TSS, IDT */
void hal_timer_init(void); /* 8259A remapped to IRQ_BASE, 8254 at 100 Hz */
void hal_console_write(const char *s, u32 n);
void hal_exit(int code) __attribute__((noreturn));

/* Acknowledges the timer interrupt; 1 = it was a tick. */
HAL_INLINE int hal_timer_ack(void) {
  outb(0x20, 0x20); /* non-specific EOI */
  return 1;
}

HAL_INLINE void hal_irq_disable(void) { __asm__ volatile("cli"); }

/* ---- memory and paging (SDM 4.3) ---- */

/* The kernel map is an identity map at 0: a frame's kernel address is its physical address. */
#define HAL_KMAP_SLOT 0u
HAL_INLINE void *hal_kva(u32 pa) { return (void *)pa; }
HAL_INLINE u32 hal_frame_base(void) { return FRAME_BASE; }

/* A page-table entry for frame pa. */
HAL_INLINE u32 hal_pte(u32 pa, u32 flags) { return pa | flags; }
/* The kernel map's entry for frame pa: supervisor read/write. */
HAL_INLINE u32 hal_kmap_pte(u32 pa) { return pa | PTE_P | PTE_W; }

/* A kernel-map page table filled in place: nothing to register natively. */
HAL_INLINE void hal_kmap_table_done(u32 pt) { (void)pt; }
/* A fresh page table (level 1) or directory (level 2), filled in place: nothing to register. */
HAL_INLINE void hal_table_new(u32 table, int level) {
  (void)table;
  (void)level;
}

/* Entry `index` of page directory `pd` points at page table `pt`. */
HAL_INLINE void hal_pde_set(u32 pd, u32 index, u32 pt, u32 flags) { ((u32 *)pd)[index] = pt | flags; }
/* The page table entry `index` of `pd` points at (present entries only). */
HAL_INLINE u32 hal_pde_table(u32 pd, u32 index) { return ((u32 *)pd)[index] & ~0xFFFu; }
/* Entry `index` of page table `pt` maps frame pa. */
HAL_INLINE void hal_pte_set(u32 pt, u32 index, u32 pa, u32 flags) { ((u32 *)pt)[index] = pa | flags; }

HAL_INLINE void hal_invlpg(u32 va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }

/* The faulting address of the current #PF. */
HAL_INLINE u32 hal_fault_addr(void) {
  u32 v;
  __asm__ volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}

HAL_INLINE void hal_write_cr3(u32 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }

/* Paging on with `pd` (its kernel map covers the running code). */
HAL_INLINE void hal_paging_on(u32 pd) {
  hal_write_cr3(pd);
  u32 cr0;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  cr0 |= 0x80000000u; /* PG */
  __asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
}

/* The TSS (SDM 7.2.1); only ss0:esp0 is used: the stack of the next ring-3 -> ring-0 entry. */
struct tss {
  u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
  u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
  u32 es, cs, ss, ds, fs, gs, ldt;
  u16 trap, iomap_base;
} __attribute__((packed));
extern struct tss tss;

/* Switches to an address space and the kernel stack its process enters on. */
HAL_INLINE void hal_switch(u32 pd, u32 kstack_top) {
  tss.esp0 = kstack_top;
  hal_write_cr3(pd);
}

#endif
