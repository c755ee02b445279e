/*
 * Boot stub of the ksseg build: the ELF entry, linked and run in kseg0.
 *
 * The kernel proper is linked at KVA_BASE = 0xC0000000 (ksseg) and loaded at physical 0,
 * so ksseg VA = 0xC0000000 + physical address, an alias of kseg0 (Disco's relink). ksseg
 * is TLB-mapped, so before jumping there the stub
 *   1. invalidates every TLB entry (unique kseg0 VPN2s that can never match),
 *   2. wires entries 0..n-1 mapping ksseg [0xC0000000, _wired_end) onto physical
 *      [0, _wired_end - 0xC0000000) in 4 KiB even/odd pairs (global, dirty, valid),
 *      and sets Wired = n so TLBWR never replaces them,
 *   3. jumps to the kernel's _start in ksseg.
 * The exception vectors need no copying: the relinked kernel's vectors sit at physical
 * 0x000 and 0x180, which is where the hardware's kseg0 vectors fetch from, and each one
 * jumps into ksseg (vectors.S). Pages above _wired_end (page tables, user frames, user
 * images) are mapped on demand by the kernel's refill handler (kernel_fill).
 * Under a Disco-style monitor this stub runs once, interpreted; ksseg is then mapped by
 * the monitor and the wired entries describe exactly the same mapping.
 */
#include "mips-cp0.h"
#include "layout.h"

	.set noreorder
	.set noat

	.section .boot, "ax"
	.globl _boot_stub
_boot_stub:
	mtc0	$0, CP0_STATUS			/* kernel mode; BEV, ERL, EXL, IE = 0 */
	mtc0	$0, CP0_WIRED
	mtc0	$0, CP0_PAGEMASK		/* 4 KiB pages */
	ehb
	mfc0	$8, $16, 1			/* Config1: MMUSize = entries - 1 */
	srl	$8, $8, CONFIG1_MMU_SHIFT
	andi	$8, $8, CONFIG1_MMU_MASK
	addiu	$8, $8, 1			/* t0 = number of TLB entries */

	/* 1. invalidate all entries: EntryHi = kseg0 + i * 8 KiB, EntryLo = 0 */
	mtc0	$0, CP0_ENTRYLO0
	mtc0	$0, CP0_ENTRYLO1
	move	$9, $0				/* t1 = index */
	lui	$10, 0x8000			/* t2 = EntryHi */
1:	mtc0	$9, CP0_INDEX
	mtc0	$10, CP0_ENTRYHI
	ehb
	tlbwi
	addiu	$9, $9, 1
	bne	$9, $8, 1b
	addiu	$10, $10, 0x2000

	/* 2. wire ksseg [0xC0000000, _wired_end) -> physical [0, ...) */
	lui	$11, %hi(_wired_end)
	addiu	$11, $11, %lo(_wired_end)	/* t3 = end (ksseg VA, 8 KiB aligned) */
	move	$9, $0				/* t1 = index */
	lui	$10, 0xc000			/* t2 = VA of the pair, ASID 0 */
	li	$12, (ELO_C_CACHED | ELO_D | ELO_V | ELO_G)	/* t4 = EntryLo0 of PFN 0 */
2:	mtc0	$9, CP0_INDEX
	mtc0	$10, CP0_ENTRYHI
	mtc0	$12, CP0_ENTRYLO0
	addiu	$13, $12, (1 << ELO_PFN_SHIFT)
	mtc0	$13, CP0_ENTRYLO1
	ehb
	tlbwi
	addiu	$9, $9, 1
	addiu	$10, $10, 0x2000
	bne	$10, $11, 2b
	addiu	$12, $12, (2 << ELO_PFN_SHIFT)
	mtc0	$9, CP0_WIRED
	mtc0	$0, CP0_ENTRYHI
	ehb

	/* 3. enter the kernel in ksseg */
	lui	$8, %hi(_start)
	addiu	$8, $8, %lo(_start)
	jr	$8
	nop
