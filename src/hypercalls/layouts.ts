/**
 * The shared structures of the hypercall ABI, declared once and laid out per arch.
 *
 * x86_32 layouts are Xen's (sources below, xen-project/xen xen/include/public/); pvkit checks
 * the computed offsets against the values Xen's headers imply in test/hypercalls and against a
 * compiled C struct where the cross compilers exist. MIPS layouts are pvkit's own (Xen defines
 * no MIPS ABI, see docs/mips-pv-abi.md): the same C declarations compiled for MIPS o32, with
 * MIPS-specific `arch` members, so a PV kernel can share its event code between the two.
 */
import {
  ABI_I386,
  ABI_MIPS_O32,
  type Abi,
  layoutStruct,
  type StructLayout,
  type StructSpec,
} from "./struct.js";

const u32x = (count: number) => ({ array: "u32", count }) as const;
const u8x = (count: number) => ({ array: "u8", count }) as const;
const S = (spec: StructSpec) => ({ struct: spec }) as const;

/** Size of start_info.magic and cmd_line — xen.h (MAX_GUEST_CMDLINE 1024). */
export const MAX_GUEST_CMDLINE = 1024;
/** vcpu_info slots in shared_info (XEN_LEGACY_MAX_VCPUS on x86) — arch-x86/xen.h. */
export const LEGACY_MAX_VCPUS = 32;

/*
 * struct vcpu_time_info {                 — xen.h
 *     uint32_t version; uint32_t pad0;
 *     uint64_t tsc_timestamp;             TSC at last update of time vals
 *     uint64_t system_time;               ns since boot
 *     uint32_t tsc_to_system_mul; int8_t tsc_shift; uint8_t flags; uint8_t pad1[2];
 * };  32 bytes
 */
export const VcpuTimeInfoSpec: StructSpec = {
  name: "vcpu_time_info",
  fields: [
    ["version", "u32"],
    ["pad0", "u32"],
    ["tsc_timestamp", "u64"],
    ["system_time", "u64"],
    ["tsc_to_system_mul", "u32"],
    ["tsc_shift", "i8"],
    ["flags", "u8"],
    ["pad1", u8x(2)],
  ],
};

/* struct arch_vcpu_info { unsigned long cr2; unsigned long pad[5]; } — arch-x86/xen-x86_32.h (sizeof(vcpu_info_t) == 64) */
const ArchVcpuInfoX86: StructSpec = {
  name: "arch_vcpu_info",
  fields: [
    ["cr2", "u32"],
    ["pad", u32x(5)],
  ],
};
/* pvkit MIPS: BadVAddr of the last reflected address fault plays cr2's role; same size. */
const ArchVcpuInfoMips: StructSpec = {
  name: "arch_vcpu_info",
  fields: [
    ["badvaddr", "u32"],
    ["pad", u32x(5)],
  ],
};

/*
 * struct vcpu_info {                      — xen.h
 *     uint8_t evtchn_upcall_pending; uint8_t evtchn_upcall_mask;
 *     xen_ulong_t evtchn_pending_sel;     32 bits on x86_32
 *     struct arch_vcpu_info arch; struct vcpu_time_info time;
 * };  64 bytes
 */
function vcpuInfoSpec(arch: StructSpec): StructSpec {
  return {
    name: "vcpu_info",
    fields: [
      ["evtchn_upcall_pending", "u8"],
      ["evtchn_upcall_mask", "u8"],
      ["evtchn_pending_sel", "u32"],
      ["arch", S(arch)],
      ["time", S(VcpuTimeInfoSpec)],
    ],
  };
}

/*
 * struct arch_shared_info {               — arch-x86/xen.h
 *     unsigned long max_pfn; xen_pfn_t pfn_to_mfn_frame_list_list; unsigned long nmi_reason;
 *     unsigned long p2m_cr3; unsigned long p2m_vaddr; unsigned long p2m_generation;
 *     uint32_t wc_sec_hi;                 #ifdef __i386__
 * };
 */
const ArchSharedInfoX86: StructSpec = {
  name: "arch_shared_info",
  fields: [
    ["max_pfn", "u32"],
    ["pfn_to_mfn_frame_list_list", "u32"],
    ["nmi_reason", "u32"],
    ["p2m_cr3", "u32"],
    ["p2m_vaddr", "u32"],
    ["p2m_generation", "u32"],
    ["wc_sec_hi", "u32"],
  ],
};
/* pvkit MIPS: same size; privregs_pfn locates the privileged-register page (docs/mips-pv-abi.md). */
const ArchSharedInfoMips: StructSpec = {
  name: "arch_shared_info",
  fields: [
    ["max_pfn", "u32"],
    ["privregs_pfn", "u32"],
    ["pad", u32x(4)],
    ["wc_sec_hi", "u32"],
  ],
};

/*
 * struct shared_info {                    — xen.h
 *     struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
 *     xen_ulong_t evtchn_pending[sizeof(xen_ulong_t) * 8];
 *     xen_ulong_t evtchn_mask[sizeof(xen_ulong_t) * 8];
 *     uint32_t wc_version; uint32_t wc_sec; uint32_t wc_nsec;   (wc_sec_hi lives in arch on i386)
 *     struct arch_shared_info arch;
 * };
 */
function sharedInfoSpec(vcpuInfo: StructSpec, arch: StructSpec): StructSpec {
  return {
    name: "shared_info",
    fields: [
      ["vcpu_info", { array: S(vcpuInfo), count: LEGACY_MAX_VCPUS }],
      ["evtchn_pending", u32x(32)],
      ["evtchn_mask", u32x(32)],
      ["wc_version", "u32"],
      ["wc_sec", "u32"],
      ["wc_nsec", "u32"],
      ["arch", S(arch)],
    ],
  };
}

/*
 * struct start_info {                     — xen.h
 *     char magic[32]; unsigned long nr_pages; unsigned long shared_info; uint32_t flags;
 *     xen_pfn_t store_mfn; uint32_t store_evtchn;
 *     union { struct { xen_pfn_t mfn; uint32_t evtchn; } domU;
 *             struct { uint32_t info_off; uint32_t info_size; } dom0; } console;
 *     unsigned long pt_base, nr_pt_frames, mfn_list, mod_start, mod_len;
 *     int8_t cmd_line[MAX_GUEST_CMDLINE];
 *     unsigned long first_p2m_pfn, nr_p2m_frames;
 * };
 * On MIPS (auto-translated) the frame fields carry guest frame numbers and shared_info a
 * guest-physical address; see docs/mips-pv-abi.md.
 */
export const StartInfoSpec: StructSpec = {
  name: "start_info",
  fields: [
    ["magic", u8x(32)],
    ["nr_pages", "u32"],
    ["shared_info", "u32"],
    ["flags", "u32"],
    ["store_mfn", "u32"],
    ["store_evtchn", "u32"],
    [
      "console",
      {
        union: {
          name: "start_info_console",
          fields: [
            [
              "domU",
              S({
                name: "start_info_console_domU",
                fields: [
                  ["mfn", "u32"],
                  ["evtchn", "u32"],
                ],
              }),
            ],
            [
              "dom0",
              S({
                name: "start_info_console_dom0",
                fields: [
                  ["info_off", "u32"],
                  ["info_size", "u32"],
                ],
              }),
            ],
          ],
        },
      },
    ],
    ["pt_base", "u32"],
    ["nr_pt_frames", "u32"],
    ["mfn_list", "u32"],
    ["mod_start", "u32"],
    ["mod_len", "u32"],
    ["cmd_line", u8x(MAX_GUEST_CMDLINE)],
    ["first_p2m_pfn", "u32"],
    ["nr_p2m_frames", "u32"],
  ],
};

// --- event_channel.h argument structures -------------------------------------------------

/* struct evtchn_alloc_unbound { domid_t dom, remote_dom; evtchn_port_t port; } */
export const EvtchnAllocUnboundSpec: StructSpec = {
  name: "evtchn_alloc_unbound",
  fields: [
    ["dom", "u16"],
    ["remote_dom", "u16"],
    ["port", "u32"],
  ],
};
/* struct evtchn_bind_interdomain { domid_t remote_dom; evtchn_port_t remote_port; evtchn_port_t local_port; } */
export const EvtchnBindInterdomainSpec: StructSpec = {
  name: "evtchn_bind_interdomain",
  fields: [
    ["remote_dom", "u16"],
    ["remote_port", "u32"],
    ["local_port", "u32"],
  ],
};
/* struct evtchn_bind_virq { uint32_t virq; uint32_t vcpu; evtchn_port_t port; } */
export const EvtchnBindVirqSpec: StructSpec = {
  name: "evtchn_bind_virq",
  fields: [
    ["virq", "u32"],
    ["vcpu", "u32"],
    ["port", "u32"],
  ],
};
/* struct evtchn_bind_ipi { uint32_t vcpu; evtchn_port_t port; } */
export const EvtchnBindIpiSpec: StructSpec = {
  name: "evtchn_bind_ipi",
  fields: [
    ["vcpu", "u32"],
    ["port", "u32"],
  ],
};
/* struct evtchn_close / evtchn_send / evtchn_unmask { evtchn_port_t port; } */
export const EvtchnPortSpec: StructSpec = { name: "evtchn_send", fields: [["port", "u32"]] };
export const EvtchnCloseSpec: StructSpec = { name: "evtchn_close", fields: [["port", "u32"]] };
export const EvtchnUnmaskSpec: StructSpec = { name: "evtchn_unmask", fields: [["port", "u32"]] };
/* struct evtchn_reset { domid_t dom; } */
export const EvtchnResetSpec: StructSpec = { name: "evtchn_reset", fields: [["dom", "u16"]] };
/*
 * struct evtchn_status { domid_t dom; evtchn_port_t port; uint32_t status; uint32_t vcpu;
 *     union { struct { domid_t dom; } unbound; struct { domid_t dom; evtchn_port_t port; } interdomain;
 *             uint32_t pirq; uint32_t virq; } u; }
 */
export const EvtchnStatusSpec: StructSpec = {
  name: "evtchn_status",
  fields: [
    ["dom", "u16"],
    ["port", "u32"],
    ["status", "u32"],
    ["vcpu", "u32"],
    [
      "u",
      {
        union: {
          name: "evtchn_status_u",
          fields: [
            ["unbound", S({ name: "evtchn_status_unbound", fields: [["dom", "u16"]] })],
            [
              "interdomain",
              S({
                name: "evtchn_status_interdomain",
                fields: [
                  ["dom", "u16"],
                  ["port", "u32"],
                ],
              }),
            ],
            ["pirq", "u32"],
            ["virq", "u32"],
          ],
        },
      },
    ],
  ],
};

// --- sched.h ---------------------------------------------------------------------------------

/* struct sched_shutdown { unsigned int reason; } */
export const SchedShutdownSpec: StructSpec = { name: "sched_shutdown", fields: [["reason", "u32"]] };
/* struct sched_poll { XEN_GUEST_HANDLE(evtchn_port_t) ports; unsigned int nr_ports; uint64_t timeout; } */
export const SchedPollSpec: StructSpec = {
  name: "sched_poll",
  fields: [
    ["ports", "u32"],
    ["nr_ports", "u32"],
    ["timeout", "u64"],
  ],
};
/* struct sched_remote_shutdown { domid_t domain_id; unsigned int reason; } */
export const SchedRemoteShutdownSpec: StructSpec = {
  name: "sched_remote_shutdown",
  fields: [
    ["domain_id", "u16"],
    ["reason", "u32"],
  ],
};

// --- xen.h memory structures ---------------------------------------------------------------

/* struct mmu_update { uint64_t ptr; uint64_t val; } */
export const MmuUpdateSpec: StructSpec = {
  name: "mmu_update",
  fields: [
    ["ptr", "u64"],
    ["val", "u64"],
  ],
};
/* struct mmuext_op { unsigned int cmd; union { mfn; linear_addr } arg1; union { nr_ents; vcpumask } arg2; } (32-bit) */
export const MmuextOpSpec: StructSpec = {
  name: "mmuext_op",
  fields: [
    ["cmd", "u32"],
    ["arg1", "u32"],
    ["arg2", "u32"],
  ],
};
/* struct multicall_entry { unsigned long op, result; unsigned long args[6]; } (32-bit) */
export const MulticallEntrySpec: StructSpec = {
  name: "multicall_entry",
  fields: [
    ["op", "u32"],
    ["result", "u32"],
    ["args", u32x(6)],
  ],
};

// --- memory.h, vcpu.h ------------------------------------------------------------------------

/*
 * struct xen_memory_reservation { XEN_GUEST_HANDLE(xen_pfn_t) extent_start; xen_ulong_t nr_extents;
 *     unsigned int extent_order; unsigned int mem_flags; domid_t domid; }  — memory.h
 */
export const XenMemoryReservationSpec: StructSpec = {
  name: "xen_memory_reservation",
  fields: [
    ["extent_start", "u32"],
    ["nr_extents", "u32"],
    ["extent_order", "u32"],
    ["mem_flags", "u32"],
    ["domid", "u16"],
  ],
};
/* struct vcpu_set_singleshot_timer { uint64_t timeout_abs_ns; uint32_t flags; } — vcpu.h (12 bytes on i386, 16 on o32) */
export const VcpuSetSingleshotTimerSpec: StructSpec = {
  name: "vcpu_set_singleshot_timer",
  fields: [
    ["timeout_abs_ns", "u64"],
    ["flags", "u32"],
  ],
};

