/*
 * Boot entry of the native x86 kernel sample: the multiboot v1 header, the boot stack, .bss
 * clear, kmain(magic, info); and load_gdt. The trap stubs and the return path are in
 * trap-entry.S (shared with the PV kernel).
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

        .text
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

        .bss
        .p2align 4
        .space  16384
boot_stack_top:
