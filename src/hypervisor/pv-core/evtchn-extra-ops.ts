/**
 * The event-channel sub-ops the core leaves to the PV core: EVTCHNOP_bind_ipi and
 * EVTCHNOP_reset (xen/include/public/event_channel.h; semantics of xen/common/event_channel.c),
 * plugged into the core's EventChannels through `registerOp`.
 *
 * Delivery under load needs nothing extra: the core's 2-level set_pending only raises the
 * selector and kicks the vCPU on a 0→1 edge of an unmasked port, so a flood of sends while the
 * port is pending coalesces into one upcall (tested in test/guest-sdk/events.test.ts).
 */
import { DomId, Errno, EvtchnOp, EvtchnStat, readStruct, writeStruct } from "../../hypercalls/index.js";
import type { Domain } from "../domain.js";
import type { Hypervisor } from "../hypervisor.js";

export function registerEvtchnExtraOps(hv: Hypervisor): void {
  const ev = hv.events;

  // struct evtchn_bind_ipi { uint32_t vcpu; evtchn_port_t port; /* OUT */ }
  ev.registerOp(EvtchnOp.bind_ipi, (d, addr) => {
    const L = d.layouts.evtchnBindIpi;
    const view = hv.copier.viewIn(d, addr, L.size);
    if (!view) return Errno.EFAULT;
    const v = readStruct(L, view, 0);
    if (v.vcpu !== 0) return Errno.ENOENT; // one vCPU per domain
    const port = d.evtchn.allocate();
    if (port < 0) return Errno.ENOSPC;
    d.evtchn.state[port] = EvtchnStat.ipi;
    d.evtchn.vcpu[port] = 0;
    v.port = port;
    const out = new Uint8Array(L.size);
    writeStruct(L, v, new DataView(out.buffer), 0);
    if (!hv.copier.copyOut(d, addr, out)) {
      d.evtchn.reset(port);
      return Errno.EFAULT;
    }
    return 0;
  });

  // struct evtchn_reset { domid_t dom; }: closes every port of `dom` (itself, or any for dom0).
  ev.registerOp(EvtchnOp.reset, (d, addr) => {
    const L = d.layouts.evtchnReset;
    const view = hv.copier.viewIn(d, addr, L.size);
    if (!view) return Errno.EFAULT;
    const dom = view.getUint16(L.offsets.dom!, true);
    const id = dom === DomId.SELF ? d.domid : dom;
    if (id !== d.domid && !d.privileged) return Errno.EPERM;
    const target = hv.domain(id);
    if (!target) return Errno.ESRCH;
    resetPorts(hv, target);
    return 0;
  });
}

/**
 * Closes every guest-bound port of `d`. pvkit keeps the store and console ports, whose peer is
 * the hypervisor itself (Xen closes those too and the guest re-reads start_info after kexec;
 * pvkit has no kexec, so keeping them is what a reset guest needs).
 */
export function resetPorts(hv: Hypervisor, d: Domain): void {
  for (let p = 1; p < d.evtchn.maxPorts; p++) {
    if (d.evtchn.state[p] === EvtchnStat.closed || d.evtchn.xenHandlers.has(p)) continue;
    hv.events.close(d, p);
  }
}