// --- grant_table.h (the structures; the hypervisor side is src/hypervisor/grant-table) -----

/* struct grant_entry_v1 { uint16_t flags; domid_t domid; uint32_t frame; } */
export const GrantEntryV1Spec: StructSpec = {
  name: "grant_entry_v1",
  fields: [
    ["flags", "u16"],
    ["domid", "u16"],
    ["frame", "u32"],
  ],
};
/* struct gnttab_map_grant_ref { uint64_t host_addr; uint32_t flags; grant_ref_t ref; domid_t dom; int16_t status; grant_handle_t handle; uint64_t dev_bus_addr; } */
export const GnttabMapGrantRefSpec: StructSpec = {
  name: "gnttab_map_grant_ref",
  fields: [
    ["host_addr", "u64"],
    ["flags", "u32"],
    ["ref", "u32"],
    ["dom", "u16"],
    ["status", "i16"],
    ["handle", "u32"],
    ["dev_bus_addr", "u64"],
  ],
};
/* struct gnttab_unmap_grant_ref { uint64_t host_addr; uint64_t dev_bus_addr; grant_handle_t handle; int16_t status; } */
export const GnttabUnmapGrantRefSpec: StructSpec = {
  name: "gnttab_unmap_grant_ref",
  fields: [
    ["host_addr", "u64"],
    ["dev_bus_addr", "u64"],
    ["handle", "u32"],
    ["status", "i16"],
  ],
};
/* struct gnttab_setup_table { domid_t dom; uint32_t nr_frames; int16_t status; XEN_GUEST_HANDLE(xen_pfn_t) frame_list; } */
export const GnttabSetupTableSpec: StructSpec = {
  name: "gnttab_setup_table",
  fields: [
    ["dom", "u16"],
    ["nr_frames", "u32"],
    ["status", "i16"],
    ["frame_list", "u32"],
  ],
};
/* struct gnttab_query_size { domid_t dom; uint32_t nr_frames; uint32_t max_nr_frames; int16_t status; } */
export const GnttabQuerySizeSpec: StructSpec = {
  name: "gnttab_query_size",
  fields: [
    ["dom", "u16"],
    ["nr_frames", "u32"],
    ["max_nr_frames", "u32"],
    ["status", "i16"],
  ],
};
/* struct gnttab_copy { struct gnttab_copy_ptr { union { grant_ref_t ref; xen_pfn_t gmfn; } u; domid_t domid; uint16_t offset; } source, dest; uint16_t len; uint16_t flags; int16_t status; } */
const GnttabCopyPtrSpec: StructSpec = {
  name: "gnttab_copy_ptr",
  fields: [
    ["u", "u32"],
    ["domid", "u16"],
    ["offset", "u16"],
  ],
};
export const GnttabCopySpec: StructSpec = {
  name: "gnttab_copy",
  fields: [
    ["source", S(GnttabCopyPtrSpec)],
    ["dest", S(GnttabCopyPtrSpec)],
    ["len", "u16"],
    ["flags", "u16"],
    ["status", "i16"],
  ],
};

// --- io/console.h ----------------------------------------------------------------------------

/* struct xencons_interface { char in[1024]; char out[2048]; XENCONS_RING_IDX in_cons, in_prod; XENCONS_RING_IDX out_cons, out_prod; } */
export const XenconsInterfaceSpec: StructSpec = {
  name: "xencons_interface",
  fields: [
    ["in", u8x(1024)],
    ["out", u8x(2048)],
    ["in_cons", "u32"],
    ["in_prod", "u32"],
    ["out_cons", "u32"],
    ["out_prod", "u32"],
  ],
};

// --- x86_32 PV CPU structures (arch-x86/xen.h, x86_32/traps.c) -----------------------------

/*
 * struct trap_info {                      — arch-x86/xen.h
 *     uint8_t vector; uint8_t flags;      flags: 0-1 DPL, 2 clear event enable (TI_GET_IF)
 *     uint16_t cs; unsigned long address; a zero address ends the table
 * };  8 bytes on x86_32
 */
export const TrapInfoSpec: StructSpec = {
  name: "trap_info",
  fields: [
    ["vector", "u8"],
    ["flags", "u8"],
    ["cs", "u16"],
    ["address", "u32"],
  ],
};

