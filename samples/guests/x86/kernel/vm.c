/*
 * Page frames and page tables (Intel SDM vol. 3A 4.3: two-level, 4 KiB pages): the frame
 * pool, the kernel map shared by every address space, one page directory per process. How a
 * table entry is written, and what a fresh table needs before use, is the HAL's (in place
 * natively; mmu_update and pinning in the PV kernel).
 */
#include "kernel.h"

u32 kernel_pt[KMAP_TABLES]; /* the kernel map's page tables, (pseudo-)physical */
u32 frames_used;
static u32 next_frame;

u32 alloc_frame(void) {
  if (next_frame >= FRAME_END) {
    kputs("kernel panic: out of page frames\n");
    hal_exit(3);
  }
  u32 f = next_frame;
  next_frame += PAGE;
  frames_used++;
  kmemset(hal_kva(f), 0, PAGE); /* frames lie in the kernel map */
  return f;
}

/* The kernel map: (pseudo-)physical 0..KERNEL_MAP_END, supervisor only, at HAL_KMAP_SLOT. */
void kernel_map_init(void) {
  next_frame = hal_frame_base();
  for (u32 t = 0; t < KMAP_TABLES; t++) kernel_pt[t] = alloc_frame();
  for (u32 t = 0; t < KMAP_TABLES; t++) {
    u32 *pt = hal_kva(kernel_pt[t]);
    for (u32 i = 0; i < 1024; i++) pt[i] = hal_kmap_pte((t * 1024 + i) * PAGE);
  }
  for (u32 t = 0; t < KMAP_TABLES; t++) hal_kmap_table_done(kernel_pt[t]);
}

u32 new_address_space(void) {
  u32 pd = alloc_frame();
  u32 *e = hal_kva(pd);
  for (u32 t = 0; t < KMAP_TABLES; t++) e[HAL_KMAP_SLOT + t] = hal_pte(kernel_pt[t], PTE_P | PTE_W);
  hal_table_new(pd, 2);
  return pd;
}

/* Maps `va` to frame `pa` in page directory `pd` (creating the page table), user-accessible. */
void map_page(u32 pd, u32 va, u32 pa, u32 flags) {
  u32 pdi = va >> 22;
  u32 pt;
  if (!(((const u32 *)hal_kva(pd))[pdi] & PTE_P)) {
    pt = alloc_frame();
    hal_table_new(pt, 1);
    hal_pde_set(pd, pdi, pt, PTE_P | PTE_W | PTE_U);
  } else {
    pt = hal_pde_table(pd, pdi);
  }
  hal_pte_set(pt, (va >> 12) & 0x3FF, pa, flags);
}
