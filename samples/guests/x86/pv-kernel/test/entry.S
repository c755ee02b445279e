/*
 * Entry, trap stubs, the event upcall entry and the ring-3 code of the x86 PV test guest
 * (docs/x86-pv-abi.md). The monitor starts _start in ring 1 with ESI = start_info and ESP on a
 * boot stack; trap handlers are entered with the frame a ring-1 handler gets from the CPU
 * ([error,] EIP, CS, EFLAGS[, ESP, SS]) and return with HYPERVISOR_iret (push %eax; mov $23,
 * %eax; int $0x82 — Xen's x86_32 hypercall-page iret) or a real IRET.
 */
#define __HYPERVISOR_iret 23

        .section .text.start, "ax"
        .globl _start
_start:
        movl    $kstack_top, %esp
        pushl   %esi
        call    pv_main
1:      jmp     1b

/* Return to the interrupted context through HYPERVISOR_iret (restores the upcall mask from EFLAGS.IF). */
        .macro  XEN_IRET
        pushl   %eax
        movl    $__HYPERVISOR_iret, %eax
        int     $0x82
        .endm

        .text
/* #PF and #GP: error code on the stack. */
        .globl  pf_entry
pf_entry:
        pushal
        pushl   %esp
        call    pf_handler
        addl    $4, %esp
        popal
        addl    $4, %esp
        XEN_IRET

        .globl  gp_entry
gp_entry:
        pushal
        pushl   %esp
        call    gp_handler
        addl    $4, %esp
        popal
        addl    $4, %esp
        XEN_IRET

/* int $0x80 (DPL 3): returns with a real IRET (ring 1 -> ring 3 or ring 1 -> ring 1). */
        .globl  syscall_entry
syscall_entry:
        pushal
        pushl   %esp
        call    syscall_handler
        addl    $4, %esp
        popal
        iret

/* The event upcall (set_callbacks): entered with the upcall mask set. */
        .globl  upcall_entry
upcall_entry:
        pushal
        call    upcall_handler
        popal
        XEN_IRET

        .globl  failsafe_entry
failsafe_entry:
        ud2

/* Ring-3 code, copied to the user page at 0x40000000 (position independent). */
        .globl  user_code, user_code_end
user_code:
        movl    $1, %eax
        movl    $0x1234, %ebx
        int     $0x80           /* SYS 1: print EBX and CS */
        cli                     /* #GP from ring 3: skipped by gp_handler */
        int     $0x82           /* hypercall vector from ring 3: #GP(0x412), skipped */
        movl    $0x40000800, %ecx
        movl    $7, (%ecx)      /* a store into its own page: fine */
        movl    $0x40100000, %ecx
        movl    (%ecx), %edx    /* unmapped: #PF (error 4), demand-zero by pf_handler */
        movl    $2, %eax
        int     $0x80           /* SYS 2: back to the kernel for good */
2:      jmp     2b
user_code_end:

        .bss
        .align  16
        .space  16384
kstack_top:
