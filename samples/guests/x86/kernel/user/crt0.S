/*
 * Start of a user program of the x86 kernel sample: the image header the kernel reads
 * (layout.h, struct user_header), then _start. The kernel enters in ring 3 with ESP at the top
 * of a demand-zero stack and .bss unmapped (demand-zero), so nothing needs clearing.
 */
#include "../layout.h"

        .section .header, "a"
        .long   USER_MAGIC
        .long   _start
        .long   __text_end
        .long   __data_end
        .long   __bss_end

        .section .text.start, "ax"
        .globl  _start
_start:
        call    main
        pushl   %eax
        call    user_exit
1:      jmp     1b
