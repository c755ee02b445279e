/*
 * uart-echo's exception entry: the general vector (kseg0 0x80000180, Status.BEV = 0) saves the
 * registers C code may clobber on a private frame, calls irq_handler() on a private stack and
 * returns with ERET. Only UART interrupts (Cause.IP4) are enabled.
 */
        .file   "vectors.S"
        .set    noreorder
        .set    noat

        .section .vectors, "ax", @progbits
        .globl  general_exception
general_exception:
        j       exception_entry
        nop

        .text
        .ent    exception_entry
exception_entry:
        lui     $26, %hi(exc_frame)
        addiu   $26, $26, %lo(exc_frame)
        sw      $1, 0($26)
        sw      $2, 4($26)
        sw      $3, 8($26)
        sw      $4, 12($26)
        sw      $5, 16($26)
        sw      $6, 20($26)
        sw      $7, 24($26)
        sw      $8, 28($26)
        sw      $9, 32($26)
        sw      $10, 36($26)
        sw      $11, 40($26)
        sw      $12, 44($26)
        sw      $13, 48($26)
        sw      $14, 52($26)
        sw      $15, 56($26)
        sw      $24, 60($26)
        sw      $25, 64($26)
        sw      $31, 68($26)
        sw      $29, 72($26)
        mfhi    $2
        sw      $2, 76($26)
        mflo    $2
        sw      $2, 80($26)
        lui     $29, %hi(exc_stack_top)
        jal     irq_handler
        addiu   $29, $29, %lo(exc_stack_top)
        lui     $26, %hi(exc_frame)
        addiu   $26, $26, %lo(exc_frame)
        lw      $2, 76($26)
        mthi    $2
        lw      $2, 80($26)
        mtlo    $2
        lw      $1, 0($26)
        lw      $2, 4($26)
        lw      $3, 8($26)
        lw      $4, 12($26)
        lw      $5, 16($26)
        lw      $6, 20($26)
        lw      $7, 24($26)
        lw      $8, 28($26)
        lw      $9, 32($26)
        lw      $10, 36($26)
        lw      $11, 40($26)
        lw      $12, 44($26)
        lw      $13, 48($26)
        lw      $14, 52($26)
        lw      $15, 56($26)
        lw      $24, 60($26)
        lw      $25, 64($26)
        lw      $31, 68($26)
        lw      $29, 72($26)
        eret
        nop
        .end    exception_entry

        .globl  set_status
        .ent    set_status
set_status:                             /* void set_status(uint32_t): CP0 Status = a0 */
        mtc0    $4, $12
        nop
        nop
        jr      $31
        nop
        .end    set_status

        .bss
        .balign 8
exc_frame:
        .space  96
exc_stack:
        .space  2048
exc_stack_top:
