/*
 * Entry of the MIPS sample guests. QEMU's mipssim -kernel (and pvkit's mipssim board) start
 * here in kernel mode with Status = BEV|ERL, every GPR zero and no stack, so: set up $sp
 * (and $gp, although the guests build with -G0), clear .bss, call main, exit with its value.
 */
        .set    noreorder
        .section .text.start, "ax", @progbits
        .globl  _start
        .ent    _start
_start:
        la      $sp, __stack_top
        la      $gp, _gp
        la      $t0, __bss_start
        la      $t1, __bss_end
1:      beq     $t0, $t1, 2f
        nop
        sw      $zero, 0($t0)
        b       1b
        addiu   $t0, $t0, 4
2:      jal     main
        nop
        jal     arch_exit
        move    $a0, $v0
3:      b       3b
        nop
        .end    _start
