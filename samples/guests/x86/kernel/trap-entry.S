/*
 * Trap stubs, the common trap path and the return to the interrupted frame, shared by the
 * native kernel and the PV kernel; the differences come from <hal-asm.h> (include/hal-asm.h
 * natively, ../pv-kernel/include/hal-asm.h in the PV build): the kernel data selector, the
 * external-interrupt entries (hal_irq_stubs, hal_irq_vectors) and how a frame is left
 * (hal_trap_exit).
 *
 * Every vector enters through a stub that pushes an error code (0 where the CPU pushes none,
 * Intel SDM vol. 3 table 6-1) and the vector number, then isr_common saves the registers into a
 * struct trapframe (include/kernel.h) and calls trap(frame). trap returns the frame to resume,
 * which may belong to another process (on its own kernel stack): that is the context switch.
 */
#include "layout.h"
#include <hal-asm.h>

/* Stubs: vectors with a CPU error code: 8, 10-14, 17. */
.macro STUB_NOERR n
        .p2align 2
vec\n:  pushl   $0
        pushl   $\n
        jmp     isr_common
.endm
.macro STUB_ERR n
        .p2align 2
vec\n:  pushl   $\n
        jmp     isr_common
.endm

        .text
.irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,21,22,23,24,25,26,27,28,29,30,31
STUB_NOERR \n
.endr
.irp n, 8,10,11,12,13,14,17
STUB_ERR \n
.endr
        hal_irq_stubs
STUB_NOERR 128

isr_common:
        pushal
        pushl   %ds
        pushl   %es
        pushl   %fs
        pushl   %gs
        movl    $HAL_KDATA_SEL, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %fs
        movl    %eax, %gs
        pushl   %esp
        call    trap
        movl    %eax, %esp              /* the frame to resume: maybe another process's */
        .globl  trap_return
trap_return:
        popl    %gs
        popl    %fs
        popl    %es
        popl    %ds
        popal
        addl    $8, %esp                /* vector and error code */
        hal_trap_exit

/* void resume(struct trapframe *tf): start running a frame (first entry into user mode). */
        .globl  resume
resume:
        movl    4(%esp), %esp
        jmp     trap_return

/* Stub addresses in vector order: 0-31, the external interrupts' (if any), then 0x80. */
        .section .rodata
        .p2align 2
        .globl  vector_table
vector_table:
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long   vec\n
.endr
        hal_irq_vectors
        .long   vec128
