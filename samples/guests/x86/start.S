/*
 * Entry of the x86 sample guests, booted by Multiboot v1 (QEMU -kernel, pvkit's PC board):
 * 32-bit protected mode, flat segments, paging off, interrupts off, EAX = 0x2BADB002,
 * EBX = physical address of the multiboot info, ESP undefined (Multiboot 0.6.96, section 3.2
 * "Machine state"). So: set up a stack, clear .bss, record EAX/EBX for the guest, call main,
 * exit with its value.
 */
#define MB_HEADER_MAGIC 0x1BADB002
/* Flags: bit 0 page-align modules, bit 1 memory info wanted. No bit 16: the ELF headers say
   where to load (the a.out kludge is not used). */
#define MB_HEADER_FLAGS 0x00000003

        .section .multiboot, "a"
        .p2align 2
        .long   MB_HEADER_MAGIC
        .long   MB_HEADER_FLAGS
        .long   -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

        .section .text.start, "ax"
        .globl  _start
        .type   _start, @function
_start:
        movl    $__stack_top, %esp
        movl    %eax, %esi              /* the magic and info pointer survive the .bss clear */
        movl    %ebx, %ebp
        cld
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        xorl    %eax, %eax
        rep stosb
        movl    %esi, multiboot_magic
        movl    %ebp, multiboot_info
        call    main
        pushl   %eax
        call    arch_exit
1:      hlt
        jmp     1b
        .size   _start, . - _start

        .data
        .p2align 2
        .globl  multiboot_magic, multiboot_info
multiboot_magic: .long 0
multiboot_info:  .long 0
