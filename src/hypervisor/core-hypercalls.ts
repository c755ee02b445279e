/**
 * The core hypercalls: sched_op, set_timer_op, console_io, event_channel_op, xen_version,
 * memory_op (reservation queries). Each validates its raw u32 arguments and copies guest
 * structures in once; results are ≥ 0 or a negative Xen errno.
 */

import { INVALID_MFN } from "../full-virt/index.js";
import {
  ConsoleIo,
  DomId,
  Errno,
  Hypercall,
  NS_PER_CYCLE,
  readStruct,
  SchedOp,
  ShutdownReason,
  VcpuOp,
  Virq,
  XenMem,
  XenVer,
} from "../hypercalls/index.js";
import { BootPfn, type Domain } from "./domain.js";
import type { Hypervisor } from "./hypervisor.js";

/** Xen 4.19's XENVER_version value: pvkit follows that interface version's numbers. */
export const XEN_VERSION = (4 << 16) | 19;
/** Longest console_io write accepted in one call (Xen loops in 128-byte chunks; we copy once). */
export const CONSOLE_IO_MAX = 16 * 1024;
/** SCHEDOP_poll's limit on nr_ports (Xen's do_poll: "> 128 → -EINVAL"). */
export const POLL_MAX_PORTS = 128;

export function registerCoreHypercalls(hv: Hypervisor): void {
  const d = hv.dispatcher;
  d.register(Hypercall.sched_op, ({ domain, args }) => schedOp(hv, domain, args[0]!, args[1]!));
  d.register(Hypercall.set_timer_op, ({ domain, args }) => setTimer(hv, domain, args[0]!, args[1]!));
  d.register(Hypercall.console_io, ({ domain, args }) => consoleIo(hv, domain, args[0]!, args[1]!, args[2]!));
  d.register(Hypercall.event_channel_op, ({ domain, args }) =>
    hv.events.hypercall(domain, args[0]!, args[1]!),
  );
  d.register(Hypercall.xen_version, ({ domain, args }) => xenVersion(hv, domain, args[0]!, args[1]!));
  d.register(Hypercall.memory_op, ({ domain, args }) => memoryOp(hv, domain, args[0]!, args[1]!));
  d.register(Hypercall.set_callbacks, ({ domain, args }) => setCallbacks(domain, args));
  d.register(Hypercall.vcpu_op, ({ domain, args }) => vcpuOp(hv, domain, args[0]!, args[1]!, args[2]!));
  d.register(Hypercall.multicall, ({ domain, args }) => multicall(hv, domain, args[0]!, args[1]!));
}

/** Most entries one multicall may carry (Xen preempts long batches; pvkit bounds them instead). */
export const MULTICALL_MAX = 64;

/**
 * multicall(entries, nr): runs each multicall_entry's op with its first five args through the
 * dispatcher and stores the result in the entry. The whole array is copied in once; nested
 * multicalls fail with -EINVAL in their entry. Stops early if an entry blocks or kills the domain.
 */
function multicall(hv: Hypervisor, domain: Domain, addr: number, nr: number): number {
  const E = domain.layouts.multicallEntry;
  if (nr > MULTICALL_MAX) return Errno.EINVAL;
  const view = hv.copier.viewIn(domain, addr, nr * E.size);
  if (!view) return Errno.EFAULT;
  const args = new Uint32Array(5);
  for (let i = 0; i < nr; i++) {
    const base = i * E.size;
    const op = view.getUint32(base + E.offsets.op!, true);
    for (let k = 0; k < 5; k++) args[k] = view.getUint32(base + E.offsets.args! + k * 4, true);
    const result = op === Hypercall.multicall ? Errno.EINVAL : hv.dispatcher.dispatch(domain, op, args);
    const out = new Uint8Array(4);
    new DataView(out.buffer).setInt32(0, result, true);
    if (!hv.copier.copyOut(domain, addr + base + E.offsets.result!, out)) return Errno.EFAULT;
    if (!domain.alive || domain.vcpu.state === "blocked") break;
  }
  return 0;
}

/** vcpu_op for vCPU 0: is_up, set/stop_singleshot_timer (vcpu.h); the rest -ENOSYS. */
function vcpuOp(hv: Hypervisor, domain: Domain, cmd: number, vcpuid: number, arg: number): number {
  if (vcpuid !== 0) return Errno.ENOENT;
  switch (cmd) {
    case VcpuOp.is_up:
      return 1;
    case VcpuOp.set_singleshot_timer: {
      const L = domain.layouts.vcpuSetSingleshotTimer;
      const view = hv.copier.viewIn(domain, arg, L.size);
      if (!view) return Errno.EFAULT;
      const a = readStruct(L, view, 0);
      const ns = Number(a.timeout_abs_ns as bigint);
      // VCPU_SSHOTTMR_future: fail with -ETIME if the deadline has passed.
      if ((a.flags as number) & 1 && ns / NS_PER_CYCLE < hv.clock.cycles) return Errno.ETIME;
      return setTimer(hv, domain, ns % 2 ** 32, Math.floor(ns / 2 ** 32));
    }
    case VcpuOp.stop_singleshot_timer:
      return setTimer(hv, domain, 0, 0);
    default:
      return Errno.ENOSYS;
  }
}

/**
 * set_callbacks: x86_32 (event_selector, event_address, failsafe_selector, failsafe_address) —
 * Xen's legacy x86_32 form; MIPS (event_address, failsafe_address). Only recorded here: the CPU
 * back end that delivers upcalls validates the addresses against the guest's mappings.
 */
function setCallbacks(domain: Domain, args: Uint32Array): number {
  const cb = domain.vcpu.callbacks;
  if (domain.arch === "x86") {
    cb.eventSelector = args[0]! & 0xffff;
    cb.eventAddress = args[1]!;
    cb.failsafeSelector = args[2]! & 0xffff;
    cb.failsafeAddress = args[3]!;
  } else {
    cb.eventAddress = args[0]!;
    cb.failsafeAddress = args[1]!;
  }
  return 0;
}

function schedOp(hv: Hypervisor, domain: Domain, cmd: number, arg: number): number {
  const L = domain.layouts;
  switch (cmd) {
    case SchedOp.yield:
      domain.vcpu.yieldRequested = true;
      return 0;
    case SchedOp.block:
      // Xen: blocking clears the upcall mask (avoids wake-up-waiting races) and does not block
      // if an event is already waiting.
      hv.events.setUpcallMask(domain, false);
      if (!hv.events.eventsNeedDelivery(domain)) hv.scheduler.block(domain.vcpu);
      return 0;
    case SchedOp.shutdown: {
      const view = hv.copier.viewIn(domain, arg, L.schedShutdown.size);
      if (!view) return Errno.EFAULT;
      const reason = view.getUint32(0, true);
      if (reason > ShutdownReason.watchdog) return Errno.EINVAL;
      hv.shutdown(domain.domid, reason);
      return 0;
    }
    case SchedOp.remote_shutdown: {
      if (!domain.privileged) return Errno.EPERM;
      const view = hv.copier.viewIn(domain, arg, L.schedRemoteShutdown.size);
      if (!view) return Errno.EFAULT;
      const a = readStruct(L.schedRemoteShutdown, view, 0);
      const target = hv.domain(a.domain_id as number);
      if (!target) return Errno.ESRCH;
      if ((a.reason as number) > ShutdownReason.watchdog) return Errno.EINVAL;
      hv.shutdown(target.domid, a.reason as number);
      return 0;
    }
    case SchedOp.poll: {
      const view = hv.copier.viewIn(domain, arg, L.schedPoll.size);
      if (!view) return Errno.EFAULT;
      const a = readStruct(L.schedPoll, view, 0);
      const n = a.nr_ports as number;
      if (n > POLL_MAX_PORTS) return Errno.EINVAL;
      const raw = hv.copier.viewIn(domain, a.ports as number, n * 4);
      if (!raw) return Errno.EFAULT;
      const ports: number[] = [];
      for (let i = 0; i < n; i++) {
        const p = raw.getUint32(i * 4, true);
        if (!domain.evtchn.valid(p)) return Errno.EINVAL;
        if (hv.events.isPending(domain, p)) return 0;
        ports.push(p);
      }
      const timeout = a.timeout as bigint;
      if (timeout !== 0n) {
        const at = Number(timeout) / NS_PER_CYCLE;
        if (at <= hv.clock.cycles) return 0;
        hv.clock.cancel(domain.vcpu.timer);
        domain.vcpu.timer = hv.clock.schedule(at, () => {
          domain.vcpu.timer = null;
          hv.scheduler.wake(domain.vcpu);
        });
      }
      domain.vcpu.pollPorts = ports;
      hv.scheduler.block(domain.vcpu);
      return 0;
    }
    default:
      return Errno.ENOSYS;
  }
}

/** set_timer_op(timeout): absolute system time in ns (x86_32: low word, high word); 0 cancels. */
function setTimer(hv: Hypervisor, domain: Domain, lo: number, hi: number): number {
  const ns = hi * 2 ** 32 + lo;
  const v = domain.vcpu;
  hv.clock.cancel(v.timer);
  v.timer = null;
  if (ns === 0) return 0;
  const at = Math.max(hv.clock.cycles, ns / NS_PER_CYCLE);
  v.timer = hv.clock.schedule(at, () => {
    v.timer = null;
    hv.events.sendVirq(domain, Virq.timer);
  });
  return 0;
}