/*
 * What HYPERVISOR_iret pops from the guest kernel's stack on x86_32 (Xen's do_iret in
 * xen/arch/x86/x86_32/traps.c: EAX, then EIP, CS, EFLAGS, then ESP and SS if CS is not ring 1).
 * Xen gives this frame no C name on x86_32 (x86_64 calls its form struct iret_context); pvkit
 * names it pvkit_x86_32_iret_frame so a C guest need not hand-write offsets.
 */
export const X86IretFrameSpec: StructSpec = {
  name: "pvkit_x86_32_iret_frame",
  fields: [
    ["eax", "u32"],
    ["eip", "u32"],
    ["cs", "u32"],
    ["eflags", "u32"],
    ["esp", "u32"],
    ["ss", "u32"],
  ],
};

// --- pvkit MIPS privileged-register page (pvkit's own; docs/mips-pv-abi.md) ------------------

/**
 * The MIPS PV kernel reads its virtual CP0 from this page instead of executing MFC0 (Disco's
 * HAL change); writes to `status`, `epc`, `entryhi`, `entrylo0/1`, `index`, `pagemask`,
 * `context` and `compare` take effect at the next hypercall or hypervisor entry.
 */
export const MipsPrivregsSpec: StructSpec = {
  name: "pvkit_mips_privregs",
  fields: [
    ["status", "u32"],
    ["cause", "u32"],
    ["epc", "u32"],
    ["badvaddr", "u32"],
    ["context", "u32"],
    ["entryhi", "u32"],
    ["entrylo0", "u32"],
    ["entrylo1", "u32"],
    ["index", "u32"],
    ["pagemask", "u32"],
    ["wired", "u32"],
    ["count", "u32"],
    ["compare", "u32"],
    ["errorepc", "u32"],
    ["prid", "u32"],
    ["config", "u32"],
  ],
};

/** One entry of a MIPS_TLBOP_batch (pvkit's own; docs/mips-pv-abi.md). */
export const MipsTlbEntrySpec: StructSpec = {
  name: "pvkit_mips_tlb_entry",
  fields: [
    ["index", "u32"],
    ["entryhi", "u32"],
    ["entrylo0", "u32"],
    ["entrylo1", "u32"],
    ["pagemask", "u32"],
  ],
};

/** Every ABI structure for one guest architecture, laid out. */
export interface AbiLayouts {
  readonly abi: Abi;
  /** The magic string a PV kernel finds at start_info.magic. */
  readonly startInfoMagic: string;
  /** True if frame numbers in start_info and grants are guest frames (auto-translated), false if machine frames. */
  readonly autoTranslated: boolean;
  readonly startInfo: StructLayout;
  readonly sharedInfo: StructLayout;
  readonly vcpuInfo: StructLayout;
  readonly vcpuTimeInfo: StructLayout;
  readonly evtchnAllocUnbound: StructLayout;
  readonly evtchnBindInterdomain: StructLayout;
  readonly evtchnBindVirq: StructLayout;
  readonly evtchnBindIpi: StructLayout;
  readonly evtchnSend: StructLayout;
  readonly evtchnClose: StructLayout;
  readonly evtchnUnmask: StructLayout;
  readonly evtchnReset: StructLayout;
  readonly evtchnStatus: StructLayout;
  readonly schedShutdown: StructLayout;
  readonly schedPoll: StructLayout;
  readonly schedRemoteShutdown: StructLayout;
  readonly mmuUpdate: StructLayout;
  readonly mmuextOp: StructLayout;
  readonly multicallEntry: StructLayout;
  readonly xenMemoryReservation: StructLayout;
  readonly vcpuSetSingleshotTimer: StructLayout;
  readonly grantEntryV1: StructLayout;
  readonly gnttabMapGrantRef: StructLayout;
  readonly gnttabUnmapGrantRef: StructLayout;
  readonly gnttabSetupTable: StructLayout;
  readonly gnttabQuerySize: StructLayout;
  readonly gnttabCopy: StructLayout;
  readonly xenconsInterface: StructLayout;
  /** Only on x86: set_trap_table's entries. */
  readonly trapInfo?: StructLayout;
  /** Only on x86: the frame HYPERVISOR_iret pops. */
  readonly iretFrame?: StructLayout;
  /** Only on MIPS. */
  readonly mipsPrivregs?: StructLayout;
  /** Only on MIPS. */
  readonly mipsTlbEntry?: StructLayout;
}

function build(
  abi: Abi,
  archVcpu: StructSpec,
  archShared: StructSpec,
  magic: string,
  autoTranslated: boolean,
): AbiLayouts {
  const L = (s: StructSpec) => layoutStruct(s, abi);
  const vcpuInfo = vcpuInfoSpec(archVcpu);
  return {
    abi,
    startInfoMagic: magic,
    autoTranslated,
    startInfo: L(StartInfoSpec),
    sharedInfo: L(sharedInfoSpec(vcpuInfo, archShared)),
    vcpuInfo: L(vcpuInfo),
    vcpuTimeInfo: L(VcpuTimeInfoSpec),
    evtchnAllocUnbound: L(EvtchnAllocUnboundSpec),
    evtchnBindInterdomain: L(EvtchnBindInterdomainSpec),
    evtchnBindVirq: L(EvtchnBindVirqSpec),
    evtchnBindIpi: L(EvtchnBindIpiSpec),
    evtchnSend: L(EvtchnPortSpec),
    evtchnClose: L(EvtchnCloseSpec),
    evtchnUnmask: L(EvtchnUnmaskSpec),
    evtchnReset: L(EvtchnResetSpec),
    evtchnStatus: L(EvtchnStatusSpec),
    schedShutdown: L(SchedShutdownSpec),
    schedPoll: L(SchedPollSpec),
    schedRemoteShutdown: L(SchedRemoteShutdownSpec),
    mmuUpdate: L(MmuUpdateSpec),
    mmuextOp: L(MmuextOpSpec),
    multicallEntry: L(MulticallEntrySpec),
    xenMemoryReservation: L(XenMemoryReservationSpec),
    vcpuSetSingleshotTimer: L(VcpuSetSingleshotTimerSpec),
    grantEntryV1: L(GrantEntryV1Spec),
    gnttabMapGrantRef: L(GnttabMapGrantRefSpec),
    gnttabUnmapGrantRef: L(GnttabUnmapGrantRefSpec),
    gnttabSetupTable: L(GnttabSetupTableSpec),
    gnttabQuerySize: L(GnttabQuerySizeSpec),
    gnttabCopy: L(GnttabCopySpec),
    xenconsInterface: L(XenconsInterfaceSpec),
    ...(abi === ABI_I386 ? { trapInfo: L(TrapInfoSpec), iretFrame: L(X86IretFrameSpec) } : {}),
    ...(abi === ABI_MIPS_O32 ? { mipsPrivregs: L(MipsPrivregsSpec), mipsTlbEntry: L(MipsTlbEntrySpec) } : {}),
  };
}

/** Xen's x86_32 (2-level paging) PV ABI. */
export const LayoutsX86_32: AbiLayouts = build(
  ABI_I386,
  ArchVcpuInfoX86,
  ArchSharedInfoX86,
  "xen-3.0-x86_32",
  false,
);
/** pvkit's MIPS32 PV ABI (auto-translated). */
export const LayoutsMips32: AbiLayouts = build(
  ABI_MIPS_O32,
  ArchVcpuInfoMips,
  ArchSharedInfoMips,
  "pvkit-3.0-mips32",
  true,
);

/** Layouts by arch name (the `Arch` of src/machine). */
export const Layouts = { x86: LayoutsX86_32, mips: LayoutsMips32 } as const;

/** Structures the C header generator emits, in dependency order (nested ones first). */
export const HEADER_STRUCTS: readonly (keyof AbiLayouts)[] = [
  "vcpuTimeInfo",
  "vcpuInfo",
  "sharedInfo",
  "startInfo",
  "evtchnAllocUnbound",
  "evtchnBindInterdomain",
  "evtchnBindVirq",
  "evtchnBindIpi",
  "evtchnSend",
  "evtchnClose",
  "evtchnUnmask",
  "evtchnReset",
  "evtchnStatus",
  "schedShutdown",
  "schedPoll",
  "schedRemoteShutdown",
  "mmuUpdate",
  "mmuextOp",
  "multicallEntry",
  "xenMemoryReservation",
  "vcpuSetSingleshotTimer",
  "grantEntryV1",
  "gnttabMapGrantRef",
  "gnttabUnmapGrantRef",
  "gnttabSetupTable",
  "gnttabQuerySize",
  "gnttabCopy",
  "xenconsInterface",
  "trapInfo",
  "iretFrame",
  "mipsPrivregs",
  "mipsTlbEntry",
];
