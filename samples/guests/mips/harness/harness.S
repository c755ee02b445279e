/*
 * Differential-test harness (test/differential/mips/random.test.ts): runs machine code that the
 * test patches into `test_code`, over data it patches into `test_blocks`, and lets harness.c
 * print every block. The committed image holds an empty program (test_case_count = 0).
 *
 * Each patched case sets $28 to its block (scratch bytes, exception record, register dump),
 * $27 (k1) to the exception record, loads every other register, runs a random sequence, stores
 * all registers and HI/LO into the block, and falls through to the next case; the last one
 * jumps to test_return. Exceptions go to general_exception below (Status.BEV = 0), which
 * records them and resumes after the faulting instruction — or, for a fault in a branch delay
 * slot (Cause.BD), at the case's epilogue, whose address the prologue leaves in the first
 * word of the register dump (block + 272, overwritten by the dump of $0).
 */
        .file   "harness.S"  /* a fixed name, not the temporary object's: reproducible builds */
        .set    noreorder
        .set    noat

/* General exception vector, kseg0 0x80000180 (MIPS32 Vol. III, "Exception Vector Locations"). */
        .section .vectors, "ax", @progbits
        .globl  general_exception
general_exception:
        lw      $26, 0($27)             /* record[0] += 1: exception count */
        addiu   $26, $26, 1
        sw      $26, 0($27)
        mfc0    $26, $13                /* record[1] = Cause.ExcCode << 2 (IP bits vary with timing) */
        andi    $26, $26, 0x7c
        sw      $26, 4($27)
        mfc0    $26, $14                /* record[2] = EPC */
        sw      $26, 8($27)
        mfc0    $26, $13
        andi    $26, $26, 0x78          /* ExcCode 4 (AdEL) or 5 (AdES): 0x10 or 0x14 */
        xori    $26, $26, 0x10
        bnez    $26, 1f
        nop
        mfc0    $26, $8                 /* record[3] = BadVAddr, for address errors only */
        sw      $26, 12($27)
1:      mfc0    $26, $13                /* Cause.BD: the fault was in a delay slot */
        srl     $26, $26, 31
        beqz    $26, 2f
        nop
        lw      $26, 4($27)             /* record[1] |= 1 marks BD */
        ori     $26, $26, 1
        sw      $26, 4($27)
        lw      $26, 16($27)            /* resume at the case's epilogue */
        b       3f
        nop
2:      mfc0    $26, $14                /* resume after the faulting instruction */
        addiu   $26, $26, 4
3:      mtc0    $26, $14
        nop
        nop
        eret
        nop

        .text
/* void run_tests(void): saves the C context, clears BEV/ERL, runs test_code. */
        .globl  run_tests
        .ent    run_tests
run_tests:
        la      $8, saved_context
        sw      $16, 0($8)
        sw      $17, 4($8)
        sw      $18, 8($8)
        sw      $19, 12($8)
        sw      $20, 16($8)
        sw      $21, 20($8)
        sw      $22, 24($8)
        sw      $23, 28($8)
        sw      $28, 32($8)
        sw      $29, 36($8)
        sw      $30, 40($8)
        sw      $31, 44($8)
        mtc0    $0, $12                 /* Status = 0: kernel mode, BEV = 0, ERL = EXL = IE = 0 */
        nop
        nop
        j       test_code
        nop
        .globl  test_return
test_return:
        la      $8, saved_context
        lw      $16, 0($8)
        lw      $17, 4($8)
        lw      $18, 8($8)
        lw      $19, 12($8)
        lw      $20, 16($8)
        lw      $21, 20($8)
        lw      $22, 24($8)
        lw      $23, 28($8)
        lw      $28, 32($8)
        lw      $29, 36($8)
        lw      $30, 40($8)
        lw      $31, 44($8)
        jr      $31
        nop
        .end    run_tests

/* Patched by the test: the generated cases. Empty program: jump straight back. */
        .section .text.tests, "ax", @progbits
        .balign 4
        .globl  test_code
test_code:
        j       test_return
        nop
        .space  (192 * 1024) - 8

        .data
        .balign 4
        .globl  test_case_count
test_case_count:
        .word   0
        .globl  test_block_size
test_block_size:
        .word   512                     /* bytes per case block: see harness.c */
        .balign 16
        .globl  test_blocks
test_blocks:
        .space  128 * 512

        .bss
        .balign 4
saved_context:
        .space  48
