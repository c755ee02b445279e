/**
 * A domain's event-channel ports (Xen's struct evtchn array): state per port in typed arrays.
 * The pending/mask bits themselves live in the guest's shared_info page, not here.
 */
import { EvtchnStat, NR_EVENT_CHANNELS_32 } from "../hypercalls/index.js";

export class EvtchnTable {
  /** EVTCHNSTAT_* per port; port 0 is reserved as in Xen (never allocated). */
  readonly state: Uint8Array;
  /** unbound: the domain allowed to bind; interdomain: the peer domain. */
  readonly remoteDom: Int32Array;
  /** interdomain: the peer's port. */
  readonly remotePort: Int32Array;
  /** virq: the VIRQ number. */
  readonly virq: Int32Array;
  /** vCPU notified (always 0: one vCPU per domain). */
  readonly vcpu: Uint8Array;
  /** Ports whose peer is the hypervisor itself (console, store daemon): port → handler. */
  readonly xenHandlers = new Map<number, () => void>();
  /** VIRQ → bound port (0 = unbound). */
  readonly virqToPort: Int32Array;

  constructor(readonly maxPorts = NR_EVENT_CHANNELS_32) {
    this.state = new Uint8Array(maxPorts);
    this.remoteDom = new Int32Array(maxPorts).fill(-1);
    this.remotePort = new Int32Array(maxPorts);
    this.virq = new Int32Array(maxPorts).fill(-1);
    this.vcpu = new Uint8Array(maxPorts);
    this.virqToPort = new Int32Array(32);
  }

  /** Lowest free port ≥ 1, or -1 if the table is full. */
  allocate(): number {
    for (let p = 1; p < this.maxPorts; p++)
      if (this.state[p] === EvtchnStat.closed && !this.xenHandlers.has(p)) return p;
    return -1;
  }

  valid(port: number): boolean {
    return Number.isInteger(port) && port > 0 && port < this.maxPorts;
  }

  /** Returns a port to the closed state. */
  reset(port: number): void {
    this.state[port] = EvtchnStat.closed;
    this.remoteDom[port] = -1;
    this.remotePort[port] = 0;
    this.virq[port] = -1;
    this.vcpu[port] = 0;
    this.xenHandlers.delete(port);
  }
}