function consoleIo(hv: Hypervisor, domain: Domain, cmd: number, count: number, buffer: number): number {
  switch (cmd) {
    case ConsoleIo.write: {
      if (count > CONSOLE_IO_MAX) return Errno.EINVAL;
      const bytes = hv.copier.copyIn(domain, buffer, count);
      if (!bytes) return Errno.EFAULT;
      domain.console.write(bytes);
      return 0;
    }
    case ConsoleIo.read: {
      if (count > CONSOLE_IO_MAX) return Errno.EINVAL;
      const n = Math.min(count, domain.console.pendingInput);
      // Translate first: a bad buffer must not consume input.
      if (n > 0 && hv.copier.translate(domain, buffer, true) < 0) return Errno.EFAULT;
      const bytes = domain.console.take(n);
      if (!hv.copier.copyOut(domain, buffer, bytes)) return Errno.EFAULT;
      return bytes.length;
    }
    default:
      return Errno.EINVAL;
  }
}

function copyString(hv: Hypervisor, domain: Domain, addr: number, text: string, size: number): number {
  const bytes = new Uint8Array(size);
  bytes.set(new TextEncoder().encode(text).subarray(0, size - 1));
  return hv.copier.copyOut(domain, addr, bytes) ? 0 : Errno.EFAULT;
}

function xenVersion(hv: Hypervisor, domain: Domain, cmd: number, arg: number): number {
  switch (cmd) {
    case XenVer.version:
      return XEN_VERSION;
    case XenVer.extraversion:
      return copyString(hv, domain, arg, "-pvkit", 16); // XEN_EXTRAVERSION_LEN — version.h
    case XenVer.capabilities:
      return copyString(hv, domain, arg, domain.arch === "x86" ? "xen-3.0-x86_32" : "pvkit-3.0-mips32", 1024);
    case XenVer.pagesize:
      return 4096;
    default:
      return Errno.ENOSYS;
  }
}

function memoryOp(hv: Hypervisor, domain: Domain, cmd: number, arg: number): number {
  switch (cmd) {
    case XenMem.maximum_ram_page:
      return hv.machineMemory.machinePages - 1;
    case XenMem.current_reservation:
    case XenMem.maximum_reservation: {
      const view = hv.copier.viewIn(domain, arg, 2);
      if (!view) return Errno.EFAULT;
      let dom = view.getUint16(0, true);
      if (dom === DomId.SELF) dom = domain.domid;
      if (dom !== domain.domid && !domain.privileged) return Errno.EPERM;
      const target = hv.domain(dom);
      if (!target) return Errno.ESRCH;
      return cmd === XenMem.current_reservation
        ? hv.machineMemory.pagesOf(dom)
        : hv.machineMemory.maxPagesOf(dom);
    }
    case XenMem.populate_physmap:
    case XenMem.decrease_reservation:
      return reservation(hv, domain, cmd, arg);
    default:
      return Errno.ENOSYS;
  }
}

/** Most extents one reservation call handles (Xen preempts; pvkit bounds). */
export const RESERVATION_MAX_EXTENTS = 1024;

/**
 * populate_physmap / decrease_reservation for the calling auto-translated domain, order-0
 * extents only (the balloon driver's use). Returns the number of extents done, as Xen does:
 * populate stops at the first pfn that is out of range, already populated, or over the
 * domain's page limit; decrease stops at the first pfn that is not one of its own populated
 * frames beyond the boot pages.
 */
function reservation(hv: Hypervisor, domain: Domain, cmd: number, arg: number): number {
  const L = domain.layouts.xenMemoryReservation;
  const view = hv.copier.viewIn(domain, arg, L.size);
  if (!view) return Errno.EFAULT;
  const r = readStruct(L, view, 0);
  const dom = r.domid as number;
  if (dom !== DomId.SELF && dom !== domain.domid) return Errno.EPERM;
  if ((r.extent_order as number) !== 0 || !domain.autoTranslated) return Errno.EINVAL;
  const n = r.nr_extents as number;
  if (n > RESERVATION_MAX_EXTENTS) return Errno.EINVAL;
  const list = hv.copier.viewIn(domain, r.extent_start as number, n * 4);
  if (!list) return Errno.EFAULT;
  const mm = hv.machineMemory;
  let done = 0;
  for (; done < n; done++) {
    const pfn = list.getUint32(done * 4, true);
    if (cmd === XenMem.populate_physmap) {
      if (pfn >= domain.p2m.nrPfns || domain.p2m.lookup(pfn) !== INVALID_MFN) break;
      const mfn = mm.allocate(domain.domid);
      if (mfn === INVALID_MFN) break;
      domain.p2m.set(pfn, mfn);
      mm.setPfn(mfn, pfn);
    } else {
      const mfn = domain.p2m.lookup(pfn);
      // The boot pages (start_info … console ring) stay: Xen would let a guest free them, but
      // the monitor writes to them on its behalf.
      if (
        pfn < BootPfn.firstFree ||
        mfn === INVALID_MFN ||
        domain.p2m.foreign(pfn) ||
        mm.owner(mfn) !== domain.domid
      )
        break;
      domain.p2m.clear(pfn);
      mm.free(mfn);
    }
  }
  return done;
}
