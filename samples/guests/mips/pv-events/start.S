/*
 * pv-events entry, vector block and event upcall entry (docs/mips-pv-abi.md "Upcall entry").
 * The monitor starts _start in the guest's kernel mode with a0 = guest-physical start_info.
 * Upcalls arrive like an interrupt (virtual EPC = the interrupted PC, Status.EXL = 1) at
 * ev_upcall, which saves the caller-saved registers below the interrupted stack pointer (the
 * o32 ABI has no red zone), calls evtchn_do_upcall() and returns with HYPERVISOR_mips_eret,
 * parking the interrupted v0/a0 in k0/k1 as the ABI asks.
 */
	.set noreorder
	.set noat

	.section .vectors, "ax"
	.globl pv_vectors
pv_vectors:					/* +0x000 refill, +0x180 general: no exception is expected */
	j	unexpected_exception
	nop
	.org	0x180
	j	unexpected_exception
	nop
	.org	0x200
	j	unexpected_exception
	nop

	.section .text.entry, "ax"
	.globl _start
_start:
	lui	$29, %hi(stack_top)
	addiu	$29, $29, %lo(stack_top)
	lui	$8, %hi(__bss_start)
	addiu	$8, $8, %lo(__bss_start)
	lui	$9, %hi(__bss_end)
	addiu	$9, $9, %lo(__bss_end)
1:	beq	$8, $9, 2f
	nop
	sw	$0, 0($8)
	b	1b
	addiu	$8, $8, 4
2:	jal	main				/* a0 = start_info, untouched */
	nop
3:	b	3b
	nop

	.text
	.globl ev_upcall
ev_upcall:
	addiu	$29, $29, -88
	sw	$1, 0($29)
	sw	$2, 4($29)
	sw	$3, 8($29)
	sw	$4, 12($29)
	sw	$5, 16($29)
	sw	$6, 20($29)
	sw	$7, 24($29)
	sw	$8, 28($29)
	sw	$9, 32($29)
	sw	$10, 36($29)
	sw	$11, 40($29)
	sw	$12, 44($29)
	sw	$13, 48($29)
	sw	$14, 52($29)
	sw	$15, 56($29)
	sw	$24, 60($29)
	sw	$25, 64($29)
	sw	$31, 68($29)
	mfhi	$8
	mflo	$9
	sw	$8, 72($29)
	sw	$9, 76($29)
	jal	evtchn_do_upcall
	nop
	lw	$8, 72($29)
	lw	$9, 76($29)
	mthi	$8
	mtlo	$9
	lw	$1, 0($29)
	lw	$3, 8($29)
	lw	$5, 16($29)
	lw	$6, 20($29)
	lw	$7, 24($29)
	lw	$8, 28($29)
	lw	$9, 32($29)
	lw	$10, 36($29)
	lw	$11, 40($29)
	lw	$12, 44($29)
	lw	$13, 48($29)
	lw	$14, 52($29)
	lw	$15, 56($29)
	lw	$24, 60($29)
	lw	$25, 64($29)
	lw	$31, 68($29)
	lw	$26, 4($29)			/* v0 -> k0 */
	lw	$27, 12($29)			/* a0 -> k1 */
	addiu	$29, $29, 88
	li	$2, 49				/* __HYPERVISOR_mips_eret: does not return here */
	.word	0x42000028
4:	b	4b
	nop

	.section .bss.stack, "aw", @nobits
	.balign 16
	.space	8192
	.globl stack_top
stack_top:
