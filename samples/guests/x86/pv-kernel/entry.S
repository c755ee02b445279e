/*
 * Boot entry of the x86 PV kernel: the monitor enters _start in ring 1 with ESI = start_info
 * (docs/x86-pv-abi.md "Boot"); no multiboot header, no GDT to load. Boot stack, .bss clear,
 * kmain(start_info, 0). The trap stubs, the event upcall and the return path are the native
 * kernel's ../kernel/trap-entry.S with include/hal-asm.h (README.md "What changed").
 */
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
        pushl   $0
        pushl   %ebp
        call    kmain                   /* never returns */
1:      jmp     1b

        .bss
        .p2align 4
        .space  16384
boot_stack_top:
