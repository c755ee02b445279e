/*
 * The PV kernel's HAL (docs/mips-pv-abi.md): the privileged-register page stands in for CP0,
 * hypercalls (pvkit_hypercall.h, generated from src/hypercalls) for TLB instructions, ERET,
 * the UART and the exit port. Shared by C and assembly: the PR_* offsets below are checked
 * against the generated struct pvkit_mips_privregs in pv.c.
 */
#ifndef PV_H
#define PV_H

/* The PV kernel's image starts at physical KIMG_PHYS (kernel.ld.in): pfns 0-3 hold start_info,
   shared_info and the store and console rings, pfn 4 the privileged-register page. */
#define KIMG_PHYS 0x00010000

/* struct pvkit_mips_privregs offsets (all u32, in the ABI's order). */
#define PR_STATUS 0
#define PR_CAUSE 4
#define PR_EPC 8
#define PR_BADVADDR 12
#define PR_CONTEXT 16
#define PR_ENTRYHI 20
#define PR_ENTRYLO0 24
#define PR_ENTRYLO1 28
#define PR_INDEX 32
#define PR_PAGEMASK 36
#define PR_WIRED 40
#define PR_COUNT 44
#define PR_COMPARE 48
#define PR_ERROREPC 52
#define PR_PRID 56
#define PR_CONFIG 60 /* Config1 (select 1) */

/* Hypercall numbers and the tlb_op command used from assembly (checked in pv.c). */
#define PV_HYP_MIPS_TLB_OP 48
#define PV_HYP_MIPS_ERET 49
#define PV_TLBOP_TLBWR_ERET 0x101 /* MIPS_TLBOP_tlbwr | MIPS_TLBOP_eret */
#define PV_HYPCALL .word 0x42000028

#ifndef __ASSEMBLER__
typedef unsigned int pv_u32;
/* The privileged-register page (KVA), set by pv_init from shared_info.arch.privregs_pfn. */
extern volatile pv_u32 *pv_regs;
void pv_init(pv_u32 start_info_pa);
void pv_console_write(const char *s, pv_u32 n);
void pv_shutdown(int status) __attribute__((noreturn));
/* A null hypercall: applies the page's stores and refreshes Count (one entry + exit). */
void pv_sync(void);
/* Writes n (<= 16) TLB entries {index, entryhi, entrylo0, entrylo1}; index PV_TLB_PROBE:
   replace the entry matching entryhi if there is one. */
#define PV_TLB_PROBE 0xfffffffeu
void pv_tlb_write(const pv_u32 (*e)[4], pv_u32 n);
#endif

#endif
