/*
 * Entry, trap stubs, the event upcall and the return-to-user path of the x86 PV kernel: the PV
 * version of ../kernel/entry.S (README.md "What changed"). The monitor enters _start in ring 1
 * with ESI = start_info (docs/x86-pv-abi.md "Boot"); no multiboot header, no GDT to load.
 *
 * Traps arrive from the monitor's bounce with the frame the CPU would push for a ring-1 handler
 * and the upcall mask set (trap_info flag TI_CLEAR_IF, the PV form of an interrupt gate). The
 * event upcall enters as vector 0x20 (the native kernel's timer IRQ). trap_return unmasks events
 * if the frame's EFLAGS.IF says so and leaves by a real IRET; if an event became pending while
 * masked it leaves by HYPERVISOR_iret instead, after which the monitor delivers the upcall (Xen
 * guests' "iret fast path" does the same check).
 */
#include "../kernel/layout.h"

#define PV_SEL_KDATA 0xe021 /* FLAT_RING1_DS — arch-x86/xen-x86_32.h */
#define __HYPERVISOR_iret 23
/* shared_info is pfn 1, mapped at the virtual base + 4 KiB; vcpu_info[0] is at its start. */
#define VCPU0_PENDING (0xC0000000 + 0x1000 + 0)
#define VCPU0_MASK (0xC0000000 + 0x1000 + 1)

        .section .text.start, "ax"
        .globl  _start
_start:
        movl    $boot_stack_top, %esp
        cld
        movl    %esi, %ebp
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        xorl    %eax, %eax
        rep stosb
        pushl   %ebp
        call    kmain                   /* never returns */
1:      jmp     1b

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
.irp n, 128
STUB_NOERR \n
.endr

/* The event upcall (set_callbacks): the timer's VIRQ, handled as the native timer IRQ 0x20. */
        .globl  upcall_entry
upcall_entry:
        pushl   $0
        pushl   $0x20
        jmp     isr_common

        .globl  failsafe_entry
failsafe_entry:
        ud2

isr_common:
        pushal
        pushl   %ds
        pushl   %es
        pushl   %fs
        pushl   %gs
        movl    $PV_SEL_KDATA, %eax
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
        testl   $0x200, %ss:8(%esp)     /* EFLAGS.IF of the frame: events enabled there? */
        jz      2f
        movb    $0, %ss:VCPU0_MASK      /* virtual STI */
        testb   $0xff, %ss:VCPU0_PENDING
        jnz     3f
2:      iret
3:      movb    $1, %ss:VCPU0_MASK      /* an event waits: HYPERVISOR_iret unmasks and the monitor delivers it */
        pushl   %eax
        movl    $__HYPERVISOR_iret, %eax
        int     $0x82

/* void resume(struct trapframe *tf): start running a frame (first entry into user mode). */
        .globl  resume
resume:
        movl    4(%esp), %esp
        jmp     trap_return

/* Stub addresses for set_trap_table, in vector order (0-31, then 0x80). */
        .section .rodata
        .p2align 2
        .globl  vector_table
vector_table:
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long   vec\n
.endr
        .long   vec128

        .bss
        .p2align 4
        .space  16384
boot_stack_top:
