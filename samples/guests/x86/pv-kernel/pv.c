/*
 * The PV hardware layer's out-of-line parts (include/hal.h): start_info, the trap table, the
 * VIRQ_TIMER event channel with a one-shot timer, page tables through mmu_update with every
 * table read-only and pinned, the context switch as one multicall, console_io and shutdown.
 * docs/x86-pv-abi.md describes the interface; Xen's public headers (xen.h, event_channel.h,
 * arch-x86/xen-x86_32.h) the structures, as generated in pvkit_hypercall.h.
 */
#include "kernel.h"

volatile struct shared_info *pv_shared;
const u32 *pv_mfn_list;
u32 pv_frame_base;

static struct start_info *si;
static evtchn_port_t timer_port;
static u32 boot_pt_first, boot_pt_end; /* the builder's page-table frames (pa) */
static int on_boot_tables = 1;

/* ---- boot ---- */

void hal_init(u32 start_info, u32 unused) {
  (void)unused;
  si = (struct start_info *)start_info;
  pv_shared = hal_kva(PAGE);
  pv_mfn_list = (const u32 *)si->mfn_list;
  boot_pt_first = si->pt_base - KVA;
  boot_pt_end = boot_pt_first + si->nr_pt_frames * PAGE;
  /* The first allocations lie in the builder's initial 4 MiB mapping, the only memory mapped
     before the kernel's own map exists. */
  pv_frame_base = boot_pt_end + PAGE; /* after the boot stack page */
}

void hal_put_boot_id(u32 start_info) {
  (void)start_info;
  kputs((const char *)si->magic);
}

/* SCHEDOP_shutdown: poweroff for 0, crash otherwise (pvkit run reports exit status 0 and 1). */
void hal_exit(int code) {
  pvkit_shutdown(code == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash);
  for (;;) {
  }
}

static void pv_check(long rc, const char *what) {
  if (rc) {
    kputs("kernel panic: ");
    kputs(what);
    kputs(" failed\n");
    hal_exit(3);
  }
}

/* ---- traps: trap_info entries instead of IDT gates; TI_CLEAR_IF is the interrupt gate's IF
   clear ---- */

extern void upcall_entry(void), failsafe_entry(void); /* include/hal-asm.h */
static struct trap_info traps[32 + 2];

void hal_trap_init(void) {
  for (int v = 0; v < 32; v++) {
    traps[v].vector = (u8)v;
    traps[v].flags = TI_CLEAR_IF;
    traps[v].cs = FLAT_RING1_CS;
    traps[v].address = vector_table[v];
  }
  traps[32].vector = SYSCALL_VECTOR;
  traps[32].flags = TI_CLEAR_IF | 3; /* callable from ring 3 */
  traps[32].cs = FLAT_RING1_CS;
  traps[32].address = vector_table[32];
  pv_check(HYPERVISOR_set_trap_table(traps), "set_trap_table");
}

/* ---- the timer: VIRQ_TIMER and a one-shot set_timer_op instead of the 8259A and 8254 ---- */

/* System time as Xen guests compute it from vcpu_time_info and the TSC (xen.h). */
static uint64_t now_ns(void) {
  volatile struct vcpu_time_info *t = &pv_shared->vcpu_info[0].time;
  u32 version;
  uint64_t ns;
  do {
    version = t->version;
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    uint64_t delta = ((uint64_t)hi << 32 | lo) - t->tsc_timestamp;
    ns = t->system_time + (((delta & 0xffffffffu) * t->tsc_to_system_mul) >> 32);
  } while ((version & 1) || version != t->version);
  return ns;
}

/* The 8254's 100 Hz becomes a one-shot set_timer_op re-armed at each tick. The period is the
   native tick's length in simulated cycles (1.19 MHz / 11932 at 100 MHz = 1 M cycles; 1 ns per
   cycle on pvkit), so the processes see the same preemption rate. */
#define TICK_NS 1000000u

static void timer_arm(void) { HYPERVISOR_set_timer_op(now_ns() + TICK_NS); }

void hal_timer_init(void) {
  pv_check(HYPERVISOR_set_callbacks(FLAT_RING1_CS, (unsigned long)upcall_entry, FLAT_RING1_CS,
                                    (unsigned long)failsafe_entry),
           "set_callbacks");
  struct evtchn_bind_virq bv = {VIRQ_timer, 0, 0};
  pv_check(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv), "bind_virq");
  timer_port = bv.port;
  timer_arm();
}

/* Acknowledges every pending event (the PIC's EOI); if the timer's port was one, re-arms it. */
int hal_timer_ack(void) {
  volatile struct vcpu_info *v = &pv_shared->vcpu_info[0];
  int timer = 0;
  v->evtchn_upcall_pending = 0;
  u32 sel = __atomic_exchange_n(&((struct vcpu_info *)v)->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
  while (sel) {
    int w = __builtin_ctz(sel);
    sel &= sel - 1;
    u32 bits = __atomic_exchange_n(&((struct shared_info *)pv_shared)->evtchn_pending[w], 0, __ATOMIC_SEQ_CST);
    if (w == (int)(timer_port / 32) && (bits >> (timer_port % 32)) & 1) timer = 1;
  }
  if (timer) timer_arm();
  return timer;
}

/* ---- page tables: machine frames, read-only and pinned, written with mmu_update ---- */

static void mmu_set(u32 table_pa, u32 index, u32 val) {
  struct mmu_update u;
  u.ptr = ((uint64_t)pv_mfn_of(table_pa) << 12) | (index * 4) | MMU_normal_pt_update;
  u.val = val;
  pv_check(HYPERVISOR_mmu_update(&u, 1, 0, DOMID_SELF), "mmu_update");
}

static long mmuext(u32 cmd, u32 arg1) {
  struct mmuext_op op;
  op.cmd = cmd;
  op.arg1 = arg1;
  op.arg2 = 0;
  return HYPERVISOR_mmuext_op(&op, 1, 0, DOMID_SELF);
}

/* A page table must not be writable anywhere: its kernel-map entry becomes read-only
   (mmu_update on the shared L1), and so does its entry in the builder's map while that is live. */
static void make_readonly(u32 pa) {
  mmu_set(kernel_pt[pa >> 22], (pa >> 12) & 1023, pv_mfn_of(pa) << 12 | PTE_P);
  if (on_boot_tables && pa < 0x400000u)
    pv_check(HYPERVISOR_update_va_mapping((unsigned long)hal_kva(pa), pv_mfn_of(pa) << 12 | PTE_P, UVMF_INVLPG),
             "update_va_mapping");
}

u32 hal_kmap_pte(u32 pa) {
  int table = (pa >= boot_pt_first && pa < boot_pt_end) || pa == kernel_pt[0] || pa == kernel_pt[1] ||
              pa == kernel_pt[2] || pa == kernel_pt[3];
  return pv_mfn_of(pa) << 12 | PTE_P | (table ? 0 : PTE_W);
}

/* A kernel-map L1, filled through the builder's map: read-only there, then pinned. */
void hal_kmap_table_done(u32 pt) {
  pv_check(HYPERVISOR_update_va_mapping((unsigned long)hal_kva(pt), pv_mfn_of(pt) << 12 | PTE_P, UVMF_INVLPG),
           "update_va_mapping");
  pv_check(mmuext(MMUEXT_pin_l1_table, pv_mfn_of(pt)), "pin kernel L1");
}

/* Each page directory's page tables by pseudo-physical address (the guest has no M2P to turn
   a PDE's mfn back into one): one row per address space, in creation order. */
static u32 pds[NPROC];
static u32 npds;
static u32 pt_pa[NPROC][1024];

static u32 *pt_row(u32 pd) {
  for (u32 i = 0; i < npds; i++)
    if (pds[i] == pd) return pt_pa[i];
  return pt_pa[0];
}

void hal_table_new(u32 table, int level) {
  make_readonly(table);
  if (level == 2) {
    if (npds < NPROC) pds[npds++] = table;
    pv_check(mmuext(MMUEXT_pin_l2_table, pv_mfn_of(table)), "pin L2");
  } else {
    pv_check(mmuext(MMUEXT_pin_l1_table, pv_mfn_of(table)), "pin L1");
  }
}

void hal_pde_set(u32 pd, u32 index, u32 pt, u32 flags) {
  pt_row(pd)[index] = pt;
  mmu_set(pd, index, pv_mfn_of(pt) << 12 | flags);
}

u32 hal_pde_table(u32 pd, u32 index) { return pt_row(pd)[index]; }

void hal_pte_set(u32 pt, u32 index, u32 pa, u32 flags) { mmu_set(pt, index, pv_mfn_of(pa) << 12 | flags); }

/* INVLPG #GPs in ring 1. */
void hal_invlpg(u32 va) { pv_check(mmuext(MMUEXT_invlpg_local, va), "invlpg"); }

/* stack_switch instead of tss.esp0 and MMUEXT_NEW_BASEPTR instead of MOV CR3, in one multicall. */
void hal_switch(u32 pd, u32 kstack_top) {
  struct mmuext_op op = {MMUEXT_new_baseptr, pv_mfn_of(pd), 0};
  struct multicall_entry mc[2] = {
      {__HYPERVISOR_mmuext_op, 0, {(u32)&op, 1, 0, DOMID_SELF, 0, 0}},
      {__HYPERVISOR_stack_switch, 0, {FLAT_RING1_SS, kstack_top, 0, 0, 0, 0}},
  };
  HYPERVISOR_multicall(mc, 2);
  if (mc[0].result || mc[1].result) {
    kputs("kernel panic: switch_to failed\n");
    hal_exit(3);
  }
  if (on_boot_tables) {
    /* The builder's tables are no longer needed: unpinning them drops their mappings. */
    on_boot_tables = 0;
    pv_check(mmuext(MMUEXT_unpin_table, pv_mfn_of(boot_pt_first)), "unpin");
  }
}
