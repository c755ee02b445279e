/*
 * PV kernel entry (the ELF entry, in ksseg): the monitor starts it in the guest's kernel mode
 * with a0 = guest-physical start_info (docs/mips-pv-abi.md "Boot state"); no CP0 set-up is
 * needed or possible. Sets the stack, clears bss, calls kmain(a0).
 */
#include "layout.h"

	.set noreorder
	.set noat

	.section .text.entry, "ax"
	.globl _start
_start:
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
2:	jal	kmain				/* a0 = start_info, untouched */
	nop
3:	b	3b
	nop

	.section .bss.kstack, "aw", @nobits
	.balign 16
	.space	KSTACK_SIZE
	.globl kstack_top
kstack_top:
