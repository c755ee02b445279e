/**
 * The netif front end (netfront) in a TypeScript guest: a `NetDevice` over a tx and an rx ring
 * sharing one event channel.
 *
 * `connect()` runs the XenBus handshake (pv-driver.ts): on the back end's InitWait it
 * initialises and grants both ring pages, allocates the event channel, grants its receive
 * buffers (writable) and publishes tx-ring-ref, rx-ring-ref, event-channel, request-rx-copy
 * and feature-rx-notify; once Connected it posts every receive buffer.
 *
 * Transmit: `send(frame)` waits (FIFO, so frames leave in call order) until the whole frame
 * fits — free tx slots and buffer pages for all its 4 KiB fragments, since a packet must be
 * published in one push — copies it into pages granted read-only to the back end, chains the
 * fragments with NETTXF_more_data (first slot size = whole frame), and resolves when every slot
 * is answered; then grant access ends and the pages are reused (tx completion). Frames sent in
 * the same turn are published with one push.
 *
 * Receive: each posted buffer is one request on the rx ring; the back end copies a frame into
 * the oldest buffers and answers with the byte count (NETRXF_more_data chains fragments). The
 * front end reads the bytes out, emits the frame on `frames$`, and reposts the buffer with the
 * same grant (the back end only ever copies into it, never maps it).
 */
import { type Observable, Subject, type Subscription } from "rxjs";
import {
  AsyncFrontRing,
  EventChannel,
  FrontRing,
  GuestPage,
  type PvEnv,
  PvFrontend,
  XenbusError,
  XenbusState,
} from "../../guest-sdk/index.js";
import { NetRequestError, NetSendError } from "./errors.js";
import {
  defaultMac,
  ETH_HLEN,
  NETIF_PAGE_SIZE,
  NetifKey,
  type NetifRxRequest,
  type NetifRxResponse,
  NetifStatus,
  type NetifTxRequest,
  type NetifTxResponse,
  NetRxFlag,
  NetTxFlag,
  netifRxProtocol,
  netifTxProtocol,
  parseMac,
  XEN_NETIF_MAX_TX_SIZE,
  XEN_NETIF_NR_SLOTS_MIN,
} from "./netif.js";
import type { NetDevice } from "./tokens.js";

export interface NetFrontendOptions {
  devid?: number;
  /** Store device type. Default "vif". */
  type?: string;
  /** Pages for transmit buffers (frames in flight × their fragments). Default 64. */
  txBuffers?: number;
  /** Receive buffers posted to the back end (≤ 256, the rx ring). Default 64. */
  rxBuffers?: number;
}

/** What the front end did (benchmarks, tests). */
export interface NetFrontendCounters {
  txFrames: number;
  txSlots: number;
  txErrors: number;
  rxFrames: number;
  rxBytes: number;
  /** Rx responses with an error status or an impossible offset/size. */
  rxErrors: number;
  /** Frames received with NETRXF_csum_blank / NETRXF_data_validated on their first fragment. */
  rxCsumBlank: number;
  rxDataValidated: number;
}

interface TxWaiter {
  frame: Uint8Array;
  slots: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Ids of raw tx requests start here, above any buffer index `send` uses. */
export const RAW_TX_ID_BASE = 0x8000;

export class NetFrontend extends PvFrontend implements NetDevice {
  mac: Uint8Array;
  readonly maxFrameSize = XEN_NETIF_MAX_TX_SIZE;
  readonly counters: NetFrontendCounters = {
    txFrames: 0,
    txSlots: 0,
    txErrors: 0,
    rxFrames: 0,
    rxBytes: 0,
    rxErrors: 0,
    rxCsumBlank: 0,
    rxDataValidated: 0,
  };
  txRing: AsyncFrontRing<NetifTxRequest, NetifTxResponse> | null = null;
  rxRing: AsyncFrontRing<NetifRxRequest, NetifRxResponse> | null = null;
  channel: EventChannel | null = null;
  private readonly subject = new Subject<Uint8Array>();
  /** Frames received, in arrival order (emitted inside the event upcall's turn). */
  readonly frames$: Observable<Uint8Array> = this.subject.asObservable();
  private readonly txBufferCount: number;
  private readonly rxBufferCount: number;
  private txRingPfn = -1;
  private rxRingPfn = -1;
  private readonly ringRefs: number[] = [];
  /** Free tx buffer indices; `txPfns[i]` is the page, `i` the request id. */
  private readonly txFree: number[] = [];
  private readonly txPfns: number[] = [];
  private readonly txWait: TxWaiter[] = [];
  private readonly rxPfns: number[] = [];
  private readonly rxGrefs: number[] = [];
  /** Fragments of the frame being received, and its first fragment's flags. */
  private rxParts: Uint8Array[] = [];
  private rxFlags = -1;
  private rxBroken = false;
  private closedReason: Error | null = null;
  private backendWatch: Subscription | null = null;

