/*
 * The kernel's hardware layer, PV implementation (docs/x86-pv-abi.md): Xen's x86_32 PV
 * interface through the generated pvkit_hypercall.h. Same interface as
 * ../../kernel/include/hal.h, which this header shadows (build.sh puts include/ first;
 * kernel.h includes <hal.h>), so the native kernel's main.c, trap.c, proc.c, vm.c and
 * console.c build the PV kernel unchanged (Disco's "HAL change", Bugnion et al., SOSP 1997
 * §4.4). Page-table writes, pinning, the context switch, traps, the timer, the console and
 * exit are hypercalls (pv.c); CR2 and the virtual IF live in shared_info.
 */
#ifndef HAL_H
#define HAL_H

#include <pvkit_hypercall.h>

#define HAL_INLINE static inline __attribute__((always_inline))

/* Boot lines (main.c prints them around the steps they describe). */
#define HAL_BANNER "kernel: x86 PV kernel sample, start_info magic "
#define HAL_TRAPS_DONE "kernel: trap table set\n"
#define HAL_TIMER_DONE "kernel: VIRQ_TIMER bound, one-shot timer every 1 M cycles\n"
#define HAL_PAGING_DONE "kernel: own page tables pinned, starting 2 ring-3 processes\n"

/* Xen's flat ring-3 selectors in the monitor's GDT (arch-x86/xen-x86_32.h). */
#define HAL_SEL_UCODE FLAT_RING3_CS
#define HAL_SEL_UDATA FLAT_RING3_DS

/* No spurious vector: events arrive only through the upcall (trap.c has no case for it). */

#define KVA PVKIT_X86_PV_VIRT_BASE /* pseudo-physical 0 (docs/x86-pv-abi.md) */

/* pv.c state, set by hal_init from start_info. */
extern volatile struct shared_info *pv_shared; /* pfn 1, mapped at KVA + 4 KiB */
extern const u32 *pv_mfn_list;                 /* the P2M (start_info.mfn_list) */
extern u32 pv_frame_base;

/* ---- boot, traps, timer, console, exit (pv.c) ---- */

/* ESI = start_info at entry (docs/x86-pv-abi.md "Boot"); entry.S passes it as boot0. */
void hal_init(u32 start_info, u32 unused);
void hal_put_boot_id(u32 start_info);
void hal_trap_init(void);  /* set_trap_table */
void hal_timer_init(void); /* set_callbacks, VIRQ_TIMER, the first one-shot */
int hal_timer_ack(void);   /* acknowledges events; 1 = the timer's, re-armed */
void hal_exit(int code) __attribute__((noreturn));

/* console_io: one hypercall per string. */
HAL_INLINE void hal_console_write(const char *s, u32 n) {
  if (n) pvkit_console_write(s, (int)n);
}

/* The virtual CLI. */
HAL_INLINE void hal_irq_disable(void) { pv_shared->vcpu_info[0].evtchn_upcall_mask = 1; }

/* ---- memory and paging ---- */

/* The kernel map is all of pseudo-physical 0..16 MiB at KVA (not an identity map at 0). */
#define HAL_KMAP_SLOT (KVA >> 22)
HAL_INLINE void *hal_kva(u32 pa) { return (void *)(KVA + pa); }
/* After the domain builder's structures (start_info.pt_base + nr_pt_frames + the boot stack). */
HAL_INLINE u32 hal_frame_base(void) { return pv_frame_base; }

HAL_INLINE u32 pv_mfn_of(u32 pa) { return pv_mfn_list[pa / PAGE]; }

/* Page tables hold machine frames. */
HAL_INLINE u32 hal_pte(u32 pa, u32 flags) { return pv_mfn_of(pa) << 12 | flags; }
u32 hal_kmap_pte(u32 pa);               /* read-only for page-table frames */
void hal_kmap_table_done(u32 pt);       /* read-only in the builder's map, pinned as L1 */
void hal_table_new(u32 table, int level); /* read-only in the kernel map, pinned */
void hal_pde_set(u32 pd, u32 index, u32 pt, u32 flags); /* mmu_update */
u32 hal_pde_table(u32 pd, u32 index);
void hal_pte_set(u32 pt, u32 index, u32 pa, u32 flags); /* mmu_update */
void hal_invlpg(u32 va);                                /* MMUEXT_INVLPG_LOCAL */

/* CR2 as Xen writes it before the #PF bounce (vcpu_info.arch.cr2). */
HAL_INLINE u32 hal_fault_addr(void) { return pv_shared->vcpu_info[0].arch.cr2; }

/* Paging is on from the start (the builder's tables). */
HAL_INLINE void hal_paging_on(u32 pd) { (void)pd; }

/* MMUEXT_NEW_BASEPTR and stack_switch in one multicall. */
void hal_switch(u32 pd, u32 kstack_top);

#endif
