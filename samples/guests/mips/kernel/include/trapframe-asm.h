/*
 * The trap frame's register save and restore, shared by the native kernel's and the PV kernel's trap_entry
 * (vectors.S): the two differ in how they leave exception level and return, not in this.
 * SAVE_GPRS stores $1-$25, $28-$31, HI and LO into the frame at $26 (k0); it uses $8/$9 for
 * HI/LO after saving them. RESTORE_GPRS_BUT_V0_A0 reloads all of them from the frame at $26
 * except v0/a0, which the PV kernel's return hypercall needs (it parks them in k0/k1; the native
 * kernel loads them itself). Offsets: struct trapframe (kernel.h, layout.h TF_*).
 */
#ifndef TRAPFRAME_ASM_H
#define TRAPFRAME_ASM_H

	.macro	SAVE_GPRS
	sw	$1, 4($26)
	sw	$2, 8($26)
	sw	$3, 12($26)
	sw	$4, 16($26)
	sw	$5, 20($26)
	sw	$6, 24($26)
	sw	$7, 28($26)
	sw	$8, 32($26)
	sw	$9, 36($26)
	sw	$10, 40($26)
	sw	$11, 44($26)
	sw	$12, 48($26)
	sw	$13, 52($26)
	sw	$14, 56($26)
	sw	$15, 60($26)
	sw	$16, 64($26)
	sw	$17, 68($26)
	sw	$18, 72($26)
	sw	$19, 76($26)
	sw	$20, 80($26)
	sw	$21, 84($26)
	sw	$22, 88($26)
	sw	$23, 92($26)
	sw	$24, 96($26)
	sw	$25, 100($26)
	sw	$28, 112($26)
	sw	$29, 116($26)
	sw	$30, 120($26)
	sw	$31, 124($26)
	mfhi	$8
	mflo	$9
	sw	$8, TF_HI($26)
	sw	$9, TF_LO($26)
	.endm

	.macro	RESTORE_GPRS_BUT_V0_A0
	lw	$1, 4($26)
	lw	$3, 12($26)
	lw	$5, 20($26)
	lw	$6, 24($26)
	lw	$7, 28($26)
	lw	$8, 32($26)
	lw	$9, 36($26)
	lw	$10, 40($26)
	lw	$11, 44($26)
	lw	$12, 48($26)
	lw	$13, 52($26)
	lw	$14, 56($26)
	lw	$15, 60($26)
	lw	$16, 64($26)
	lw	$17, 68($26)
	lw	$18, 72($26)
	lw	$19, 76($26)
	lw	$20, 80($26)
	lw	$21, 84($26)
	lw	$22, 88($26)
	lw	$23, 92($26)
	lw	$24, 96($26)
	lw	$25, 100($26)
	lw	$28, 112($26)
	lw	$29, 116($26)
	lw	$30, 120($26)
	lw	$31, 124($26)
	.endm

#endif
