/*
 * The PV hardware layer's part of ../kernel/trap-entry.S (shadows the native
 * include/hal-asm.h): Xen's ring-1 data selector, the event upcall and failsafe entries
 * instead of 8259A IRQ stubs, and the return path that honours the virtual IF.
 *
 * Traps arrive from the monitor's bounce with the frame the CPU would push for a ring-1 handler
 * and the upcall mask set (trap_info flag TI_CLEAR_IF, the PV form of an interrupt gate). The
 * event upcall enters as vector 0x20 (the native kernel's timer IRQ). hal_trap_exit unmasks
 * events if the frame's EFLAGS.IF says so and leaves by a real IRET; if an event became pending
 * while masked it leaves by HYPERVISOR_iret instead, after which the monitor delivers the
 * upcall (Xen guests' "iret fast path" does the same check).
 */
#ifndef HAL_ASM_H
#define HAL_ASM_H

#define HAL_KDATA_SEL 0xe021 /* FLAT_RING1_DS — arch-x86/xen-x86_32.h */
#define __HYPERVISOR_iret 23
/* shared_info is pfn 1, mapped at the virtual base + 4 KiB; vcpu_info[0] is at its start. */
#define VCPU0_PENDING (0xC0000000 + 0x1000 + 0)
#define VCPU0_MASK (0xC0000000 + 0x1000 + 1)

/* The event upcall (set_callbacks): the timer's VIRQ, handled as the native timer IRQ 0x20. */
.macro hal_irq_stubs
        .globl  upcall_entry
upcall_entry:
        pushl   $0
        pushl   $0x20
        jmp     isr_common

        .globl  failsafe_entry
failsafe_entry:
        ud2
.endm

/* No external-interrupt gates: set_trap_table takes vectors 0-31 and 0x80. */
.macro hal_irq_vectors
.endm

.macro hal_trap_exit
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
.endm

#endif
