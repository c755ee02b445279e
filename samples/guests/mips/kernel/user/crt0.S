/*
 * User program start-up. The header is read by the kernel's loader (vm.c,
 * struct image_header); the kernel sets sp and enters _start in user mode.
 */
#include "syscalls.h"

	.set noreorder

	.section .header, "a"
	.word	USER_IMAGE_MAGIC
	.word	_start
	.word	__text_end
	.word	__load_end
	.word	_end

	.text
	.globl _start
_start:					/* a0 = the argument from the kernel's proc_config */
	jal	main
	nop
	jal	user_exit			/* flushes buffered output, SYS_EXIT */
	move	$4, $2
1:	b	1b
	nop
