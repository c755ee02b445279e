/**
 * Xen's hypercall and sub-operation numbers: the values a guest puts in EAX (x86) or v0 (MIPS).
 *
 * Every number is Xen's own, so Xen's documentation explains pvkit. Sources (xen-project/xen,
 * xen/include/public/): xen.h (hypercalls, VIRQs, MMU commands, console_io, DOMID_*),
 * sched.h (SCHEDOP_*, SHUTDOWN_*), event_channel.h (EVTCHNOP_*, EVTCHNSTAT_*),
 * grant_table.h (GNTTABOP_*, GNTST_*, GTF_*), memory.h (XENMEM_*), version.h (XENVER_*).
 */

/** `__HYPERVISOR_*` — xen.h. */
export const Hypercall = {
  set_trap_table: 0,
  mmu_update: 1,
  set_gdt: 2,
  stack_switch: 3,
  set_callbacks: 4,
  fpu_taskswitch: 5,
  sched_op_compat: 6,
  platform_op: 7,
  set_debugreg: 8,
  get_debugreg: 9,
  update_descriptor: 10,
  memory_op: 12,
  multicall: 13,
  update_va_mapping: 14,
  set_timer_op: 15,
  event_channel_op_compat: 16,
  xen_version: 17,
  console_io: 18,
  physdev_op_compat: 19,
  grant_table_op: 20,
  vm_assist: 21,
  update_va_mapping_otherdomain: 22,
  iret: 23,
  vcpu_op: 24,
  set_segment_base: 25,
  mmuext_op: 26,
  xsm_op: 27,
  nmi_op: 28,
  sched_op: 29,
  callback_op: 30,
  xenoprof_op: 31,
  event_channel_op: 32,
  physdev_op: 33,
  hvm_op: 34,
  /* pvkit MIPS arch hypercalls (xen.h reserves 48–55 for arch use; docs/mips-pv-abi.md). */
  mips_tlb_op: 48,
  mips_eret: 49,
  mips_set_vectors: 50,
} as const;
export type HypercallName = keyof typeof Hypercall;

/** Hypercall numbers are below this bound; the dispatcher's table has this many slots. xen.h reserves 48–55 for arch use. */
export const NR_HYPERCALLS = 64;

/**
 * `MIPS_TLBOP_*`: commands of HYPERVISOR_mips_tlb_op (pvkit's own, docs/mips-pv-abi.md). The
 * single-entry commands take index/entryhi/entrylo0/entrylo1/pagemask from the privileged-register
 * page; `batch` takes an array of pvkit_mips_tlb_entry. `eret` is a flag or-ed into the command:
 * after the TLB work, return from exception as HYPERVISOR_mips_eret does.
 */
export const MipsTlbOp = { tlbwi: 0, tlbwr: 1, tlbp: 2, batch: 3, eret: 0x100 } as const;

/** pvkit_mips_tlb_entry.index values other than 0..15 (docs/mips-pv-abi.md). */
export const MipsTlbIndex = { random: 0xffffffff, probe: 0xfffffffe } as const;

/** Most entries one MIPS_TLBOP_batch may carry (the TLB's size). */
export const MIPS_TLB_BATCH_MAX = 16;

/** `SCHEDOP_*` — sched.h. */
export const SchedOp = {
  yield: 0,
  block: 1,
  shutdown: 2,
  poll: 3,
  remote_shutdown: 4,
  shutdown_code: 5,
  watchdog: 6,
} as const;

/** `SHUTDOWN_*` reasons for SCHEDOP_shutdown — sched.h. */
export const ShutdownReason = {
  poweroff: 0,
  reboot: 1,
  suspend: 2,
  crash: 3,
  watchdog: 4,
} as const;
export type ShutdownReasonCode = (typeof ShutdownReason)[keyof typeof ShutdownReason];

/** `CONSOLEIO_*` — xen.h. console_io(cmd, count, buffer). */
export const ConsoleIo = { write: 0, read: 1 } as const;

/** `EVTCHNOP_*` — event_channel.h. */
export const EvtchnOp = {
  bind_interdomain: 0,
  bind_virq: 1,
  bind_pirq: 2,
  close: 3,
  send: 4,
  status: 5,
  alloc_unbound: 6,
  bind_ipi: 7,
  bind_vcpu: 8,
  unmask: 9,
  reset: 10,
  init_control: 11,
  expand_array: 12,
  set_priority: 13,
} as const;

/** `EVTCHNSTAT_*` for EVTCHNOP_status — event_channel.h. */
export const EvtchnStat = {
  closed: 0,
  unbound: 1,
  interdomain: 2,
  pirq: 3,
  virq: 4,
  ipi: 5,
} as const;

/** `VIRQ_*` — xen.h. TIMER and DEBUG are per-vCPU, CONSOLE is global (dom0 in Xen). */
export const Virq = {
  timer: 0,
  debug: 1,
  console: 2,
  dom_exc: 3,
  tbuf: 4,
  debugger: 6,
  xenoprof: 7,
} as const;
export const NR_VIRQS = 24;

/**
 * Event channel ports per domain with the 2-level ABI: sizeof(long)² × 64 = 1024 on a 32-bit
 * guest (xen.h NR_EVENT_CHANNELS). Both pvkit arches are 32-bit.
 */
export const NR_EVENT_CHANNELS_32 = 1024;
/** Bits in one pending/mask word and in the per-vCPU selector (xen_ulong_t on a 32-bit guest). */
export const BITS_PER_EVTCHN_WORD_32 = 32;

/** `GNTTABOP_*` — grant_table.h. */
export const GnttabOp = {
  map_grant_ref: 0,
  unmap_grant_ref: 1,
  setup_table: 2,
  dump_table: 3,
  transfer: 4,
  copy: 5,
  query_size: 6,
  unmap_and_replace: 7,
  set_version: 8,
  get_status_frames: 9,
  get_version: 10,
  swap_grant_ref: 11,
  cache_flush: 12,
} as const;

/** `GNTST_*` status codes (int16 in the op structures) — grant_table.h. */
export const GntSt = {
  okay: 0,
  general_error: -1,
  bad_domain: -2,
  bad_gntref: -3,
  bad_handle: -4,
  bad_virt_addr: -5,
  bad_dev_addr: -6,
  no_device_space: -7,
  permission_denied: -8,
  bad_page: -9,
  bad_copy_arg: -10,
  address_too_big: -11,
  eagain: -12,
  /** Out of space (maptrack handles etc.) — added in newer grant_table.h. */
  no_space: -13,
} as const;

/** `GTF_*` grant entry flags (v1) — grant_table.h. Type in bits 0–1. */
export const Gtf = {
  invalid: 0,
  permit_access: 1,
  accept_transfer: 2,
  transitive: 3,
  type_mask: 3,
  readonly: 1 << 2,
  reading: 1 << 3,
  writing: 1 << 4,
  PWT: 1 << 5,
  PCD: 1 << 6,
  PAT: 1 << 7,
  sub_page: 1 << 8,
} as const;

/** `GNTMAP_*` flags for map_grant_ref — grant_table.h. */
export const GntMap = {
  device_map: 1 << 0,
  host_map: 1 << 1,
  readonly: 1 << 2,
  application_map: 1 << 3,
  contains_pte: 1 << 4,
} as const;

/** `XENMEM_*` sub-ops of memory_op — memory.h. */
export const XenMem = {
  increase_reservation: 0,
  decrease_reservation: 1,
  maximum_ram_page: 2,
  current_reservation: 3,
  maximum_reservation: 4,
  machphys_mfn_list: 5,
  populate_physmap: 6,
  add_to_physmap: 7,
  memory_map: 9,
  machine_memory_map: 10,
} as const;

/** `MMU_*` commands in the low 2 bits of mmu_update.ptr — xen.h. */
export const MmuCmd = {
  normal_pt_update: 0,
  machphys_update: 1,
  pt_update_preserve_ad: 2,
} as const;

/** `MMUEXT_*` commands of mmuext_op — xen.h. */
export const MmuextOp = {
  pin_l1_table: 0,
  pin_l2_table: 1,
  pin_l3_table: 2,
  pin_l4_table: 3,
  unpin_table: 4,
  new_baseptr: 5,
  tlb_flush_local: 6,
  invlpg_local: 7,
  tlb_flush_multi: 8,
  invlpg_multi: 9,
  tlb_flush_all: 10,
  invlpg_all: 11,
  flush_cache: 12,
  set_ldt: 13,
  new_user_baseptr: 15,
} as const;

/** `XENVER_*` sub-ops of xen_version — version.h. */
export const XenVer = {
  version: 0,
  extraversion: 1,
  compile_info: 2,
  capabilities: 3,
  changeset: 4,
  platform_parameters: 5,
  get_features: 6,
  pagesize: 7,
} as const;

/** `VCPUOP_*` — vcpu.h (only the timer sub-ops are implemented by pvkit). */
export const VcpuOp = {
  initialise: 0,
  up: 1,
  down: 2,
  is_up: 3,
  get_runstate_info: 4,
  set_periodic_timer: 6,
  stop_periodic_timer: 7,
  set_singleshot_timer: 8,
  stop_singleshot_timer: 9,
} as const;

/** Reserved domain ids — xen.h. Ordinary domains have ids below DOMID_FIRST_RESERVED. */
export const DomId = {
  FIRST_RESERVED: 0x7ff0,
  SELF: 0x7ff0,
  IO: 0x7ff1,
  XEN: 0x7ff2,
  COW: 0x7ff3,
  INVALID: 0x7ff4,
  IDLE: 0x7fff,
} as const;

/** `SIF_*` start_info flags — xen.h. */
export const StartInfoFlags = {
  privileged: 1 << 0,
  initdomain: 1 << 1,
  multiboot_mod: 1 << 2,
  mod_start_pfn: 1 << 3,
  virt_p2m_4tools: 1 << 4,
} as const;

/** x86 `set_callbacks` selector/address pairs and pvkit's MIPS equivalent take these types — callback.h. */
export const CallbackType = {
  event: 0,
  failsafe: 1,
  syscall: 2,
  nmi: 4,
} as const;
