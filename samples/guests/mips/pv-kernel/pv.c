/*
 * The hypercall side of the PV kernel's HAL: boot (start_info → shared_info → the
 * privileged-register page, the vector registration), the console through console_io, the
 * TLB through HYPERVISOR_mips_tlb_op batches, exit through SCHEDOP_shutdown.
 * Hypercall pointer arguments are guest-physical: KVA_TO_PHYS (docs/mips-pv-abi.md).
 */
#include "kernel.h"
#include <stddef.h>
#include "pvkit_hypercall.h"

_Static_assert(offsetof(struct pvkit_mips_privregs, status) == PR_STATUS, "privregs layout");
_Static_assert(offsetof(struct pvkit_mips_privregs, cause) == PR_CAUSE, "privregs layout");
_Static_assert(offsetof(struct pvkit_mips_privregs, epc) == PR_EPC, "privregs layout");
_Static_assert(offsetof(struct pvkit_mips_privregs, badvaddr) == PR_BADVADDR, "privregs layout");
_Static_assert(offsetof(struct pvkit_mips_privregs, context) == PR_CONTEXT, "privregs layout");
_Static_assert(offsetof(struct pvkit_mips_privregs, entryhi) == PR_ENTRYHI, "privregs layout");
_Static_assert(offsetof(struct pvkit_mips_privregs, entrylo0) == PR_ENTRYLO0, "privregs layout");
_Static_assert(offsetof(struct pvkit_mips_privregs, entrylo1) == PR_ENTRYLO1, "privregs layout");
_Static_assert(offsetof(struct pvkit_mips_privregs, count) == PR_COUNT, "privregs layout");
_Static_assert(offsetof(struct pvkit_mips_privregs, compare) == PR_COMPARE, "privregs layout");
_Static_assert(offsetof(struct pvkit_mips_privregs, config) == PR_CONFIG, "privregs layout");
_Static_assert(__HYPERVISOR_mips_tlb_op == PV_HYP_MIPS_TLB_OP, "hypercall number");
_Static_assert(__HYPERVISOR_mips_eret == PV_HYP_MIPS_ERET, "hypercall number");
_Static_assert((MIPS_TLBOP_tlbwr | MIPS_TLBOP_eret) == PV_TLBOP_TLBWR_ERET, "tlb_op command");

extern const u32 pv_vectors[]; /* vectors.S: refill +0x000, general +0x180 */

volatile u32 *pv_regs;

/* A batch never straddles a page (16 x 20 bytes inside a 512-byte aligned block). */
static struct pvkit_mips_tlb_entry tlb_batch[16] __attribute__((aligned(512)));

static long hyp(u32 nr, u32 a1, u32 a2, u32 a3) {
  return _pvkit_hypercall(nr, a1, a2, a3, 0, 0);
}

void pv_init(u32 start_info_pa) {
  const struct start_info *si = (const struct start_info *)PHYS_TO_KVA(start_info_pa);
  const struct shared_info *sh = (const struct shared_info *)PHYS_TO_KVA(si->shared_info);
  pv_regs = (volatile u32 *)PHYS_TO_KVA(sh->arch.privregs_pfn << PAGE_SHIFT);
  if (hyp(__HYPERVISOR_mips_set_vectors, (u32)pv_vectors, 0, 0) != 0) pv_shutdown(1);
}

void pv_console_write(const char *s, u32 n) {
  while (n > 0) {
    u32 k = n < 1024 ? n : 1024;
    hyp(__HYPERVISOR_console_io, CONSOLEIO_write, k, KVA_TO_PHYS((u32)s));
    s += k;
    n -= k;
  }
}

void pv_sync(void) {
  hyp(__HYPERVISOR_xen_version, XENVER_version, 0, 0);
}

void pv_shutdown(int status) {
  static struct sched_shutdown sd;
  sd.reason = status == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash;
  hyp(__HYPERVISOR_sched_op, SCHEDOP_shutdown, KVA_TO_PHYS((u32)&sd), 0);
  for (;;) {
  }
}

void pv_tlb_write(const u32 (*e)[4], u32 n) {
  for (u32 i = 0; i < n; i++) {
    tlb_batch[i].index = e[i][0];
    tlb_batch[i].entryhi = e[i][1];
    tlb_batch[i].entrylo0 = e[i][2];
    tlb_batch[i].entrylo1 = e[i][3];
    tlb_batch[i].pagemask = 0;
  }
  if (hyp(__HYPERVISOR_mips_tlb_op, MIPS_TLBOP_batch, KVA_TO_PHYS((u32)tlb_batch), n) < 0) pv_shutdown(1);
}
