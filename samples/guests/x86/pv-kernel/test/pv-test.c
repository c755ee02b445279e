/*
 * x86 PV test guest (docs/x86-pv-abi.md): exercises the monitor's x86 PV mode step by step and
 * prints what it sees, so test/full-virt/x86-pv can compare exact output.
 *
 *  1. boot state: start_info (magic, nr_pages, pt_base, mfn_list), the initial mapping;
 *  2. set_trap_table, stack_switch, a yield; MOV CR3, INVLPG and a read of the hole in ring 1
 *     (#GP, bounced); a kernel page fault (CR2 from shared_info) fixed with update_va_mapping
 *     and retried;
 *  3. hostile MMU requests, each answered with Xen's errno (and the domain keeps running):
 *     another domain's / the hypervisor's frame, a writable mapping of a page table, the hole
 *     slot, bad commands, pins of foreign frames, double pins;
 *  4. a new address space built by the guest (L1 + L2 filled while writable, remapped read-only,
 *     pinned, NEW_BASEPTR), a ring-3 excursion through HYPERVISOR_iret: int $0x80, CLI (#GP),
 *     int $0x82 from ring 3 (#GP), a demand-zero #PF, back by a real IRET and by int $0x80;
 *  5. events: VIRQ_TIMER bound, set_timer_op, upcalls delivered only while unmasked, SCHEDOP_block;
 *  6. SCHEDOP_shutdown(poweroff).
 */
#include <pvkit_hypercall.h>

#define PAGE 4096u
#define P 1u
#define RW 2u
#define US 4u
#define USER_BASE 0x40000000u

struct regs { /* pushal order, low to high */
    uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    uint32_t err, eip, cs, eflags, esp, ss;
};
struct sysregs { /* pushal, then the frame without an error code */
    uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    uint32_t eip, cs, eflags, esp, ss;
};

extern void pf_entry(void), gp_entry(void), syscall_entry(void), upcall_entry(void), failsafe_entry(void);
extern char user_code[], user_code_end[], __image_end[];

static struct start_info *si;
static volatile struct shared_info *shared;
static uint32_t *mfn_list;
static uint32_t next_pfn; /* first free pfn (after the bootstrap structures) */
static volatile int timer_ticks;
static evtchn_port_t timer_port;
static uint32_t kstack[1024] __attribute__((aligned(16)));

/* --- output ------------------------------------------------------------------------------------ */

static char line[256];
static int len;

static void put(const char *s) { while (*s && len < 255) line[len++] = *s++; }
static void puthex(uint32_t v)
{
    put("0x");
    for (int i = 28; i >= 0; i -= 4) {
        int d = (v >> i) & 15;
        if (len < 255) line[len++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    }
}
static void putdec(long v)
{
    char b[12];
    int n = 0;
    unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
    if (v < 0) put("-");
    do { b[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    while (n) { if (len < 255) line[len++] = b[--n]; }
}
static void flush(void)
{
    if (len < 255) line[len++] = '\n';
    pvkit_console_write(line, len);
    len = 0;
}
static void say(const char *s) { put(s); flush(); }
static void result(const char *what, long rc) { put(what); put(": "); putdec(rc); flush(); }

static void shutdown(unsigned reason)
{
    pvkit_shutdown(reason);
    for (;;) {}
}

/* --- memory ------------------------------------------------------------------------------------ */

static inline void *va_of_pfn(uint32_t pfn) { return (void *)(PVKIT_X86_PV_VIRT_BASE + pfn * PAGE); }
static inline uint32_t pte_of_pfn(uint32_t pfn, uint32_t flags) { return mfn_list[pfn] << 12 | flags; }

static uint32_t alloc_pfn(void)
{
    uint32_t pfn = next_pfn++;
    uint32_t *p = va_of_pfn(pfn);
    for (int i = 0; i < 1024; i++) p[i] = 0;
    return pfn;
}

static long mmu1(uint32_t ptr, uint32_t val)
{
    struct mmu_update u;
    u.ptr = ptr;
    u.val = val;
    return HYPERVISOR_mmu_update(&u, 1, 0, DOMID_SELF);
}

static long ext1(unsigned cmd, uint32_t arg1)
{
    struct mmuext_op op;
    op.cmd = cmd;
    op.arg1 = arg1;
    op.arg2 = 0;
    return HYPERVISOR_mmuext_op(&op, 1, 0, DOMID_SELF);
}

/* --- traps ------------------------------------------------------------------------------------- */

static int pf_count, gp_count;

void pf_handler(struct regs *r)
{
    uint32_t cr2 = shared->vcpu_info[0].arch.cr2;
    pf_count++;
    put("#PF cr2="); puthex(cr2); put(" err="); putdec((long)r->err); put(" from cs="); puthex(r->cs); flush();
    uint32_t pfn = alloc_pfn();
    uint32_t flags = P | RW | ((r->cs & 3) == 3 ? US : 0);
    long rc = HYPERVISOR_update_va_mapping(cr2 & ~(PAGE - 1), pte_of_pfn(pfn, flags), UVMF_INVLPG);
    if (rc) { result("demand-zero update_va_mapping", rc); shutdown(SHUTDOWN_crash); }
}

void gp_handler(struct regs *r)
{
    gp_count++;
    put("#GP err="); puthex(r->err); put(" cs="); puthex(r->cs); flush();
    /* Skip CLI (1 byte) or INT n (2 bytes) in ring 3; MOV to CR3 or INVLPG (3 bytes) in ring 1. */
    uint8_t op = *(volatile uint8_t *)r->eip;
    if ((r->cs & 3) == 1 && op == 0x0f) { r->eip += 3; return; }
    if ((r->cs & 3) == 1 && op == 0xa1) { r->eip += 5; r->eax = 0xdead; return; } /* mov moffs32, %eax */
    if ((r->cs & 3) != 3 || (op != 0xfa && op != 0xcd)) { say("unexpected #GP"); shutdown(SHUTDOWN_crash); }
    r->eip += op == 0xfa ? 1 : 2;
}

static void after_user(void);

void syscall_handler(struct sysregs *r)
{
    put("syscall "); putdec((long)r->eax); put(" ebx="); puthex(r->ebx); put(" cs="); puthex(r->cs);
    put(" ss="); puthex(r->ss); flush();
    if (r->eax == 2) after_user(); /* never returns: the rest of the test runs on this stack */
}

static void unmask(void) { shared->vcpu_info[0].evtchn_upcall_mask = 0; }
static void mask(void) { shared->vcpu_info[0].evtchn_upcall_mask = 1; }

/* System time as Xen guests compute it: system_time + (TSC - tsc_timestamp) scaled by
   tsc_to_system_mul / tsc_shift, under the version seqlock (xen.h struct vcpu_time_info). */
static uint64_t now_ns(void)
{
    volatile struct vcpu_time_info *t = &shared->vcpu_info[0].time;
    uint32_t version;
    uint64_t ns;
    do {
        version = t->version;
        uint32_t lo, hi;
        __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
        uint64_t delta = ((uint64_t)hi << 32 | lo) - t->tsc_timestamp;
        if (t->tsc_shift >= 0) delta <<= t->tsc_shift;
        else delta >>= -t->tsc_shift;
        ns = t->system_time + (((delta & 0xffffffffu) * t->tsc_to_system_mul) >> 32);
    } while ((version & 1) || version != t->version);
    return ns;
}

void upcall_handler(void)
{
    volatile struct vcpu_info *v = &shared->vcpu_info[0];
    v->evtchn_upcall_pending = 0;
    uint32_t sel = __atomic_exchange_n(&((struct vcpu_info *)v)->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        int w = __builtin_ctz(sel);
        sel &= sel - 1;
        uint32_t bits = __atomic_exchange_n(&((struct shared_info *)shared)->evtchn_pending[w], 0, __ATOMIC_SEQ_CST);
        while (bits) {
            int b = __builtin_ctz(bits);
            bits &= bits - 1;
            if ((uint32_t)(w * 32 + b) == timer_port) timer_ticks++;
        }
    }
}

/* --- the test ---------------------------------------------------------------------------------- */

static struct trap_info traps[] = {
    {13, 0, FLAT_RING1_CS, 0},
    {14, 0, FLAT_RING1_CS, 0},
    {0x80, 3, FLAT_RING1_CS, 0},
    {0, 0, 0, 0},
};

static uint32_t new_l2_pfn;

void pv_main(struct start_info *start)
{
    si = start;
    put("start_info magic="); put((const char *)si->magic); put(" nr_pages="); putdec((long)si->nr_pages);
    put(" nr_pt_frames="); putdec((long)si->nr_pt_frames); flush();
    mfn_list = (uint32_t *)si->mfn_list;
    uint32_t pt_pfn = (si->pt_base - PVKIT_X86_PV_VIRT_BASE) / PAGE;
    next_pfn = pt_pfn + si->nr_pt_frames + 1; /* after the boot stack page */
    /* The L2 at pt_base maps the virtual base through the first L1 (mfn_list[pt_pfn + 1]). */
    uint32_t *l2 = (uint32_t *)si->pt_base;
    uint32_t pde = l2[PVKIT_X86_PV_VIRT_BASE >> 22];
    put("initial mapping "); put((pde >> 12) == mfn_list[pt_pfn + 1] && (pde & P) ? "ok" : "BAD");
    put(", shared_info mfn "); put((si->shared_info >> 12) == mfn_list[1] ? "ok" : "BAD"); flush();
    shared = va_of_pfn(1);

    traps[0].address = (unsigned long)gp_entry;
    traps[1].address = (unsigned long)pf_entry;
    traps[2].address = (unsigned long)syscall_entry;
    result("set_trap_table", HYPERVISOR_set_trap_table(traps));
    result("stack_switch", HYPERVISOR_stack_switch(FLAT_RING1_SS, (unsigned long)&kstack[1024]));
    result("yield", HYPERVISOR_sched_op(SCHEDOP_yield, 0)); /* gives up the slice, then continues here */

    /* CR3 loads and INVLPG are privileged: #GP at ring 1 (the kernel uses mmuext_op instead). */
    __asm__ __volatile__("movl %0, %%cr3" : : "r"(0u) : "memory"); /* 0f 22 d8 */
    __asm__ __volatile__("invlpg (%0)" : : "a"(0u) : "memory");      /* 0f 01 38 */
    put("ring 1 CR3 load and INVLPG: #GP "); putdec(gp_count); flush();
    /* The hole is beyond every guest segment's limit: a ring-1 read of the monitor's GDT is #GP(0). */
    {
        uint32_t v;
        __asm__ __volatile__("movl 0xfff00000, %0" : "=a"(v) : : "memory"); /* a1 00 00 f0 ff */
        put("ring 1 read of the hole: "); puthex(v); put(", #GP "); putdec(gp_count); flush();
    }

    /* 2. A kernel page fault on an unmapped address inside the initial L1's reach. */
    volatile uint32_t *probe = (uint32_t *)(PVKIT_X86_PV_VIRT_BASE + 0x3ff000u);
    /* Unmap the last page of the first 4 MiB, then touch it: #PF, mapped again by the handler. */
    result("unmap", HYPERVISOR_update_va_mapping((unsigned long)probe, 0, UVMF_INVLPG));
    *probe = 0x5a5a;
    put("after #PF: value "); puthex(*probe); put(", faults "); putdec(pf_count); flush();

    /* 3. Hostile requests. */
    uint32_t l2_mfn = mfn_list[pt_pfn];
    uint32_t spare = alloc_pfn();
    unsigned long spare_va = (unsigned long)va_of_pfn(spare);
    result("map the hypervisor's frame 0", HYPERVISOR_update_va_mapping(spare_va, 0u << 12 | P | RW, UVMF_INVLPG));
    result("map a frame beyond memory", HYPERVISOR_update_va_mapping(spare_va, 0xfffffu << 12 | P, UVMF_INVLPG));
    result("writable mapping of the L2", HYPERVISOR_update_va_mapping(spare_va, l2_mfn << 12 | P | RW, UVMF_INVLPG));
    result("read-only mapping of the L2", HYPERVISOR_update_va_mapping(spare_va, l2_mfn << 12 | P, UVMF_INVLPG));
    put("  reads back its own slot: "); put((((uint32_t *)spare_va)[PVKIT_X86_PV_VIRT_BASE >> 22]) == pde ? "ok" : "BAD"); flush();
    result("restore", HYPERVISOR_update_va_mapping(spare_va, pte_of_pfn(spare, P | RW), UVMF_INVLPG));
    result("mmu_update of the hole slot", mmu1(l2_mfn << 12 | 1023 * 4, l2_mfn << 12 | P));
    result("mmu_update linear page table", mmu1(l2_mfn << 12 | 0x100 * 4, l2_mfn << 12 | P | RW));
    result("mmu_update 4 MiB page", mmu1(l2_mfn << 12 | 0x100 * 4, mfn_list[spare] << 12 | P | 0x80));
    result("mmu_update bad command", mmu1(l2_mfn << 12 | 3, 0));
    result("mmu_update into a foreign frame", mmu1(0u << 12, 0));
    result("pin the hypervisor's frame", ext1(MMUEXT_pin_l1_table, 0));
    result("pin L2 twice", ext1(MMUEXT_pin_l2_table, l2_mfn));
    result("unpin a frame never pinned", ext1(MMUEXT_unpin_table, mfn_list[spare]));
    result("pin a writable page as L1", ext1(MMUEXT_pin_l1_table, mfn_list[spare]));
    result("new_baseptr to a data page with a bad entry", ext1(MMUEXT_new_baseptr, mfn_list[0]));
    result("unknown mmuext", ext1(99, 0));
    result("mmu_update for another domain", HYPERVISOR_mmu_update(0, 0, 0, DOMID_XEN));
    {
        struct trap_info bad[2] = {{6, 0, 0x0008, (unsigned long)gp_entry}, {0, 0, 0, 0}};
        result("set_trap_table with a ring-0 selector", HYPERVISOR_set_trap_table(bad));
    }
    ((volatile uint32_t *)spare_va)[0] = 1; /* still mapped and writable */
    say("domain still running");

    /* 4. A new address space: kernel L2 slots copied, one L1 for the user page at 0x40000000. */
    new_l2_pfn = alloc_pfn();
    uint32_t l1_pfn = alloc_pfn();
    uint32_t user_pfn = alloc_pfn();
    uint32_t *nl2 = va_of_pfn(new_l2_pfn), *nl1 = va_of_pfn(l1_pfn);
    for (int i = 0; i < 1023; i++) nl2[i] = l2[i];
    nl2[USER_BASE >> 22] = pte_of_pfn(l1_pfn, P | RW | US);
    nl1[0] = pte_of_pfn(user_pfn, P | RW | US);
    uint8_t *u = va_of_pfn(user_pfn);
    for (char *c = user_code; c < user_code_end; c++) *u++ = (uint8_t)*c;
    /* Page tables must not be writable anywhere: remap both read-only, then pin. */
    result("pin while writable", ext1(MMUEXT_pin_l1_table, mfn_list[l1_pfn]));
    HYPERVISOR_update_va_mapping((unsigned long)nl1, pte_of_pfn(l1_pfn, P), UVMF_INVLPG);
    HYPERVISOR_update_va_mapping((unsigned long)nl2, pte_of_pfn(new_l2_pfn, P), UVMF_INVLPG);
    result("pin L1", ext1(MMUEXT_pin_l1_table, mfn_list[l1_pfn]));
    result("pin L2", ext1(MMUEXT_pin_l2_table, mfn_list[new_l2_pfn]));
    result("new_baseptr", ext1(MMUEXT_new_baseptr, mfn_list[new_l2_pfn]));
    result("writable mapping of the new L1", HYPERVISOR_update_va_mapping((unsigned long)nl1, pte_of_pfn(l1_pfn, P | RW), UVMF_INVLPG));
    result("mmu_update of the new L1", mmu1(mfn_list[l1_pfn] << 12 | 2 * 4, pte_of_pfn(user_pfn, P | US)));
    put("user page aliased read-only at 0x40002000: "); put(*(volatile uint32_t *)(USER_BASE + 0x2000) == *(uint32_t *)user_code ? "ok" : "BAD"); flush();

    /* Into ring 3 through HYPERVISOR_iret: frame eax, eip, cs, eflags, esp, ss. */
    __asm__ __volatile__(
        "movw %w0, %%ds\n\tmovw %w0, %%es\n\t"
        "pushl %0\n\tpushl %1\n\tpushl $0x200\n\tpushl %2\n\tpushl %3\n\tpushl $0\n\t"
        "movl $23, %%eax\n\tint $0x82\n\tud2"
        :
        : "r"((uint32_t)FLAT_RING3_DS), "r"(USER_BASE + PAGE), "r"((uint32_t)FLAT_RING3_CS), "r"(USER_BASE)
        : "memory", "eax");
    for (;;) {}
}

static void after_user(void)
{
    put("back in the kernel: #GP "); putdec(gp_count); put(", #PF "); putdec(pf_count); flush();

    /* 5. Events. */
    result("set_callbacks", HYPERVISOR_set_callbacks(FLAT_RING1_CS, (unsigned long)upcall_entry, FLAT_RING1_CS,
                                                     (unsigned long)failsafe_entry));
    struct evtchn_bind_virq bv = {VIRQ_timer, 0, 0};
    result("bind VIRQ_TIMER", HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv));
    timer_port = bv.port;
    /* Masked: the timer fires but no upcall is delivered until the guest unmasks. */
    mask();
    HYPERVISOR_set_timer_op(now_ns() + 10000);
    for (volatile int i = 0; i < 100000; i++) {}
    put("masked: ticks "); putdec(timer_ticks); put(", pending "); putdec(shared->vcpu_info[0].evtchn_upcall_pending); flush();
    unmask();
    /* Unmasking is a store: a pending event needs a hypercall to be delivered (Linux's
       xen_force_evtchn_callback does the same with a null xen_version). */
    HYPERVISOR_xen_version(XENVER_version, 0);
    put("unmasked: ticks "); putdec(timer_ticks); flush();
    while (timer_ticks < 4) {
        HYPERVISOR_set_timer_op(now_ns() + 50000);
        HYPERVISOR_sched_op(SCHEDOP_block, 0); /* clears the mask; the upcall comes on return */
    }
    put("blocked until 4 ticks: "); putdec(timer_ticks); flush();
    say("pv-test done");
    shutdown(SHUTDOWN_poweroff);
}
