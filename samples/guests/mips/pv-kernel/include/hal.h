/*
 * The kernel's hardware layer, PV implementation (docs/mips-pv-abi.md): Disco's "HAL change"
 * (Bugnion et al., SOSP 1997 §4.4). Same interface as ../../kernel/include/hal.h, which this
 * header shadows (build.sh puts include/ first; kernel.h includes <hal.h>), so the native
 * kernel's main.c, trap.c, proc.c, vm.c and console.c build the PV kernel unchanged. CP0 is
 * the privileged-register page; TLB writes, the console and exit are hypercalls (pv.c).
 */
#ifndef HAL_H
#define HAL_H

#include "pv.h"

#define HAL_INLINE static inline __attribute__((always_inline))

/*
 * CP0 access from C: MFC0 is a load from the page and MTC0 a store (the monitor picks the
 * stores up at the next hypercall). Register numbers are constants, so the switch folds away.
 */
HAL_INLINE volatile u32 *pv_cp0(int reg) {
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

/* boot_arg: a0 at entry, the start_info's physical address ("Boot state"). */
HAL_INLINE void hal_init(u32 boot_arg) {
  pv_init(boot_arg);
}

/* The page's config word is Config1. */
HAL_INLINE u32 hal_config1(void) {
  return pv_regs[PR_CONFIG / 4];
}

/* The page's Count is the snapshot of the last hypervisor exit and a stored Compare takes
   effect at the next entry: a null hypercall refreshes the one and applies the other. */
HAL_INLINE void hal_sync(void) {
  pv_sync();
}

/* Invalidates TLB entries [from, n) with unique kseg0 VPN2s: one HYPERVISOR_mips_tlb_op batch
   instead of a TLBWI per entry. */
HAL_INLINE void hal_tlb_invalidate(u32 from, u32 n) {
  u32 e[16][4];
  u32 k = 0;
  if (n > 16) n = 16;
  for (u32 i = from; i < n; i++, k++) {
    e[k][0] = i;
    e[k][1] = 0x80000000u + (i << 13);
    e[k][2] = 0;
    e[k][3] = 0;
  }
  pv_tlb_write((const u32 (*)[4])e, k);
}

/* The native TLBP + TLBWI as one batch entry whose index asks the monitor to probe. */
HAL_INLINE void hal_tlb_update(u32 hi, u32 lo0, u32 lo1) {
  u32 e[1][4] = {{PV_TLB_PROBE, hi, lo0, lo1}};
  pv_tlb_write((const u32 (*)[4])e, 1);
}

/* The console is console_io (one hypercall per string), not a trapped UART. */
HAL_INLINE void hal_console_init(void) {}

HAL_INLINE void hal_console_puts(const char *s) {
  u32 n = 0;
  while (s[n]) n++;
  pv_console_write(s, n);
}

/* A process's whole buffer: one console_io, not one per byte. */
HAL_INLINE void hal_console_write(const char *buf, u32 n) {
  pv_console_write(buf, n);
}

/* SCHEDOP_shutdown: poweroff for 0, crash otherwise (a panic passes 1). */
HAL_INLINE __attribute__((noreturn)) void hal_exit(int status) {
  pv_shutdown(status);
}

#endif
