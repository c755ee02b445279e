/*
 * Entry, interrupt stubs and the return-to-user path of the x86 kernel sample.
 *
 * Every vector enters through a stub that pushes an error code (0 where the CPU pushes none,
 * Intel SDM vol. 3 table 6-1) and the vector number, then isr_common saves the registers into a
 * struct trapframe (kernel.c) and calls trap(frame). trap returns the frame to resume, which
 * may belong to another process (on its own kernel stack): that is the context switch.
 */
#include "layout.h"

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_FLAGS 0x00000003

        .section .multiboot, "a"
        .p2align 2
        .long   MB_HEADER_MAGIC
        .long   MB_HEADER_FLAGS
        .long   -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

        .section .text.start, "ax"
        .globl  _start
_start:
        movl    $boot_stack_top, %esp
        movl    %eax, %esi
        movl    %ebx, %ebp
        cld
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        xorl    %eax, %eax
        rep stosb
        pushl   %ebp
        pushl   %esi
        call    kmain                   /* never returns */
1:      cli
        hlt
        jmp     1b

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
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,128
STUB_NOERR \n
.endr

isr_common:
        pushal
        pushl   %ds
        pushl   %es
        pushl   %fs
        pushl   %gs
        movl    $SEL_KDATA, %eax
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
        iret

/* void resume(struct trapframe *tf): start running a frame (first entry into user mode). */
        .globl  resume
resume:
        movl    4(%esp), %esp
        jmp     trap_return

/* void load_gdt(const void *gdtr): reload every segment register from the new GDT. */
        .globl  load_gdt
load_gdt:
        movl    4(%esp), %eax
        lgdt    (%eax)
        movl    $SEL_KDATA, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %fs
        movl    %eax, %gs
        movl    %eax, %ss
        ljmp    $SEL_KCODE, $1f
1:      movw    $SEL_TSS, %ax
        ltr     %ax
        ret

/* Stub addresses for the IDT, in vector order (0-47, then 0x80). */
        .section .rodata
        .p2align 2
        .globl  vector_table
vector_table:
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long   vec\n
.endr
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,128
        .long   vec\n
.endr

        .bss
        .p2align 4
        .space  16384
boot_stack_top:
