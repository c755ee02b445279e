/*
 * MIPS32 Release 1 CP0 register numbers and fields used by the kernel sample.
 * Source: MIPS32 Architecture for Programmers Vol. III (MD00090), chapters 7-9;
 * the same values are listed in /work/shared/REFERENCE.md "MIPS32 CP0".
 * Usable from C and from assembly (.S files).
 */
#ifndef MIPS_CP0_H
#define MIPS_CP0_H

/* Register numbers (select 0 unless noted). */
#define C0_INDEX 0
#define C0_RANDOM 1
#define C0_ENTRYLO0 2
#define C0_ENTRYLO1 3
#define C0_CONTEXT 4
#define C0_PAGEMASK 5
#define C0_WIRED 6
#define C0_BADVADDR 8
#define C0_COUNT 9
#define C0_ENTRYHI 10
#define C0_COMPARE 11
#define C0_STATUS 12
#define C0_CAUSE 13
#define C0_EPC 14
#define C0_PRID 15
#define C0_CONFIG 16 /* select 1 = Config1 */

#ifdef __ASSEMBLER__
/* CP0 register operands for mfc0/mtc0 in assembly sources. */
#define CP0_INDEX $0
#define CP0_ENTRYLO0 $2
#define CP0_ENTRYLO1 $3
#define CP0_CONTEXT $4
#define CP0_PAGEMASK $5
#define CP0_WIRED $6
#define CP0_BADVADDR $8
#define CP0_COUNT $9
#define CP0_ENTRYHI $10
#define CP0_COMPARE $11
#define CP0_STATUS $12
#define CP0_CAUSE $13
#define CP0_EPC $14
#endif

/* Status fields. */
#define ST_IE 0x00000001
#define ST_EXL 0x00000002
#define ST_ERL 0x00000004
#define ST_KSU_MASK 0x00000018
#define ST_KSU_USER 0x00000010
#define ST_IM7 0x00008000 /* Count/Compare timer */
#define ST_BEV 0x00400000

/* Cause fields. */
#define CAUSE_EXC_MASK 0x0000007c
#define CAUSE_EXC_SHIFT 2
#define CAUSE_IP7 0x00008000
#define CAUSE_BD 0x80000000

/* ExcCode values. */
#define EXC_INT 0
#define EXC_MOD 1
#define EXC_TLBL 2
#define EXC_TLBS 3
#define EXC_ADEL 4
#define EXC_ADES 5
#define EXC_IBE 6
#define EXC_DBE 7
#define EXC_SYS 8
#define EXC_BP 9
#define EXC_RI 10
#define EXC_CPU 11
#define EXC_OV 12
#define EXC_TR 13

/* EntryLo fields: PFN 29..6, C 5..3, D 2, V 1, G 0. */
#define ELO_G 0x1
#define ELO_V 0x2
#define ELO_D 0x4
#define ELO_C_CACHED 0x18 /* C = 3, cacheable noncoherent (write-back) */
#define ELO_PFN_SHIFT 6

/* Index.P: set by TLBP when no entry matched. */
#define INDEX_P 0x80000000

/* Config1.MMUSize (bits 30..25) = TLB entries - 1. */
#define CONFIG1_MMU_SHIFT 25
#define CONFIG1_MMU_MASK 0x3f

#endif