  constructor(env: PvEnv, opts: NetFrontendOptions = {}) {
    super(env, opts.type ?? "vif", opts.devid ?? 0);
    this.txBufferCount = opts.txBuffers ?? 64;
    this.rxBufferCount = Math.min(opts.rxBuffers ?? 64, 256);
    this.mac = defaultMac(env.domid, opts.devid ?? 0);
  }

  protected override async setup(backendId: number): Promise<Record<string, string>> {
    const mac = parseMac(await this.env.store.tryRead(`${this.dir}/${NetifKey.Mac}`));
    if (mac) this.mac = mac;
    const page = () => {
      const pfn = this.env.ctx.allocPage();
      if (pfn < 0) throw new XenbusError("netfront: out of guest pages; give the domain more pages");
      return pfn;
    };
    this.txRingPfn = page();
    this.rxRingPfn = page();
    const mem = this.env.ctx.mem;
    const txFront = new FrontRing(
      new GuestPage(mem, this.txRingPfn),
      netifTxProtocol.request,
      netifTxProtocol.response,
    );
    const rxFront = new FrontRing(
      new GuestPage(mem, this.rxRingPfn),
      netifRxProtocol.request,
      netifRxProtocol.response,
    );
    const txRef = this.env.grants.grantAccess(backendId, this.txRingPfn);
    const rxRef = this.env.grants.grantAccess(backendId, this.rxRingPfn);
    this.ringRefs.push(txRef, rxRef);
    for (let i = 0; i < this.txBufferCount; i++) {
      this.txPfns.push(page());
      this.txFree.push(this.txBufferCount - 1 - i);
    }
    for (let i = 0; i < this.rxBufferCount; i++) {
      const pfn = page();
      this.rxPfns.push(pfn);
      this.rxGrefs.push(this.env.grants.grantAccess(backendId, pfn));
    }
    this.channel = await EventChannel.allocUnbound(this.env.hypercalls, this.env.events, backendId);
    const ch = this.channel;
    const tx = new AsyncFrontRing(txFront, () => ch.notify(), netifTxProtocol.ids, "microtask");
    const rx = new AsyncFrontRing(rxFront, () => ch.notify(), netifRxProtocol.ids, "microtask");
    this.txRing = tx;
    this.rxRing = rx;
    ch.events$.subscribe(() => {
      tx.onNotification();
      rx.onNotification();
    });
    return {
      [NetifKey.TxRingRef]: String(txRef),
      [NetifKey.RxRingRef]: String(rxRef),
      [NetifKey.EventChannel]: String(ch.port),
      [NetifKey.RequestRxCopy]: "1",
      [NetifKey.FeatureRxNotify]: "1",
    };
  }

  protected override async connected(): Promise<void> {
    for (let i = 0; i < this.rxBufferCount; i++) this.postRx(i);
    // A back end that gives up on us (Closing after a protocol error) fails pending and later
    // sends with its reason instead of leaving them waiting forever.
    this.backendWatch = this.env.store.watch(`${this.backendDir}/state`).subscribe(() => {
      void (async () => {
        const st = Number(await this.env.store.tryRead(`${this.backendDir}/state`));
        if (st < XenbusState.Closing) return;
        const why = (await this.env.store.tryRead(`${this.backendDir}/error`)) ?? "no error key";
        this.shutdown(new NetRequestError(`back end ${this.backendDir} is closing (state ${st}): ${why}`));
      })();
    });
  }

  protected override async teardown(): Promise<void> {
    this.backendWatch?.unsubscribe();
    this.backendWatch = null;
    this.shutdown(new NetRequestError("netfront disconnected"));
    await this.channel?.close();
    for (const ref of [...this.ringRefs, ...this.rxGrefs]) {
      try {
        this.env.grants.endAccess(ref);
      } catch {
        // Still mapped by a back end that did not unmap: leave the page alone (never reused).
      }
    }
    this.ringRefs.length = 0;
    this.rxGrefs.length = 0;
    this.subject.complete();
  }

  private shutdown(reason: Error): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.txRing?.shutdown(reason);
    this.rxRing?.shutdown(reason);
    for (const w of this.txWait.splice(0)) w.reject(reason);
  }

  // --- transmit ------------------------------------------------------------------------------

  /** Sends one Ethernet frame (14 … 65535 bytes). */
  send(frame: Uint8Array): Promise<void> {
    if (this.closedReason) return Promise.reject(this.closedReason);
    if (!this.txRing)
      return Promise.reject(new NetRequestError("netfront is not connected: call connect() first"));
    if (frame.length < ETH_HLEN || frame.length > this.maxFrameSize)
      return Promise.reject(
        new NetRequestError(`a frame must be ${ETH_HLEN}…${this.maxFrameSize} bytes, got ${frame.length}`),
      );
    const slots = Math.max(1, Math.ceil(frame.length / NETIF_PAGE_SIZE));
    if (slots > XEN_NETIF_NR_SLOTS_MIN || slots > this.txBufferCount)
      return Promise.reject(
        new NetRequestError(`a ${frame.length}-byte frame needs ${slots} slots, too many`),
      );
    return new Promise<void>((resolve, reject) => {
      this.txWait.push({ frame, slots, resolve, reject });
      this.pumpTx();
    });
  }

