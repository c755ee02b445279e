/*
 * pv-events: event channels and upcalls in a MIPS PV domain (docs/mips-pv-abi.md "Upcall
 * entry"), the machine-code counterpart of the TypeScript SDK's EventChannel. It binds
 * VIRQ_TIMER and an IPI port, registers ev_upcall (start.S) with set_callbacks and checks
 * Xen's delivery rules one by one:
 *   1. set_timer_op + SCHEDOP_block: the vCPU sleeps and wakes with exactly one timer upcall;
 *   2. EVTCHNOP_send to itself: the upcall comes as the hypercall returns;
 *   3. evtchn_upcall_mask set: no upcall; cleared: the next hypervisor entry delivers it
 *      (Linux's force_evtchn_callback is a null xen_version hypercall);
 *   4. a port masked in evtchn_mask: the send stays pending without an upcall until
 *      EVTCHNOP_unmask, which delivers it.
 * Prints one line per check and shuts down with SCHEDOP_shutdown (poweroff; crash on failure).
 */
#include "pvkit_hypercall.h"

typedef unsigned int u32;

#define KSSEG 0xC0000000u
#define PHYS_TO_KVA(pa) ((void *)(KSSEG + (u32)(pa)))
#define KVA_TO_PHYS(p) ((u32)(p) - KSSEG)
#define TIMER_TICKS 5
#define TICK_NS 1000000u

extern const u32 pv_vectors[];
extern void ev_upcall(void);

static volatile struct shared_info *sh;
static u32 timer_port, ipi_port;
static volatile u32 upcalls, timer_events, ipi_events, stray_events;
static int failed;

static long hyp(u32 nr, u32 a1, u32 a2, u32 a3) {
  return _pvkit_hypercall(nr, a1, a2, a3, 0, 0);
}

static long evtchn_op(int cmd, void *arg) {
  return hyp(__HYPERVISOR_event_channel_op, (u32)cmd, KVA_TO_PHYS(arg), 0);
}

static void puts_(const char *s) {
  u32 n = 0;
  while (s[n]) n++;
  hyp(__HYPERVISOR_console_io, CONSOLEIO_write, n, KVA_TO_PHYS(s));
}

static char *utoa(char *p, u32 v) {
  char tmp[12];
  int n = 0;
  do tmp[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

static char line[128];

/* "pv-events: <what> <got>/<want> ok|FAILED\n" */
static void check(const char *what, u32 got, u32 want) {
  char *p = line;
  for (const char *s = "pv-events: "; *s;) *p++ = *s++;
  while (*what) *p++ = *what++;
  *p++ = ' ';
  p = utoa(p, got);
  *p++ = '/';
  p = utoa(p, want);
  for (const char *s = got == want ? " ok\n" : " FAILED\n"; *s;) *p++ = *s++;
  *p = 0;
  puts_(line);
  if (got != want) failed = 1;
}

/* Xen's 2-level scan: upcall_pending, then the selector, then pending & ~mask per word. */
void evtchn_do_upcall(void) {
  volatile struct vcpu_info *v = &sh->vcpu_info[0];
  upcalls++;
  v->evtchn_upcall_pending = 0;
  u32 sel = v->evtchn_pending_sel;
  v->evtchn_pending_sel = 0;
  while (sel != 0) {
    u32 w = (u32)__builtin_ctz(sel);
    sel &= sel - 1;
    u32 bits = sh->evtchn_pending[w] & ~sh->evtchn_mask[w];
    while (bits != 0) {
      u32 b = (u32)__builtin_ctz(bits);
      bits &= bits - 1;
      sh->evtchn_pending[w] &= ~(1u << b);
      u32 port = w * 32 + b;
      if (port == timer_port) timer_events++;
      else if (port == ipi_port) ipi_events++;
      else stray_events++;
    }
  }
  v->evtchn_upcall_mask = 0; /* the eret hypercall re-checks for events that came meanwhile */
}

static uint64_t now_ns(void) {
  volatile struct vcpu_time_info *t = &sh->vcpu_info[0].time;
  u32 ver;
  uint64_t st;
  do {
    ver = t->version;
    st = t->system_time;
  } while ((ver & 1) != 0 || ver != t->version);
  return st;
}

static void send_ipi(void) {
  struct evtchn_send s = {.port = ipi_port};
  evtchn_op(EVTCHNOP_send, &s);
}

void main(u32 start_info_pa) {
  const struct start_info *si = PHYS_TO_KVA(start_info_pa);
  sh = PHYS_TO_KVA(si->shared_info);
  if (hyp(__HYPERVISOR_mips_set_vectors, (u32)pv_vectors, 0, 0) != 0) failed = 1;
  if (hyp(__HYPERVISOR_set_callbacks, (u32)ev_upcall, 0, 0) != 0) failed = 1;
  struct evtchn_bind_virq bv = {.virq = VIRQ_timer, .vcpu = 0};
  struct evtchn_bind_ipi bi = {.vcpu = 0};
  if (evtchn_op(EVTCHNOP_bind_virq, &bv) != 0 || evtchn_op(EVTCHNOP_bind_ipi, &bi) != 0) failed = 1;
  timer_port = bv.port;
  ipi_port = bi.port;

  /* 1. Sleep until the timer, TIMER_TICKS times. */
  u32 woke = 0;
  for (int i = 0; i < TIMER_TICKS; i++) {
    u32 before = timer_events;
    HYPERVISOR_set_timer_op(now_ns() + TICK_NS);
    while (timer_events == before) hyp(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
    woke += timer_events - before;
  }
  check("timer upcalls after SCHEDOP_block", woke, TIMER_TICKS);

  /* 2. An event sent to ourselves arrives as the send returns. */
  send_ipi();
  check("ipi upcall on return from EVTCHNOP_send", ipi_events, 1);

  /* 3. The vCPU's upcall mask defers delivery; unmasking plus any hypercall delivers. */
  sh->vcpu_info[0].evtchn_upcall_mask = 1;
  send_ipi();
  u32 masked = ipi_events;
  sh->vcpu_info[0].evtchn_upcall_mask = 0;
  hyp(__HYPERVISOR_xen_version, XENVER_version, 0, 0);
  check("ipi held while evtchn_upcall_mask is set", masked, 1);
  check("ipi delivered after unmask + hypercall", ipi_events, 2);

  /* 4. A masked port stays pending without an upcall; EVTCHNOP_unmask delivers it. */
  sh->evtchn_mask[ipi_port / 32] |= 1u << (ipi_port % 32);
  send_ipi();
  u32 port_masked = ipi_events;
  struct evtchn_unmask um = {.port = ipi_port};
  evtchn_op(EVTCHNOP_unmask, &um);
  check("ipi held while its port is masked", port_masked, 2);
  check("ipi delivered by EVTCHNOP_unmask", ipi_events, 3);

  check("stray events", stray_events, 0);
  check("upcalls in all", upcalls, TIMER_TICKS + 3);
  struct sched_shutdown sd = {.reason = failed ? SHUTDOWN_crash : SHUTDOWN_poweroff};
  hyp(__HYPERVISOR_sched_op, SCHEDOP_shutdown, KVA_TO_PHYS(&sd), 0);
  for (;;) {
  }
}

void unexpected_exception(void) {
  puts_("pv-events: unexpected exception\n");
  struct sched_shutdown sd = {.reason = SHUTDOWN_crash};
  hyp(__HYPERVISOR_sched_op, SCHEDOP_shutdown, KVA_TO_PHYS(&sd), 0);
  for (;;) {
  }
}
