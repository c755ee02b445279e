/*
 * The kernel's hardware layer, native implementation: CP0 through mfc0/mtc0, the TLB through
 * TLBWI/TLBP, the console through the polled 16550 UART, exit through the exit port.
 * The PV kernel (../../pv-kernel/include/hal.h) shadows this header with the same interface
 * on the privileged-register page and hypercalls (Disco's "HAL change", Bugnion et al.,
 * SOSP 1997 §4.4); main.c, trap.c, proc.c, vm.c and console.c serve both builds unchanged.
 * Included at the end of kernel.h (needs u32, kputs).
 */
#ifndef HAL_H
#define HAL_H

#define HAL_INLINE static inline __attribute__((always_inline))

/* CP0 access from C. Register numbers must be literal constants. */
#define CP0_STR2(x) #x
#define CP0_STR(x) CP0_STR2(x)
#define mfc0(reg)                                                                    \
  ({                                                                                 \
    u32 v_;                                                                          \
    __asm__ volatile("mfc0 %0, $" CP0_STR(reg) : "=r"(v_));                          \
    v_;                                                                              \
  })
#define mtc0(reg, val)                                                               \
  __asm__ volatile("mtc0 %z0, $" CP0_STR(reg) "\n\tehb" : : "Jr"((u32)(val)) : "memory")

/* Early boot with the entry's a0 (nothing to do natively: the kernel owns the machine). */
HAL_INLINE void hal_init(u32 boot_arg) {
  (void)boot_arg;
}

/* Config1 (CP0 16 select 1). */
HAL_INLINE u32 hal_config1(void) {
  u32 c1;
  __asm__ volatile("mfc0 %0, $16, 1" : "=r"(c1));
  return c1;
}

/* Makes the live Count readable and a stored Compare effective: CP0 is live natively. */
HAL_INLINE void hal_sync(void) {}

/* Invalidates TLB entries [from, n) with unique kseg0 VPN2s (never matched). */
HAL_INLINE void hal_tlb_invalidate(u32 from, u32 n) {
  mtc0(C0_PAGEMASK, 0);
  mtc0(C0_ENTRYLO0, 0);
  mtc0(C0_ENTRYLO1, 0);
  for (u32 i = from; i < n; i++) {
    mtc0(C0_INDEX, i);
    mtc0(C0_ENTRYHI, 0x80000000u + (i << 13));
    __asm__ volatile("tlbwi\n\tehb" ::: "memory");
  }
}

/* Rewrites the TLB entry matching hi, if there is one (TLBP + TLBWI); clobbers EntryHi. */
HAL_INLINE void hal_tlb_update(u32 hi, u32 lo0, u32 lo1) {
  /* One block: nothing between TLBP and TLBWI may touch memory (in the ksseg build a
     memory access may take a ksseg refill, which rewrites EntryHi and EntryLo). */
  __asm__ volatile(
      ".set push\n\t"
      ".set noreorder\n\t"
      "mtc0 %0, $10\n\t"
      "ehb\n\t"
      "tlbp\n\t"
      "ehb\n\t"
      "mfc0 $8, $0\n\t"
      "bltz $8, 1f\n\t"
      "nop\n\t"
      "mtc0 %1, $2\n\t"
      "mtc0 %2, $3\n\t"
      "ehb\n\t"
      "tlbwi\n\t"
      "ehb\n"
      "1:\n\t"
      ".set pop"
      :
      : "r"(hi), "r"(lo0), "r"(lo1)
      : "$8", "memory");
}

/* 16550 registers (offsets from the base port) and LSR bits: PC16550D datasheet. */
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define LCR_8N1 0x03

#define UART_REG(r) (*(volatile u8 *)(ISA_BASE + UART_PORT + (r)))

/* The 16550 UART at ISA port 0x3F8 (mipssim; kseg1 0xBFD003F8), polled. */
HAL_INLINE void hal_console_init(void) {
  UART_REG(UART_IER) = 0; /* polled: no UART interrupts */
  UART_REG(UART_LCR) = LCR_8N1;
  UART_REG(UART_FCR) = 0;
  UART_REG(UART_MCR) = 0;
}

HAL_INLINE void uart_putc(char c) {
  while ((UART_REG(UART_LSR) & LSR_THRE) == 0) {
  }
  UART_REG(UART_THR) = (u8)c;
}

HAL_INLINE void hal_console_puts(const char *s) {
  while (*s) uart_putc(*s++);
}

/* Writes n bytes (a process's buffer), one kputs per byte. A macro that re-evaluates n on each
   byte, as the loop it replaced did: kernel.elf stays byte-identical. */
#define hal_console_write(buf, n)                                                    \
  do {                                                                               \
    const char *b_ = (buf);                                                          \
    for (u32 j_ = 0; j_ < (n); j_++) {                                               \
      char c_[2] = {b_[j_], 0};                                                      \
      kputs(c_);                                                                     \
    }                                                                                \
  } while (0)

/* Stops the machine: writes the exit port (pvkit stops there; QEMU's mipssim has no exit
   device, so the marker line printed before is what tells a test harness the run is over). */
HAL_INLINE __attribute__((noreturn)) void hal_exit(int status) {
  *(volatile u8 *)(ISA_BASE + EXIT_PORT) = (u8)status;
  for (;;) {
  }
}

#endif
