/*
 * Kernel entry (the ELF entry of the kseg0 build; the target of the boot stub's jump in
 * the ksseg build). Registers at entry are not relied on: QEMU's mipssim -kernel leaves
 * the reset state (Status.BEV = ERL = 1, GPRs zero), a clean R1 board may differ, so
 * Status, Cause and sp are set here.
 */
#include "mips-cp0.h"
#include "layout.h"

	.set noreorder
	.set noat

	.section .text.entry, "ax"
	.globl _start
_start:
	mtc0	$0, CP0_STATUS			/* kernel mode; BEV, ERL, EXL, IE = 0 */
	mtc0	$0, CP0_CAUSE			/* no software interrupts pending */
#if KVA_BASE == 0x80000000
	mtc0	$0, CP0_WIRED			/* the ksseg boot stub sets its own */
#endif
	ehb
	lui	$29, %hi(kstack_top)
	addiu	$29, $29, %lo(kstack_top)
	lui	$8, %hi(__bss_start)
	addiu	$8, $8, %lo(__bss_start)
	lui	$9, %hi(__bss_end)
	addiu	$9, $9, %lo(__bss_end)
1:	beq	$8, $9, 2f
	nop
	sw	$0, 0($8)
	b	1b
	addiu	$8, $8, 4
2:	jal	kmain
	nop
3:	b	3b
	nop

	.section .bss.kstack, "aw", @nobits
	.balign 16
	.space	KSTACK_SIZE
	.globl kstack_top
kstack_top:
