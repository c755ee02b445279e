/*
 * The sample kernel's system call ABI (MIPS o32 style): v0 = number, a0..a2 =
 * arguments, `syscall`, result in v0 (negative = error). Shared by the kernel and its
 * user programs.
 */
#ifndef SYSCALLS_H
#define SYSCALLS_H

#define SYS_WRITE 1  /* write(buf, len): append to this process's console; returns len */
#define SYS_YIELD 2  /* yield(): give the CPU to the next runnable process */
#define SYS_EXIT 3   /* exit(status): never returns */
#define SYS_GETPID 4 /* getpid(): returns the pid (1 or 2); the null syscall */

#define E_FAULT 14   /* bad user address */
#define E_NOSYS 38   /* unknown syscall number */

/* kbench's argument (a0 at entry): which microbenchmarks to run (main.c proc_config). */
#define KB_SYSCALLS 0x01    /* null syscalls */
#define KB_PAGE_FAULTS 0x02 /* first touch of demand-zero pages */
#define KB_TLB_SWEEP 0x04   /* sweep over more pages than the TLB maps */
#define KB_YIELDS 0x08      /* yield: a context switch when another process is runnable */
#define KB_USER_FAULTS 0x10 /* unaligned load (skipped), null store (killed) */
#define KB_ALL 0x1f

/* Header at the start of every user image (user/crt0.S), read by the kernel loader. */
#define USER_IMAGE_MAGIC 0x55504b56 /* "VKPU" */

#endif
