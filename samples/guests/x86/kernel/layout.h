/*
 * Memory layout and ABI of the x86 kernel sample, shared by kernel and user code.
 *
 * Physical: kernel image at 1 MiB; page frames for page directories, page tables, user pages
 * from FRAME_BASE to FRAME_END. Virtual (every address space): 0..16 MiB identity-mapped for
 * the kernel (supervisor only); user programs linked at USER_BASE; user stack below USER_TOP.
 */
#ifndef PVKIT_X86_KERNEL_LAYOUT_H
#define PVKIT_X86_KERNEL_LAYOUT_H

#define KERNEL_MAP_END 0x01000000u /* identity map, supervisor */
#define FRAME_BASE 0x00400000u     /* page-frame pool: 4 MiB .. 16 MiB */
#define FRAME_END 0x01000000u
#define USER_BASE 0x40000000u /* user image (PD entry 256) */
#define USER_TOP 0x80000000u  /* top of the user stack (PD entry 511) */
#define USER_STACK_PAGES 16   /* the stack may grow this far, demand-zero */

/* User image header (user/crt0.S): what the kernel needs to map a flat binary. */
#define USER_MAGIC 0x55564b50 /* "PKVU" little endian */

/* Segment selectors (GDT order in kernel.c). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE (0x18 | 3)
#define SEL_UDATA (0x20 | 3)
#define SEL_TSS 0x28

/* System calls: int 0x80, EAX = number, EBX/ECX = arguments, EAX = result. */
#define SYSCALL_VECTOR 0x80
#define SYS_EXIT 0
#define SYS_WRITE 1
#define SYS_GETPID 2
#define SYS_YIELD 3

#endif