  /** Starts every waiting frame that fits, in order. */
  private pumpTx(): void {
    const ring = this.txRing;
    if (!ring) return;
    while (this.txWait.length > 0) {
      const w = this.txWait[0]!;
      if (ring.ring.freeRequests() < w.slots || this.txFree.length < w.slots) return;
      this.txWait.shift();
      void this.transmit(ring, w);
    }
  }

  private async transmit(ring: AsyncFrontRing<NetifTxRequest, NetifTxResponse>, w: TxWaiter): Promise<void> {
    const { frame, slots } = w;
    const mem = this.env.ctx.mem;
    const bufs = this.txFree.splice(-slots, slots);
    const grefs: number[] = [];
    const done: Promise<NetifTxResponse>[] = [];
    for (let k = 0; k < slots; k++) {
      const i = bufs[k]!;
      const part = frame.subarray(k * NETIF_PAGE_SIZE, Math.min(frame.length, (k + 1) * NETIF_PAGE_SIZE));
      mem.writeBytes(this.txPfns[i]! * NETIF_PAGE_SIZE, part);
      // The back end only reads transmit buffers: grant them read-only.
      const gref = this.env.grants.grantAccess(this.backendId, this.txPfns[i]!, true);
      grefs.push(gref);
      done.push(
        ring.request({
          gref,
          offset: 0,
          flags: k < slots - 1 ? NetTxFlag.MoreData : 0,
          id: i,
          size: k === 0 ? frame.length : part.length,
        }),
      );
    }
    this.counters.txSlots += slots;
    let status: number = NetifStatus.Okay;
    let failure: Error | null = null;
    try {
      for (const r of await Promise.all(done)) if (r.status !== NetifStatus.Okay) status = r.status;
    } catch (err) {
      failure = err instanceof Error ? err : new NetRequestError(String(err));
    }
    // Tx completion: end access before the pages are reused. A grant still held (a hostile back
    // end that mapped it) cannot be ended: that page is retired.
    for (let k = 0; k < slots; k++) {
      try {
        this.env.grants.endAccess(grefs[k]!);
        this.txFree.push(bufs[k]!);
      } catch {
        // retired
      }
    }
    if (failure) {
      this.counters.txErrors++;
      w.reject(failure);
    } else if (status !== NetifStatus.Okay) {
      this.counters.txErrors++;
      w.reject(new NetSendError(status, frame.length));
    } else {
      this.counters.txFrames++;
      w.resolve();
    }
    this.pumpTx();
  }

  /**
   * Sends tx requests exactly as given (tests of hostile or unusual front ends); resolves with
   * their responses. Ids should be ≥ RAW_TX_ID_BASE so they never collide with `send`'s.
   */
  rawTx(reqs: NetifTxRequest[]): Promise<NetifTxResponse[]> {
    const ring = this.txRing;
    if (!ring) return Promise.reject(new NetRequestError("netfront is not connected"));
    return Promise.all(reqs.map((r) => ring.request(r)));
  }

  // --- receive -------------------------------------------------------------------------------

  private postRx(i: number): void {
    const ring = this.rxRing;
    if (!ring || this.closedReason) return;
    ring.request({ id: i, gref: this.rxGrefs[i]! }).then(
      (rsp) => this.onRx(i, rsp),
      () => undefined, // shut down: the buffer is gone with the ring
    );
  }

  private onRx(i: number, rsp: NetifRxResponse): void {
    if (rsp.status < 0 || rsp.offset + rsp.status > NETIF_PAGE_SIZE) {
      // A dropped or failed fragment spoils the whole frame it belongs to.
      this.counters.rxErrors++;
      this.rxBroken = true;
    } else if (!this.rxBroken) {
      if (this.rxParts.length === 0) this.rxFlags = rsp.flags;
      this.rxParts.push(
        this.env.ctx.mem.readBytes(this.rxPfns[i]! * NETIF_PAGE_SIZE + rsp.offset, rsp.status),
      );
    }
    this.postRx(i);
    if (rsp.status >= 0 && (rsp.flags & NetRxFlag.MoreData) !== 0) return;
    const parts = this.rxParts;
    const broken = this.rxBroken;
    this.rxParts = [];
    this.rxBroken = false;
    if (broken) return;
    let frame: Uint8Array;
    if (parts.length === 1) frame = parts[0]!;
    else {
      frame = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let off = 0;
      for (const p of parts) {
        frame.set(p, off);
        off += p.length;
      }
    }
    this.counters.rxFrames++;
    this.counters.rxBytes += frame.length;
    if (this.rxFlags & NetRxFlag.CsumBlank) this.counters.rxCsumBlank++;
    if (this.rxFlags & NetRxFlag.DataValidated) this.counters.rxDataValidated++;
    this.subject.next(frame);
  }
}
