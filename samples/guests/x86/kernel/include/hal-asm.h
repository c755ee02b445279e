/*
 * The native hardware layer's part of trap-entry.S (the PV kernel's include/hal-asm.h shadows
 * it): the ring-0 data selector, one stub per 8259A IRQ (vectors 0x20-0x2F, gates in the IDT:
 * hal.c idt_init), and IRET back to the frame.
 */
#ifndef HAL_ASM_H
#define HAL_ASM_H

#define HAL_KDATA_SEL SEL_KDATA

.macro hal_irq_stubs
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
STUB_NOERR \n
.endr
.endm

.macro hal_irq_vectors
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
        .long   vec\n
.endr
.endm

.macro hal_trap_exit
        iret
.endm

#endif
