/*
 * Memory map and constants shared by the kernel's C and assembly sources.
 * KVA_BASE is set by build.sh: 0x80000000 for the kseg0 build, 0xC0000000 for the
 * ksseg build (kernel relinked into ksseg, Disco-style). In both builds a kernel virtual
 * address is KVA_BASE + physical address, so the ksseg build uses ksseg exactly as an
 * alias of kseg0 (DESIGN.md, "Full virtualization / MIPS (Disco)").
 */
#ifndef LAYOUT_H
#define LAYOUT_H

#ifndef KVA_BASE
#error "KVA_BASE must be defined by the build (0x80000000 or 0xC0000000)"
#endif

/* The PV kernel's image starts at physical KIMG_PHYS: pfns 0-3 hold start_info, shared_info
   and the store and console rings, pfn 4 the privileged-register page (docs/mips-pv-abi.md). */
#define KIMG_PHYS 0x00010000

#define PHYS_TO_KVA(p) ((p) + KVA_BASE)
#define KVA_TO_PHYS(v) ((v) - KVA_BASE)

/* Page size: 4 KiB pages, TLB entries map an even/odd pair (8 KiB). */
#define PAGE_SHIFT 12
#define PAGE_SIZE 0x1000

/*
 * Per-process page tables, one per pid, 8 MiB aligned because Context.PTEBase holds
 * bits 31..23 of the table's kernel virtual address. Each 4 KiB page has an 8-byte
 * PTE {EntryLo word, software word}, so Context = PTEBase | BadVPN2 << 4 points
 * straight at the EntryLo0/EntryLo1 pair. Only the first PT_BYTES are used: user
 * virtual addresses are limited to [0, USER_VA_LIMIT).
 */
#define PT_PHYS(pid) (0x00800000 * (pid))
#define USER_VA_LIMIT 0x00800000
#define PT_BYTES ((USER_VA_LIMIT >> PAGE_SHIFT) * 8)

/* Physical frames handed to user processes: [FRAME_POOL_BASE, FRAME_POOL_END). */
#define FRAME_POOL_BASE 0x00200000
#define FRAME_POOL_END 0x00800000

/* User address space of every process. */
#define USER_IMAGE_BASE 0x00400000
#define USER_STACK_TOP USER_VA_LIMIT
#define USER_STACK_SIZE 0x00010000

/* The ISA window (physical 0x1FD00000) seen through kseg1; port N is at +N. */
#define ISA_BASE 0xBFD00000
#define UART_PORT 0x3F8
#define EXIT_PORT 0x501

/* Default timer quantum in Count ticks (Count runs at half the pipeline clock); the kernel
   reads it from the variable timer_interval (trap.c). */
#define TIMER_INTERVAL 40000

/* Trap frame offsets (struct trapframe in kernel.h): r1..r31 at 4*n. */
#define TF_HI 128
#define TF_LO 132
#define TF_EPC 136
#define TF_STATUS 140
#define TF_CAUSE 144
#define TF_BADVADDR 148
#define TF_SIZE 152

/* Kernel stack (single: the kernel never blocks, every trap starts from the top). */
#define KSTACK_SIZE 0x2000

#endif
