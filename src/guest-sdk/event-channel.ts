/**
 * Event channels as a guest sees them: one upcall handler scans the 2-level pending bitmaps in
 * shared_info (as Linux's evtchn_do_upcall / xen_evtchn_do_upcall) and fans each pending,
 * unmasked port out to an rxjs stream. A bound port is an `Observable<void>`; repeated sends
 * that arrive while the port is still pending coalesce into one emission (Xen's 2-level ABI).
 *
 * Subscribers run synchronously inside the upcall, with events masked for this vCPU; they
 * should do their ring work and return (STYLE.md rule 12: rxjs at the edges).
 */
import { Observable, Subject } from "rxjs";
import type { GuestContext } from "../hypercalls/index.js";
import { HypercallClient } from "./hypercall-client.js";

/** Per-guest event dispatch: owns the upcall handler and one Subject per bound port. */
export class EventDispatcher {
  private readonly subjects = new Map<number, Subject<void>>();
  /** Upcalls taken and port events delivered (statistics). */
  upcalls = 0;
  delivered = 0;

  constructor(readonly ctx: GuestContext) {
    ctx.setUpcallHandler(() => this.upcall());
  }

  /** The stream of notifications on `port`. */
  port$(port: number): Observable<void> {
    return new Observable<void>((sub) => {
      let s = this.subjects.get(port);
      if (!s) {
        s = new Subject<void>();
        this.subjects.set(port, s);
      }
      const inner = s.subscribe(sub);
      return () => {
        inner.unsubscribe();
        if (s && !s.observed) this.subjects.delete(port);
      };
    });
  }

  /** Stops delivering `port` (after EVTCHNOP_close). */
  forget(port: number): void {
    this.subjects.get(port)?.complete();
    this.subjects.delete(port);
  }

  /**
   * evtchn_do_upcall: clear upcall_pending, take the selector, and for each word the pending
   * and unmasked bits; clear each port's pending bit before delivering it, so a send that
   * arrives during delivery raises it again rather than being lost.
   */
  private upcall(): void {
    this.upcalls++;
    const mem = this.ctx.mem;
    const L = this.ctx.layouts;
    const si = this.ctx.sharedInfoAddress;
    const vcpu = si + L.sharedInfo.offsets.vcpu_info!;
    const pendingSel = vcpu + L.vcpuInfo.offsets.evtchn_pending_sel!;
    const pending = si + L.sharedInfo.offsets.evtchn_pending!;
    const mask = si + L.sharedInfo.offsets.evtchn_mask!;
    for (;;) {
      mem.write8(vcpu + L.vcpuInfo.offsets.evtchn_upcall_pending!, 0);
      const sel = mem.read32(pendingSel);
      if (sel === 0) return;
      mem.write32(pendingSel, 0);
      for (let w = 0; w < 32; w++) {
        if ((sel & (1 << w)) === 0) continue;
        let bits = (mem.read32(pending + w * 4) & ~mem.read32(mask + w * 4)) >>> 0;
        while (bits !== 0) {
          const b = 31 - Math.clz32(bits & -bits);
          bits &= bits - 1;
          const port = w * 32 + b;
          mem.write32(pending + w * 4, mem.read32(pending + w * 4) & ~(1 << b));
          this.delivered++;
          this.subjects.get(port)?.next();
        }
      }
    }
  }
}

/** A bound event-channel port: notifications in as `events$`, out with `notify()`. */
export class EventChannel {
  private constructor(
    readonly client: HypercallClient,
    readonly dispatcher: EventDispatcher,
    readonly port: number,
  ) {}

  /** Notifications arriving on this port. */
  get events$(): Observable<void> {
    return this.dispatcher.port$(this.port);
  }

  /** EVTCHNOP_send (fire and forget: a yield point, the result is not needed). */
  notify(): void {
    void this.client.evtchnSend(this.port);
  }

  /** EVTCHNOP_close. */
  async close(): Promise<void> {
    this.dispatcher.forget(this.port);
    await this.client.evtchnClose(this.port);
  }

  /** Allocates an unbound port for `remoteDom` to bind to (the front end's side). */
  static async allocUnbound(
    client: HypercallClient,
    d: EventDispatcher,
    remoteDom: number,
  ): Promise<EventChannel> {
    const port = HypercallClient.ok(await client.evtchnAllocUnbound(remoteDom), 32, "EVTCHNOP_alloc_unbound");
    return new EventChannel(client, d, port);
  }

  /** Binds to `remotePort` of `remoteDom` (the back end's side). */
  static async bindInterdomain(
    client: HypercallClient,
    d: EventDispatcher,
    remoteDom: number,
    remotePort: number,
  ): Promise<EventChannel> {
    const port = HypercallClient.ok(
      await client.evtchnBindInterdomain(remoteDom, remotePort),
      32,
      "EVTCHNOP_bind_interdomain",
    );
    return new EventChannel(client, d, port);
  }

  static async bindVirq(client: HypercallClient, d: EventDispatcher, virq: number): Promise<EventChannel> {
    return new EventChannel(
      client,
      d,
      HypercallClient.ok(await client.evtchnBindVirq(virq), 32, "EVTCHNOP_bind_virq"),
    );
  }

  static async bindIpi(client: HypercallClient, d: EventDispatcher): Promise<EventChannel> {
    return new EventChannel(
      client,
      d,
      HypercallClient.ok(await client.evtchnBindIpi(), 32, "EVTCHNOP_bind_ipi"),
    );
  }

  /** A port already bound elsewhere (e.g. start_info.store_evtchn). */
  static existing(client: HypercallClient, d: EventDispatcher, port: number): EventChannel {
    return new EventChannel(client, d, port);
  }
}
