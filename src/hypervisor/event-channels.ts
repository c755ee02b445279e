/**
 * Event channels with Xen's 2-level ABI: pending and mask bitmaps and the per-vCPU
 * evtchn_upcall_pending / evtchn_upcall_mask / evtchn_pending_sel live in the guest's own
 * shared_info page, byte-exact (xen.h struct shared_info, event_channel.h). Semantics follow
 * Xen's event_2l.c: a send sets the pending bit; only a 0→1 transition on an unmasked port sets
 * the selector bit and upcall_pending and kicks the vCPU; repeated sends coalesce; a masked port
 * stays pending and unmask re-raises it.
 *
 * Other modules extend EVTCHNOP through `registerOp` (the pv-core helper adds bind_ipi and
 * reset there) and use the port primitives below.
 */
import {
  BITS_PER_EVTCHN_WORD_32,
  DomId,
  Errno,
  EvtchnOp,
  EvtchnStat,
  NR_VIRQS,
  readStruct,
  type StructLayout,
  type StructValue,
  Virq,
  writeStruct,
} from "../hypercalls/index.js";
import { PAGE_SIZE, type PhysicalMemory } from "../machine/index.js";
import type { Domain } from "./domain.js";
import type { GuestMemoryCopier } from "./guest-memory.js";

/** A handler for one EVTCHNOP sub-op: `arg` is the guest address of its argument structure. */
export type EvtchnOpHandler = (domain: Domain, arg: number) => number;

export interface EventChannelHost {
  domain(domid: number): Domain | undefined;
  /** Wakes a blocked or polling vCPU of `domain`. */
  kick(domain: Domain): void;
  readonly memory: PhysicalMemory;
  readonly copier: GuestMemoryCopier;
}

/**
 * One event-channel happening, for tracing (`pvkit run --trace events`): a guest's send, a port
 * becoming pending (raise), a send that found the port already pending (coalesced), or a port
 * that became pending while masked (masked: no upcall until unmask).
 */
export interface EvtchnTraceEvent {
  /** `upcall`: a CPU back end entered the guest's event callback (`port` is -1). */
  readonly kind: "send" | "raise" | "coalesced" | "masked" | "unmask" | "upcall";
  readonly domid: number;
  readonly port: number;
}
export type EvtchnListener = (event: EvtchnTraceEvent) => void;

export class EventChannels {
  private readonly ops = new Map<number, EvtchnOpHandler>();
  private readonly listeners: EvtchnListener[] = [];

  constructor(private readonly host: EventChannelHost) {
    this.ops.set(EvtchnOp.alloc_unbound, (d, a) => this.opAllocUnbound(d, a));
    this.ops.set(EvtchnOp.bind_interdomain, (d, a) => this.opBindInterdomain(d, a));
    this.ops.set(EvtchnOp.bind_virq, (d, a) => this.opBindVirq(d, a));
    this.ops.set(EvtchnOp.close, (d, a) => this.opPort(d, a, (p) => this.close(d, p)));
    this.ops.set(EvtchnOp.send, (d, a) => this.opPort(d, a, (p) => this.send(d, p)));
    this.ops.set(EvtchnOp.unmask, (d, a) => this.opPort(d, a, (p) => this.unmask(d, p)));
    this.ops.set(EvtchnOp.status, (d, a) => this.opStatus(d, a));
  }

  /** Plugs in (or replaces, if `replace`) the handler of an EVTCHNOP sub-op. */
  registerOp(cmd: number, handler: EvtchnOpHandler, replace = false): void {
    if (this.ops.has(cmd) && !replace) throw new Error(`EVTCHNOP ${cmd} already has a handler`);
    this.ops.set(cmd, handler);
  }

  /** Adds a trace listener; returns a function that removes it. Costs nothing without listeners. */
  onEvent(listener: EvtchnListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  private trace(kind: EvtchnTraceEvent["kind"], domid: number, port: number): void {
    for (const l of this.listeners) l({ kind, domid, port });
  }

  /** HYPERVISOR_event_channel_op(cmd, arg). */
  hypercall(domain: Domain, cmd: number, arg: number): number {
    const op = this.ops.get(cmd);
    return op ? op(domain, arg) : Errno.ENOSYS;
  }

  // --- port primitives ------------------------------------------------------------------

  /**
   * EVTCHNOP_alloc_unbound for `domain`: a fresh port that `remote` may bind to. As in Xen the
   * remote domain need not exist yet (a toolstack prepares ports for a domain it is building).
   */
  allocUnbound(domain: Domain, remote: number): number {
    if (!Number.isInteger(remote) || remote < 0 || remote > 0xffff) return Errno.EINVAL;
    const port = domain.evtchn.allocate();
    if (port < 0) return Errno.ENOSPC;
    domain.evtchn.state[port] = EvtchnStat.unbound;
    domain.evtchn.remoteDom[port] = remote;
    return port;
  }

  /** EVTCHNOP_bind_interdomain: connects a fresh local port to `remote`'s unbound port. */
  bindInterdomain(domain: Domain, remoteDomid: number, remotePort: number): number {
    const remote = this.host.domain(remoteDomid);
    if (!remote) return Errno.ESRCH;
    const rt = remote.evtchn;
    if (!rt.valid(remotePort)) return Errno.EINVAL;
    if (rt.state[remotePort] !== EvtchnStat.unbound || rt.remoteDom[remotePort] !== domain.domid)
      return Errno.EINVAL;
    const port = domain.evtchn.allocate();
    if (port < 0) return Errno.ENOSPC;
    const lt = domain.evtchn;
    lt.state[port] = EvtchnStat.interdomain;
    lt.remoteDom[port] = remote.domid;
    lt.remotePort[port] = remotePort;
    rt.state[remotePort] = EvtchnStat.interdomain;
    rt.remoteDom[remotePort] = domain.domid;
    rt.remotePort[remotePort] = port;
    // Xen sets the local port pending so that no notification sent before the bind is lost.
    this.setPending(domain, port);
    return port;
  }

  /** EVTCHNOP_bind_virq (TIMER, DEBUG per vCPU; CONSOLE global). */
  bindVirq(domain: Domain, virq: number, vcpu: number): number {
    if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) return Errno.EINVAL;
    if (virq !== Virq.timer && virq !== Virq.debug && virq !== Virq.console) return Errno.EINVAL;
    if (vcpu !== 0) return Errno.ENOENT;
    const t = domain.evtchn;
    if (t.virqToPort[virq] !== 0) return Errno.EEXIST;
    const port = t.allocate();
    if (port < 0) return Errno.ENOSPC;
    t.state[port] = EvtchnStat.virq;
    t.virq[port] = virq;
    t.virqToPort[virq] = port;
    return port;
  }

  /** A port of `domain` whose peer is the hypervisor: each send from the guest calls `handler`. */
  bindXen(domain: Domain, handler: () => void): number {
    const t = domain.evtchn;
    const port = t.allocate();
    if (port < 0) return Errno.ENOSPC;
    t.state[port] = EvtchnStat.interdomain;
    t.remoteDom[port] = DomId.XEN;
    t.xenHandlers.set(port, handler);
    return port;
  }

  /** EVTCHNOP_close: an interdomain peer goes back to unbound, awaiting a new connection. */
  close(domain: Domain, port: number): number {
    const t = domain.evtchn;
    if (!t.valid(port)) return Errno.EINVAL;
    switch (t.state[port]) {
      case EvtchnStat.closed:
        return Errno.EINVAL;
      case EvtchnStat.virq:
        t.virqToPort[t.virq[port]!] = 0;
        break;
      case EvtchnStat.interdomain: {
        const remote = this.host.domain(t.remoteDom[port]!);
        const rp = t.remotePort[port]!;
        if (
          remote &&
          remote.evtchn.state[rp] === EvtchnStat.interdomain &&
          remote.evtchn.remotePort[rp] === port
        ) {
          remote.evtchn.state[rp] = EvtchnStat.unbound;
          remote.evtchn.remoteDom[rp] = domain.domid;
          remote.evtchn.remotePort[rp] = 0;
        }
        break;
      }
    }
    t.reset(port);
    this.clearPending(domain, port);
    return 0;
  }

  /** Closes every port of a dying domain. */
  closeAll(domain: Domain): void {
    for (let p = 1; p < domain.evtchn.maxPorts; p++) {
      if (domain.evtchn.state[p] !== EvtchnStat.closed) this.close(domain, p);
    }
  }

  /** EVTCHNOP_send: notifies the other end of `port`. Unbound ports drop it silently (Xen). */
  send(domain: Domain, port: number): number {
    const t = domain.evtchn;
    if (!t.valid(port)) return Errno.EINVAL;
    switch (t.state[port]) {
      case EvtchnStat.interdomain: {
        domain.stats.eventsSent++;
        if (this.listeners.length > 0) this.trace("send", domain.domid, port);
        const xen = t.xenHandlers.get(port);
        if (xen) {
          xen();
          return 0;
        }
        const remote = this.host.domain(t.remoteDom[port]!);
        if (remote) this.setPending(remote, t.remotePort[port]!);
        return 0;
      }
      case EvtchnStat.ipi:
        domain.stats.eventsSent++;
        if (this.listeners.length > 0) this.trace("send", domain.domid, port);
        this.setPending(domain, port);
        return 0;
      case EvtchnStat.unbound:
        return 0;
      default:
        return Errno.EINVAL;
    }
  }

  /** Raises a VIRQ in `domain` if the guest bound it (else it is dropped, as in Xen). */
  sendVirq(domain: Domain, virq: number): void {
    const port = domain.evtchn.virqToPort[virq] ?? 0;
    if (port !== 0) this.setPending(domain, port);
  }

  /** Notifies `domain` on `port` from the hypervisor side (console, store daemon). */
  notifyFromXen(domain: Domain, port: number): void {
    if (domain.evtchn.valid(port)) this.setPending(domain, port);
  }

  /** EVTCHNOP_unmask: clears the mask bit and re-raises the port if it is pending. */
  unmask(domain: Domain, port: number): number {
    if (!domain.evtchn.valid(port)) return Errno.EINVAL;
    const m = this.host.memory;
    const base = this.sharedBase(domain);
    if (base < 0) return Errno.EINVAL;
    const L = domain.layouts.sharedInfo.offsets;
    const word = port >>> 5;
    const bit = 1 << (port & 31);
    const maskAddr = base + L.evtchn_mask! + word * 4;
    const pendAddr = base + L.evtchn_pending! + word * 4;
    const mask = m.read32(maskAddr);
    if ((mask & bit) === 0) return 0;
    m.write32(maskAddr, mask & ~bit);
    if ((m.read32(pendAddr) & bit) !== 0) {
      if (this.listeners.length > 0) this.trace("unmask", domain.domid, port);
      this.raiseSelector(domain, word);
    }
    return 0;
  }

  // --- 2-level bitmap operations in shared_info ------------------------------------------

  /** Machine address of `domain`'s shared_info, or -1. */
  sharedBase(domain: Domain): number {
    return domain.sharedInfoMfn < 0 ? -1 : domain.sharedInfoMfn * PAGE_SIZE;
  }

  /** evtchn_2l_set_pending: sets the bit; on a 0→1 edge of an unmasked port, raises the selector. */
  setPending(domain: Domain, port: number): void {
    const base = this.sharedBase(domain);
    if (base < 0 || !domain.alive) return;
    const m = this.host.memory;
    const L = domain.layouts.sharedInfo.offsets;
    const word = port >>> 5;
    const bit = 1 << (port & 31);
    const pendAddr = base + L.evtchn_pending! + word * 4;
    const pend = m.read32(pendAddr);
    const tracing = this.listeners.length > 0;
    if ((pend & bit) !== 0) {
      if (tracing) this.trace("coalesced", domain.domid, port);
      return; // already pending
    }
    m.write32(pendAddr, pend | bit);
    domain.stats.eventsDelivered++;
    // A vCPU in SCHEDOP_poll on this port wakes even if the port is masked (Xen's
    // evtchn_check_pollers runs before the mask test).
    if (domain.vcpu.pollPorts?.includes(port)) this.host.kick(domain);
    if ((m.read32(base + L.evtchn_mask! + word * 4) & bit) !== 0) {
      if (tracing) this.trace("masked", domain.domid, port);
      return; // stays pending until unmask
    }
    if (tracing) this.trace("raise", domain.domid, port);
    this.raiseSelector(domain, word);
  }

  private raiseSelector(domain: Domain, word: number): void {
    const m = this.host.memory;
    const v = this.sharedBase(domain) + domain.layouts.sharedInfo.offsets.vcpu_info!;
    const V = domain.layouts.vcpuInfo.offsets;
    const selAddr = v + V.evtchn_pending_sel!;
    const sel = m.read32(selAddr);
    const sbit = 1 << (word % BITS_PER_EVTCHN_WORD_32);
    if ((sel & sbit) !== 0) return;
    m.write32(selAddr, sel | sbit);
    if (m.read8(v + V.evtchn_upcall_pending!) === 0) {
      m.write8(v + V.evtchn_upcall_pending!, 1);
    }
    this.host.kick(domain);
  }

  /** Clears a port's pending bit (on close). */
  clearPending(domain: Domain, port: number): void {
    const base = this.sharedBase(domain);
    if (base < 0) return;
    const m = this.host.memory;
    const addr = base + domain.layouts.sharedInfo.offsets.evtchn_pending! + (port >>> 5) * 4;
    m.write32(addr, m.read32(addr) & ~(1 << (port & 31)));
  }

  /** True if the port's pending bit is set. */
  isPending(domain: Domain, port: number): boolean {
    const base = this.sharedBase(domain);
    if (base < 0) return false;
    const addr = base + domain.layouts.sharedInfo.offsets.evtchn_pending! + (port >>> 5) * 4;
    return (this.host.memory.read32(addr) & (1 << (port & 31))) !== 0;
  }

  /** evtchn_upcall_pending && !evtchn_upcall_mask for vCPU 0 (local_events_need_delivery). */
  eventsNeedDelivery(domain: Domain): boolean {
    const base = this.sharedBase(domain);
    if (base < 0) return false;
    const v = base + domain.layouts.sharedInfo.offsets.vcpu_info!;
    const V = domain.layouts.vcpuInfo.offsets;
    const m = this.host.memory;
    return m.read8(v + V.evtchn_upcall_pending!) !== 0 && m.read8(v + V.evtchn_upcall_mask!) === 0;
  }

  /**
   * A CPU back end is entering `domain`'s event callback: as Xen does on delivery, the upcall
   * mask is set (the guest clears it when it has scanned the pending bits); the delivery is
   * counted in the domain's statistics and traced. One place for TS, MIPS and x86 back ends.
   */
  upcallDelivered(domain: Domain): void {
    this.setUpcallMask(domain, true);
    domain.stats.upcalls++;
    if (this.listeners.length > 0) this.trace("upcall", domain.domid, -1);
  }

  /** Sets or clears vcpu_info[0].evtchn_upcall_mask. */
  setUpcallMask(domain: Domain, masked: boolean): void {
    const base = this.sharedBase(domain);
    if (base < 0) return;
    const v = base + domain.layouts.sharedInfo.offsets.vcpu_info!;
    this.host.memory.write8(v + domain.layouts.vcpuInfo.offsets.evtchn_upcall_mask!, masked ? 1 : 0);
  }

  // --- hypercall argument handling (copy in once, validate, act, copy out) ---------------

