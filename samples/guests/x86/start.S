/*
 * Entry of the x86 sample guests, booted by Multiboot v1 (QEMU -kernel, pvkit's PC board):
 * 32-bit protected mode, flat segments, paging off, interrupts off, EAX = 0x2BADB002,
 * EBX = physical address of the multiboot info, ESP undefined (Multiboot 0.6.96, section 3.2
 * "Machine state"). So: set up a stack, clear .bss, record EAX/EBX for the guest, call main,
 * exit with its value.
 */
#define MB_HEADER_MAGIC 0x1BADB002
/* Flags: bit 0 page-align modules, bit 1 memory info wanted. Normally no bit 16: the ELF
   headers say where to load. Built with -DAOUT_KLUDGE (hello-aout.elf), bit 16 is set and the
   header's address fields place the image instead (Multiboot 0.6.96, 3.1.3): the loader then
   treats the file as a flat image whose bytes at the header's file offset are header_addr. */
#ifdef AOUT_KLUDGE
#define MB_HEADER_FLAGS 0x00010003
#else
#define MB_HEADER_FLAGS 0x00000003
#endif

        .section .multiboot, "a"
        .p2align 2
multiboot_header:
        .long   MB_HEADER_MAGIC
        .long   MB_HEADER_FLAGS
        .long   -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)
#ifdef AOUT_KLUDGE
        .long   multiboot_header        /* header_addr */
        .long   multiboot_header        /* load_addr: the image starts with the header */
        .long   __data_end              /* load_end_addr: end of the file-backed bytes */
        .long   __bss_end               /* bss_end_addr */
        .long   _start                  /* entry_addr */
#endif

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
