/*
 * Exception vectors, TLB refill handler and trap entry/exit of the PV kernel: the native
 * kernel's (../kernel/vectors.S) with the HAL swapped (docs/mips-pv-abi.md):
 *   - the vector block pv_vectors (4 KiB aligned, refill +0x000, general +0x180, interrupt
 *     +0x200) is registered with HYPERVISOR_mips_set_vectors instead of sitting at the
 *     hardware vectors, which in a PV domain's pseudo-physical memory hold start_info;
 *   - MFC0/MTC0 are loads/stores to the privileged-register page (pv_regs);
 *   - the refill's TLBWR + ERET are one HYPERVISOR_mips_tlb_op(tlbwr | eret), trap_return's
 *     ERET is HYPERVISOR_mips_eret. Both return with v0 := k0 and a0 := k1, which is where
 *     the interrupted v0/a0 are parked (the hypercall itself needs v0 and a0);
 *   - no kernel_fill: the monitor maps ksseg itself.
 */
#include "mips-cp0.h"
#include "layout.h"
#include "trapframe-asm.h"
#include "pv.h"

	.file	"vectors.S"
	.set noreorder
	.set noat

	.section .vectors, "ax"
	.globl pv_vectors
pv_vectors:
vec_refill:					/* +0x000: TLB refill, EXL was 0 */
	lui	$26, %hi(refill_body)
	addiu	$26, $26, %lo(refill_body)
	jr	$26
	nop

	.org	0x180
vec_general:					/* +0x180: everything else */
	lui	$26, %hi(trap_entry)
	addiu	$26, $26, %lo(trap_entry)
	jr	$26
	nop

	.org	0x200
vec_interrupt:					/* +0x200: interrupts with Cause.IV (never set) */
	lui	$26, %hi(trap_entry)
	addiu	$26, $26, %lo(trap_entry)
	jr	$26
	nop

	.text
/*
 * TLB refill for kuseg: Context = PTEBase | BadVPN2 << 4 addresses the even/odd PTE pair.
 * Misses at or above USER_VA_LIMIT (0x00800000 = 1 << 23) go to the general path.
 */
	.globl refill_body
refill_body:
	lui	$27, %hi(pv_regs)
	lw	$27, %lo(pv_regs)($27)		/* k1 = the privileged-register page */
	lw	$26, PR_BADVADDR($27)
	srl	$26, $26, 23
	bnez	$26, trap_entry
	nop
	lw	$26, PR_CONTEXT($27)
	lw	$26, 0($26)
	sw	$26, PR_ENTRYLO0($27)
	lw	$26, PR_CONTEXT($27)
	lw	$26, 8($26)
	sw	$26, PR_ENTRYLO1($27)
	move	$26, $2				/* the interrupted v0 and a0, restored by the eret */
	move	$27, $4
	li	$2, PV_HYP_MIPS_TLB_OP
	li	$4, PV_TLBOP_TLBWR_ERET
	PV_HYPCALL				/* TLBWR + ERET: does not return here */
1:	b	1b
	nop

/*
 * Save the user context into the current process's trap frame (cur_frame), leave
 * exception level (in the page: the monitor takes it at the next hypercall) and call
 * trap_handler(frame) on the kernel stack. It returns the frame to resume.
 */
	.globl trap_entry
trap_entry:
	lui	$26, %hi(cur_frame)
	lw	$26, %lo(cur_frame)($26)
	SAVE_GPRS
	lui	$12, %hi(pv_regs)
	lw	$12, %lo(pv_regs)($12)
	lw	$8, PR_EPC($12)
	lw	$9, PR_STATUS($12)
	lw	$10, PR_CAUSE($12)
	lw	$11, PR_BADVADDR($12)
	sw	$8, TF_EPC($26)
	sw	$9, TF_STATUS($26)
	sw	$10, TF_CAUSE($26)
	sw	$11, TF_BADVADDR($26)
	move	$4, $26
	lui	$29, %hi(kstack_top)
	addiu	$29, $29, %lo(kstack_top)
	sw	$0, PR_STATUS($12)		/* kernel mode, EXL = 0, interrupts off */
	jal	trap_handler
	nop
	move	$4, $2
	/* fall through */

/*
 * trap_return(frame): resume the context in frame. Status (with EXL) and EPC go to the
 * page, every register but v0/a0 is reloaded, v0/a0 are parked in k0/k1, then
 * HYPERVISOR_mips_eret.
 */
	.globl trap_return
trap_return:
	lui	$12, %hi(pv_regs)
	lw	$12, %lo(pv_regs)($12)
	lw	$8, TF_STATUS($4)
	ori	$8, $8, ST_EXL
	sw	$8, PR_STATUS($12)
	move	$26, $4
	lw	$8, TF_EPC($26)
	lw	$9, TF_HI($26)
	lw	$10, TF_LO($26)
	sw	$8, PR_EPC($12)
	mthi	$9
	mtlo	$10
	RESTORE_GPRS_BUT_V0_A0
	lw	$27, 16($26)			/* a0 -> k1 */
	lw	$26, 8($26)			/* v0 -> k0 */
	li	$2, PV_HYP_MIPS_ERET
	PV_HYPCALL				/* does not return here */
2:	b	2b
	nop
