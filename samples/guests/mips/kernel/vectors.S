/*
 * Exception vectors, TLB refill handler and trap entry/exit.
 *
 * The section .vectors is placed at KVA_BASE (physical 0) by both linker scripts, so the
 * refill vector is at KVA_BASE + 0x000 and the general vector at KVA_BASE + 0x180
 * (MIPS32 Vol. III 6.2.1, BEV = 0). In the kseg0 build those are the hardware vectors.
 * In the ksseg build they are the relinked vectors a Disco-style monitor reflects to
 * (hardware vector + 0x40000000); natively the CPU fetches the same bytes through kseg0
 * (same physical memory), and each vector's first act is an absolute jump into KVA space,
 * which is how the kseg0 vectors forward to the relinked handlers.
 *
 * Everything from here to the end of the kernel's bss is wired in the ksseg build
 * (boot-stub.S), so the code below and the trap frames never take a TLB miss themselves.
 */
#include "mips-cp0.h"
#include "layout.h"
#include "trapframe-asm.h"

	.file	"vectors.S"			/* else gas names the local symbols after a temp file */
	.set noreorder
	.set noat

	.section .vectors, "ax"
	.globl vec_refill
vec_refill:					/* KVA_BASE + 0x000: TLB refill, EXL was 0 */
	lui	$26, %hi(refill_body)
	addiu	$26, $26, %lo(refill_body)
	jr	$26
	nop

	.org	0x180
	.globl vec_general
vec_general:					/* KVA_BASE + 0x180: everything else */
	lui	$26, %hi(general_body)
	addiu	$26, $26, %lo(general_body)
	jr	$26
	nop

	.org	0x200
	.text

/*
 * TLB refill for kuseg: Context = PTEBase | BadVPN2 << 4 addresses the even/odd PTE pair
 * of the current process ({EntryLo, software word} per page, 8 bytes each).
 * Misses above USER_VA_LIMIT go to the general path, which reports them.
 * Kernel misses in ksseg (ksseg build, native only) are filled by kernel_fill.
 */
	.globl refill_body
refill_body:
	mfc0	$26, CP0_BADVADDR
	bltz	$26, kernel_fill		/* >= 0x80000000: only ksseg can miss */
	lui	$27, %hi(USER_VA_LIMIT)
	sltu	$27, $26, $27
	beqz	$27, trap_entry			/* outside the page-table window */
	nop
	mfc0	$27, CP0_CONTEXT
	lw	$26, 0($27)
	lw	$27, 8($27)
	mtc0	$26, CP0_ENTRYLO0
	mtc0	$27, CP0_ENTRYLO1
	ehb
	tlbwr
	ehb
	eret

/*
 * Direct map of the ksseg page pair holding BadVAddr ($26) to physical BadVAddr - KSSEG,
 * i.e. ksseg as an alias of kseg0. EntryHi already holds VPN2 (set by the exception).
 * Global, dirty, valid, cached. Reached from the refill vector (kernel touched an unwired
 * ksseg page with EXL = 0; eret resumes the kernel) or from the general vector (the
 * refill handler's page-table load missed with EXL = 1; EPC still holds the user PC, so
 * eret re-executes the user access, which misses again and now finds its PTEs).
 * Never reached in the kseg0 build, nor under a monitor that maps ksseg itself.
 */
kernel_fill:
	lui	$27, 0x1fff
	ori	$27, $27, 0xe000
	and	$26, $26, $27			/* physical address of the even page */
	srl	$26, $26, (PAGE_SHIFT - ELO_PFN_SHIFT)
	ori	$26, $26, (ELO_C_CACHED | ELO_D | ELO_V | ELO_G)
	mtc0	$26, CP0_ENTRYLO0
	addiu	$26, $26, (1 << ELO_PFN_SHIFT)
	mtc0	$26, CP0_ENTRYLO1
	ehb
	tlbwr
	ehb
	eret

	.globl general_body
general_body:
	mfc0	$26, CP0_CAUSE
	andi	$26, $26, CAUSE_EXC_MASK
	addiu	$26, $26, -(EXC_TLBL << CAUSE_EXC_SHIFT)
	sltiu	$26, $26, 8			/* TLBL or TLBS */
	beqz	$26, trap_entry
	nop
	mfc0	$26, CP0_BADVADDR
	bltz	$26, kernel_fill
	nop

/*
 * Save the user context into the current process's trap frame (cur_frame), leave
 * exception level with interrupts off, and call trap_handler(frame) on the kernel stack.
 * It returns the frame to resume (perhaps another process's), which trap_return loads.
 */
	.globl trap_entry
trap_entry:
	lui	$26, %hi(cur_frame)
	lw	$26, %lo(cur_frame)($26)
	SAVE_GPRS
	mfc0	$8, CP0_EPC
	mfc0	$9, CP0_STATUS
	mfc0	$10, CP0_CAUSE
	mfc0	$11, CP0_BADVADDR
	sw	$8, TF_EPC($26)
	sw	$9, TF_STATUS($26)
	sw	$10, TF_CAUSE($26)
	sw	$11, TF_BADVADDR($26)
	move	$4, $26				/* a0 = frame: k0 dies once EXL is clear */
	lui	$29, %hi(kstack_top)
	addiu	$29, $29, %lo(kstack_top)
	mtc0	$0, CP0_STATUS			/* kernel mode, EXL = 0, interrupts off */
	ehb
	jal	trap_handler
	nop
	move	$4, $2
	/* fall through */

/*
 * trap_return(frame): resume the context in frame. Sets Status from the frame (its EXL
 * is 1, so we stay in kernel mode with interrupts masked until eret), then reloads
 * every register. Only wired memory is touched after EXL is set.
 */
	.globl trap_return
trap_return:
	lw	$8, TF_STATUS($4)
	ori	$8, $8, ST_EXL
	mtc0	$8, CP0_STATUS
	ehb
	move	$26, $4
	lw	$8, TF_EPC($26)
	lw	$9, TF_HI($26)
	lw	$10, TF_LO($26)
	mtc0	$8, CP0_EPC
	mthi	$9
	mtlo	$10
	RESTORE_GPRS_BUT_V0_A0
	lw	$2, 8($26)
	lw	$4, 16($26)
	ehb
	eret
