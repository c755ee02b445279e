/**
 * Xen's x86_32 PV CPU and MMU interface values (2-level paging, "xen-3.0-x86_32"): the flat
 * selectors of the hypervisor's GDT, update_va_mapping flags, trap_info flags and the iret frame.
 *
 * Sources (xen-project/xen, xen/include/public/): arch-x86/xen-x86_32.h (FLAT_RING1_CS 0xe019,
 * FLAT_RING1_DS 0xe021, FLAT_RING3_CS 0xe02b, FLAT_RING3_DS 0xe033, TRAP_INSTR "int $0x82", the
 * non-PAE HYPERVISOR_VIRT_START 0xFC000000 of Xen 3.x), arch-x86/xen.h (struct trap_info and the
 * TI_GET_DPL/TI_GET_IF macros), xen.h (UVMF_*), xen/arch/x86/x86_32/traps.c do_iret (the frame
 * HYPERVISOR_iret pops on x86_32). Where pvkit differs it says so (docs/x86-pv-abi.md).
 */

/** The flat segments in the hypervisor-owned part of every PV GDT — arch-x86/xen-x86_32.h. */
export const FlatSelector = {
  RING1_CS: 0xe019,
  RING1_DS: 0xe021,
  RING1_SS: 0xe021,
  RING3_CS: 0xe02b,
  RING3_DS: 0xe033,
  RING3_SS: 0xe033,
} as const;

/**
 * Start of the hypervisor's hole: guest segments end below it and guests can map nothing there.
 * Xen 3.x non-PAE uses 0xFC000000 (64 MiB); pvkit reuses the VMware-style monitor's hole, the top
 * 4 MiB (0xFFC00000, page-directory slot 1023) — docs/x86-pv-abi.md "Memory layout".
 */
export const PVKIT_X86_HYPERVISOR_VIRT_START = 0xffc00000;
/** Xen's own value, for reference (arch-x86/xen-x86_32.h, non-PAE). */
export const XEN_X86_32_NONPAE_HYPERVISOR_VIRT_START = 0xfc000000;
/**
 * Where the pvkit x86 PV domain builder maps pseudo-physical frame 0 (the kernel's virtual base;
 * Xen reads it from the kernel's ELF notes — pvkit fixes it: docs/x86-pv-abi.md).
 */
export const PVKIT_X86_PV_VIRT_BASE = 0xc0000000;

/** `UVMF_*`: update_va_mapping flags — xen.h. */
export const Uvmf = {
  NONE: 0,
  TLB_FLUSH: 1,
  INVLPG: 2,
  FLUSHTYPE_MASK: 3,
  MULTI: 0,
  LOCAL: 0,
  ALL: 4,
} as const;

/** trap_info.flags: bits 0–1 the DPL a software INT needs, bit 2 "clear event enable" — arch-x86/xen.h. */
export const TrapInfoFlags = { DPL_MASK: 3, CLEAR_IF: 4 } as const;

/** Most trap_info entries one set_trap_table call reads (one per vector, plus the terminator). */
export const TRAP_TABLE_MAX = 256;