  private readArg(domain: Domain, layout: StructLayout, addr: number): StructValue | null {
    const view = this.host.copier.viewIn(domain, addr, layout.size);
    return view ? readStruct(layout, view, 0) : null;
  }

  private writeArg(domain: Domain, layout: StructLayout, addr: number, value: StructValue): boolean {
    const bytes = new Uint8Array(layout.size);
    writeStruct(layout, value, new DataView(bytes.buffer), 0);
    return this.host.copier.copyOut(domain, addr, bytes);
  }

  /** Writes one u32 OUT field of an argument structure. */
  private writeOut(domain: Domain, addr: number, offset: number, value: number): boolean {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    return this.host.copier.copyOut(domain, addr + offset, b);
  }

  private resolveDom(domain: Domain, dom: number): number {
    return dom === DomId.SELF ? domain.domid : dom;
  }

  private opAllocUnbound(domain: Domain, addr: number): number {
    const L = domain.layouts.evtchnAllocUnbound;
    const a = this.readArg(domain, L, addr);
    if (!a) return Errno.EFAULT;
    const dom = this.resolveDom(domain, a.dom as number);
    const remote = this.resolveDom(domain, a.remote_dom as number);
    if (dom !== domain.domid && !domain.privileged) return Errno.EPERM;
    const target = this.host.domain(dom);
    if (!target) return Errno.ESRCH;
    const port = this.allocUnbound(target, remote);
    if (port < 0) return port;
    if (!this.writeOut(domain, addr, L.offsets.port!, port)) {
      target.evtchn.reset(port);
      return Errno.EFAULT;
    }
    return 0;
  }

  private opBindInterdomain(domain: Domain, addr: number): number {
    const L = domain.layouts.evtchnBindInterdomain;
    const a = this.readArg(domain, L, addr);
    if (!a) return Errno.EFAULT;
    const port = this.bindInterdomain(
      domain,
      this.resolveDom(domain, a.remote_dom as number),
      a.remote_port as number,
    );
    if (port < 0) return port;
    if (!this.writeOut(domain, addr, L.offsets.local_port!, port)) {
      this.close(domain, port);
      return Errno.EFAULT;
    }
    return 0;
  }

  private opBindVirq(domain: Domain, addr: number): number {
    const L = domain.layouts.evtchnBindVirq;
    const a = this.readArg(domain, L, addr);
    if (!a) return Errno.EFAULT;
    const port = this.bindVirq(domain, a.virq as number, a.vcpu as number);
    if (port < 0) return port;
    if (!this.writeOut(domain, addr, L.offsets.port!, port)) {
      this.close(domain, port);
      return Errno.EFAULT;
    }
    return 0;
  }

  private opPort(domain: Domain, addr: number, act: (port: number) => number): number {
    const view = this.host.copier.viewIn(domain, addr, 4);
    if (!view) return Errno.EFAULT;
    return act(view.getUint32(0, true));
  }

  private opStatus(domain: Domain, addr: number): number {
    const L = domain.layouts.evtchnStatus;
    const a = this.readArg(domain, L, addr);
    if (!a) return Errno.EFAULT;
    const dom = this.resolveDom(domain, a.dom as number);
    if (dom !== domain.domid && !domain.privileged) return Errno.EPERM;
    const target = this.host.domain(dom);
    if (!target) return Errno.ESRCH;
    const port = a.port as number;
    const t = target.evtchn;
    if (!t.valid(port)) return Errno.EINVAL;
    const status = t.state[port]!;
    const out: StructValue = { status, vcpu: t.vcpu[port]! };
    if (status === EvtchnStat.unbound) out.u = { unbound: { dom: t.remoteDom[port]! } };
    else if (status === EvtchnStat.interdomain)
      out.u = { interdomain: { dom: t.remoteDom[port]!, port: t.remotePort[port]! } };
    else if (status === EvtchnStat.virq) out.u = { virq: t.virq[port]! };
    return this.writeArg(domain, L, addr, { ...a, ...out }) ? 0 : Errno.EFAULT;
  }
}
