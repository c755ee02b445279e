/**
 * The netif back end (netback) in the driver domain: one front end's vif, plugged into a
 * `VirtualSwitch` port (injected, like blkback's BlockStore).
 *
 * Handshake: advertise feature-rx-copy, feature-sg and InitWait; when the front end is
 * Initialised read tx-ring-ref, rx-ring-ref, event-channel and request-rx-copy (only the copy
 * receive mode exists, as in modern Linux netback), map both ring pages, bind the one event
 * channel, attach the switch port, go Connected.
 *
 * Transmit (guest → switch), per batch of tx requests one drain produced, each request already
 * copied out of the shared page once (RING_COPY_REQUEST, in the codec):
 *  1. split into packets: first slot, extra-info slots, then fragments chained by
 *     NETTXF_more_data (netif.h "Guest transmit");
 *  2. validate on the copies — fatal (the front end is disconnected, as Linux's
 *     xenvif_fatal_tx_err): a slot whose offset + data length crosses its page, more than
 *     `fatalSlots` slots, an invalid extra type, a packet left unfinished at req_prod; error
 *     (NETIF_RSP_ERROR for each slot, the packet dropped): more than `maxSlots` slots, a
 *     fragment larger than what the first slot says is left, a packet shorter than an Ethernet
 *     header or longer than `maxFrameSize`;
 *  3. grant-copy every slot's bytes into the back end's bounce pages, in batched GNTTABOP_copy
 *     hypercalls; a slot whose copy fails (bad or revoked gref) fails its packet with ERROR;
 *  4. answer every slot (extra-info slots NETIF_RSP_NULL), publish with one push and at most one
 *     notification, then hand the packets to the switch in ring order.
 *
 * Receive (switch → guest), rx-copy: frames the switch delivers are queued; per batch each takes
 * the oldest posted rx buffers (one per 4 KiB, NETRXF_more_data chaining them), is written into
 * bounce pages and grant-copied into the front end's buffers; responses (status = bytes) go in
 * the same ring slots as the requests they consume. A frame finding too few posted buffers is
 * dropped and counted (`rxDropped`). One push and at most one notification per batch.
 *
 * A protocol violation (req_prod overflow on either ring, the fatal cases above) writes the
 * reason to `<backend dir>/error`, unmaps the rings, detaches the port and goes Closing; other
 * vifs, served by their own NetBackend, are unaffected.
 */
import {
  AsyncBackRing,
  BackRing,
  EventChannel,
  type GrantMapping,
  PvBackend,
  type PvEnv,
  XenbusError,
} from "../../guest-sdk/index.js";
import { DomId, GntSt } from "../../hypercalls/index.js";
import { CostTable } from "../../machine/index.js";
import { type CopyOp, GNTCOPY_DEST_GREF, GNTCOPY_SOURCE_GREF, GrantCopier } from "./grant-copier.js";
import {
  ETH_HLEN,
  NETIF_EXTRA_FLAG_MORE,
  NETIF_PAGE_SIZE,
  NetifExtraType,
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
  XEN_NETIF_MAX_TX_SIZE,
  XEN_NETIF_NR_SLOTS_MIN,
} from "./netif.js";
import type { FrameMeta, SwitchPort, VirtualSwitch } from "./virtual-switch.js";

export interface NetBackendOptions {
  /** Device id (`<devid>` of the store paths). Default 0. */
  devid?: number;
  /** Store device type. Default "vif". */
  type?: string;
  /** Slots per packet accepted; more are dropped with ERROR. Default XEN_NETIF_NR_SLOTS_MIN (18), Linux's max_skb_slots. */
  maxSlots?: number;
  /** Slots per packet beyond which the front end is disconnected. Default 20 (Linux's fatal_skb_slots). */
  fatalSlots?: number;
  /** Largest packet forwarded (bytes); larger ones get ERROR. Default 65535 (XEN_NETIF_MAX_TX_SIZE). */
  maxFrameSize?: number;
  /** Bounce pages for each direction (bounds one copy hypercall's data). Default 24, at least fatalSlots + 1. */
  bouncePages?: number;
  /** Frames waiting for receive processing beyond which new ones are dropped. Default 256. */
  rxQueueLimit?: number;
  /** Back-end costs (cycles) per packet and per slot; default CostTable's. */
  costs?: { readonly backendPerRequest: number; readonly backendPerPage: number };
}

/** What the back end did (benchmarks, tests, traces). */
export interface NetBackendCounters {
  /** Packets the front end sent that went to the switch, and their bytes. */
  txFrames: number;
  txBytes: number;
  /** Tx slots consumed (data and extra-info). */
  txSlots: number;
  /** Packets answered NETIF_RSP_ERROR. */
  txErrors: number;
  txBatches: number;
  /** Frames copied into the front end's buffers, and their bytes. */
  rxFrames: number;
  rxBytes: number;
  /** Frames dropped because the front end had posted too few rx buffers (or the queue was full). */
  rxDropped: number;
  /** Rx buffers answered with NETIF_RSP_ERROR (the copy into them failed). */
  rxErrors: number;
  rxBatches: number;
  /** Payload bytes moved by GNTTABOP_copy, both directions. */
  bytesCopied: number;
}

/** One packet as parsed from the tx ring. */
interface TxPacket {
  slots: NetifTxRequest[];
  /** Data bytes in each slot (the first slot's is its size minus the fragments'). */
  lens: number[];
  extras: NetifTxRequest[];
  status: number;
  meta: FrameMeta;
  /** Where each slot's data landed in the bounce pages. */
  at: { pfn: number; offset: number }[];
  /** The packet's bytes once copied out of the bounce pages. */
  data: Uint8Array | null;
}

/** Packs byte ranges into a fixed set of the back end's own pages. */
class BouncePool {
  private readonly pfns: number[] = [];
  private page = 0;
  private offset = 0;

  constructor(
    private readonly env: PvEnv,
    private readonly max: number,
  ) {}

  /** A place for `len` ≤ 4096 bytes, or null when the pool is full (copy, then `reset`). */
  place(len: number): { pfn: number; offset: number } | null {
    if (this.offset + len > NETIF_PAGE_SIZE) {
      this.page++;
      this.offset = 0;
    }
    if (this.page >= this.max) return null;
    while (this.pfns.length <= this.page) {
      const pfn = this.env.ctx.allocPage();
      if (pfn < 0) throw new XenbusError("netback: no free page for a bounce buffer; give dom0 more pages");
      this.pfns.push(pfn);
    }
    const at = { pfn: this.pfns[this.page]!, offset: this.offset };
    this.offset += len;
    return at;
  }

  /** True if `len` more bytes surely fit (whole pages plus one partly used). */
  canFit(len: number): boolean {
    return this.page + Math.ceil(len / NETIF_PAGE_SIZE) + 1 <= this.max;
  }

  reset(): void {
    this.page = 0;
    this.offset = 0;
  }
}

export class NetBackend extends PvBackend {
  readonly counters: NetBackendCounters = {
    txFrames: 0,
    txBytes: 0,
    txSlots: 0,
    txErrors: 0,
    txBatches: 0,
    rxFrames: 0,
    rxBytes: 0,
    rxDropped: 0,
    rxErrors: 0,
    rxBatches: 0,
    bytesCopied: 0,
  };
  txRing: AsyncBackRing<NetifTxRequest, NetifTxResponse> | null = null;
  rxRing: AsyncBackRing<NetifRxRequest, NetifRxResponse> | null = null;
  channel: EventChannel | null = null;
  port: SwitchPort | null = null;
  readonly maxSlots: number;
  readonly fatalSlots: number;
  readonly maxFrameSize: number;
  private readonly costs: { readonly backendPerRequest: number; readonly backendPerPage: number };
  private readonly rxQueueLimit: number;
  private readonly bouncePages: number;
  private txCopier: GrantCopier | null = null;
  private rxCopier: GrantCopier | null = null;
  private txPool: BouncePool | null = null;
  private rxPool: BouncePool | null = null;
  private txMap: GrantMapping | null = null;
  private rxMap: GrantMapping | null = null;
  private readonly txQueue: NetifTxRequest[] = [];
  private readonly rxQueue: { frame: Uint8Array; meta: FrameMeta }[] = [];
  /** Posted rx buffers taken from the ring and not yet answered, oldest first. */
  private readonly rxBufs: NetifRxRequest[] = [];
  private txBusy = false;
  private rxBusy = false;
  private detached = false;

  constructor(
    env: PvEnv,
    frontendId: number,
    readonly sw: VirtualSwitch,
    opts: NetBackendOptions = {},
  ) {
    super(env, opts.type ?? "vif", frontendId, opts.devid ?? 0);
    this.maxSlots = opts.maxSlots ?? XEN_NETIF_NR_SLOTS_MIN;
    this.fatalSlots = Math.max(this.maxSlots, opts.fatalSlots ?? 20);
    this.maxFrameSize = Math.min(opts.maxFrameSize ?? XEN_NETIF_MAX_TX_SIZE, XEN_NETIF_MAX_TX_SIZE);
    this.costs = opts.costs ?? CostTable;
    this.rxQueueLimit = opts.rxQueueLimit ?? 256;
    // A packet of fatalSlots full pages must fit the pool in one chunk.
    this.bouncePages = Math.max(opts.bouncePages ?? 24, this.fatalSlots + 1);
  }

  /** Rx buffers the front end has posted and the back end holds, unused. */
  get rxBuffersPosted(): number {
    return this.rxBufs.length;
  }

  /** GNTTABOP_copy hypercalls issued (both directions) and the copy ops they carried. */
  get copyHypercalls(): { calls: number; ops: number } {
    return {
      calls: (this.txCopier?.calls ?? 0) + (this.rxCopier?.calls ?? 0),
      ops: (this.txCopier?.ops ?? 0) + (this.rxCopier?.ops ?? 0),
    };
  }

  /** True once the rings are mapped and the port is on the switch, until detached. */
  get attached(): boolean {
    return this.port !== null && !this.detached;
  }

  protected override async advertise(): Promise<Record<string, string>> {
    return { [NetifKey.FeatureRxCopy]: "1", [NetifKey.FeatureRxFlip]: "0", [NetifKey.FeatureSg]: "1" };
  }

  protected override async attach(): Promise<void> {
    const num = async (k: string) => {
      const v = Number(await this.frontendKey(k));
      if (!Number.isInteger(v) || v < 0) throw new XenbusError(`${this.frontendDir}/${k} is not a number`);
      return v;
    };
    const txRef = await num(NetifKey.TxRingRef);
    const rxRef = await num(NetifKey.RxRingRef);
    const evtchn = await num(NetifKey.EventChannel);
    const rxCopy = await this.env.store.tryRead(`${this.frontendDir}/${NetifKey.RequestRxCopy}`);
    if (rxCopy !== "1")
      throw new XenbusError(
        `${this.frontendDir}/request-rx-copy is "${rxCopy}": only rx-copy is supported (no page flipping)`,
      );
    this.txCopier = new GrantCopier(this.env);
    this.rxCopier = new GrantCopier(this.env);
    this.txPool = new BouncePool(this.env, this.bouncePages);
    this.rxPool = new BouncePool(this.env, this.bouncePages);
    this.txMap = await this.env.grants.map(this.frontendId, txRef);
    this.rxMap = await this.env.grants.map(this.frontendId, rxRef);
    this.channel = await EventChannel.bindInterdomain(
      this.env.hypercalls,
      this.env.events,
      this.frontendId,
      evtchn,
    );
    const ch = this.channel;
    // Manual flush: responses are published once per batch, by processTx / processRx.
    const tx = new AsyncBackRing(
      new BackRing(this.txMap.page, netifTxProtocol.request, netifTxProtocol.response),
      () => ch.notify(),
      "manual",
    );
    const rx = new AsyncBackRing(
      new BackRing(this.rxMap.page, netifRxProtocol.request, netifRxProtocol.response),
      () => ch.notify(),
      "manual",
    );
    this.txRing = tx;
    this.rxRing = rx;
    const onError = (err: unknown) => void this.fail(err instanceof Error ? err.message : String(err));
    tx.requests$.subscribe({
      next: (req) => {
        this.txQueue.push(req);
        this.kickTx();
      },
      error: onError,
    });
    rx.requests$.subscribe({ next: (req) => this.rxBufs.push(req), error: onError });
    ch.events$.subscribe(() => {
      tx.onNotification();
      rx.onNotification();
      if (this.rxQueue.length > 0) this.kickRx();
    });
    this.port = this.sw.attach(`vif${this.frontendId}.${this.devid}`, (frame, meta) =>
      this.enqueueRx(frame, meta),
    );
    tx.onNotification(); // requests published before we bound the port
    rx.onNotification();
  }

  protected override async detach(): Promise<void> {
    if (this.detached) return;
    this.detached = true;
    this.port?.detach();
    this.txRing?.shutdown();
    this.rxRing?.shutdown();
    await this.channel?.close();
    // Unmap before the front end ends access: the grants stay pinned until then.
    if (this.txMap) await this.env.grants.unmap(this.txMap);
    if (this.rxMap) await this.env.grants.unmap(this.rxMap);
    this.txMap = null;
    this.rxMap = null;
  }

  // --- transmit ------------------------------------------------------------------------------

  private kickTx(): void {
    if (this.txBusy) return;
    this.txBusy = true;
    void this.processTx().finally(() => {
      this.txBusy = false;
    });
  }

  private async processTx(): Promise<void> {
    // The drain that emitted the first request is still running: let it finish, so a batch
    // holds every request published so far and a packet is never split across batches.
    await Promise.resolve();
    try {
      while (this.txQueue.length > 0 && !this.detached) {
        const batch = this.txQueue.splice(0);
        this.counters.txBatches++;
        this.counters.txSlots += batch.length;
        const packets = this.parseTx(batch);
        if (typeof packets === "string") {
          await this.fail(`netback: ${packets}`);
          return;
        }
        await this.copyTx(packets);
        if (this.detached) return;
        const ring = this.txRing!;
        const out: { frame: Uint8Array; meta: FrameMeta }[] = [];
        for (const p of packets) {
          if (p.status === NetifStatus.Okay) {
            const frame = this.gather(p);
            out.push({ frame, meta: p.meta });
            this.counters.txFrames++;
            this.counters.txBytes += frame.length;
          } else this.counters.txErrors++;
          ring.respond({ id: p.slots[0]!.id, status: p.status });
          // netif.h: extra-info slots are answered NETIF_RSP_NULL. Their id field is tx padding;
          // we echo it (Linux leaves the id unwritten), so a front end can match the slot.
          for (const e of p.extras) ring.respond({ id: e.id, status: NetifStatus.Null });
          for (let i = 1; i < p.slots.length; i++) ring.respond({ id: p.slots[i]!.id, status: p.status });
        }
        ring.flush();
        for (const f of out) this.port?.transmit(f.frame, f.meta);
      }
    } catch (err) {
      await this.fail(`netback tx: ${err instanceof Error ? err.message : String(err)}`).catch(
        () => undefined,
      );
    }
  }

  /** Splits a batch into packets; a string is a fatal protocol violation. */
  private parseTx(batch: NetifTxRequest[]): TxPacket[] | string {
    const out: TxPacket[] = [];
    let i = 0;
    while (i < batch.length) {
      const first = batch[i++]!;
      const p: TxPacket = {
        slots: [first],
        lens: [],
        extras: [],
        status: NetifStatus.Okay,
        meta: {
          csumBlank: (first.flags & NetTxFlag.CsumBlank) !== 0,
          dataValidated: (first.flags & NetTxFlag.DataValidated) !== 0,
        },
        at: [],
        data: null,
      };
      if (first.flags & NetTxFlag.ExtraInfo) {
        for (;;) {
          const e = batch[i++];
          if (!e) return `packet ${first.id}: extra-info slot missing at req_prod`;
          // netif_extra_info overlays the request: type = byte 0, flags = byte 1 (the gref's low bytes).
          const type = e.gref & 0xff;
          if (type === NetifExtraType.None || type >= NetifExtraType.Max)
            return `packet ${first.id}: invalid extra-info type ${type}`;
          p.extras.push(e);
          if (((e.gref >>> 8) & 0xff & NETIF_EXTRA_FLAG_MORE) === 0) break;
        }
      }
      let last = first;
      while (last.flags & NetTxFlag.MoreData) {
        if (p.slots.length >= this.fatalSlots)
          return `packet ${first.id} uses more than ${this.fatalSlots} slots`;
        const next = batch[i++];
        if (!next) return `packet ${first.id} is unfinished at req_prod (NETTXF_more_data on its last slot)`;
        p.slots.push(next);
        last = next;
      }
      // Data per slot: fragments carry their own size; the first slot what is left of the total.
      let left = first.size;
      const lens = new Array<number>(p.slots.length);
      for (let k = 1; k < p.slots.length; k++) {
        const s = p.slots[k]!;
        if (s.size > left) p.status = NetifStatus.Error;
        left = Math.max(0, left - s.size);
        lens[k] = s.size;
      }
      lens[0] = left;
      p.lens = lens;
      for (let k = 0; k < p.slots.length; k++)
        if (p.slots[k]!.offset + lens[k]! > NETIF_PAGE_SIZE)
          return `packet ${first.id}: slot ${k} crosses its page (offset ${p.slots[k]!.offset} + ${lens[k]} bytes)`;
      if (p.slots.length > this.maxSlots || first.size < ETH_HLEN || first.size > this.maxFrameSize)
        p.status = NetifStatus.Error;
      out.push(p);
    }
    return out;
  }

  /** Grant-copies the slots of every good packet into bounce pages (chunks of the pool). */
  private async copyTx(packets: TxPacket[]): Promise<void> {
    const pool = this.txPool!;
    const copier = this.txCopier!;
    let ops: CopyOp[] = [];
    let owners: TxPacket[] = [];
    let pending: TxPacket[] = [];
    const run = async () => {
      if (ops.length > 0) {
        const st = await copier.run(ops);
        for (let k = 0; k < st.length; k++) {
          if (st[k] !== GntSt.okay) owners[k]!.status = NetifStatus.Error;
          else this.counters.bytesCopied += ops[k]!.len;
        }
      }
      // Bytes must leave the pool before it is reused by the next chunk.
      for (const p of pending) if (p.status === NetifStatus.Okay) p.data = this.readOut(p);
      ops = [];
      owners = [];
      pending = [];
      pool.reset();
    };
    for (const p of packets) {
      if (p.status !== NetifStatus.Okay) continue;
      this.env.ctx.charge(this.costs.backendPerRequest + this.costs.backendPerPage * p.slots.length);
      let placed = this.placeAll(p, pool);
      if (!placed) {
        await run();
        placed = this.placeAll(p, pool);
        if (!placed)
          throw new RangeError("netback: a packet does not fit the bounce pool; raise bouncePages");
      }
      for (let k = 0; k < p.slots.length; k++) {
        const s = p.slots[k]!;
        if (p.lens[k] === 0) continue;
        ops.push({
          srcRef: s.gref,
          srcDom: this.frontendId,
          srcOffset: s.offset,
          dstRef: p.at[k]!.pfn,
          dstDom: DomId.SELF,
          dstOffset: p.at[k]!.offset,
          len: p.lens[k]!,
          flags: GNTCOPY_SOURCE_GREF,
        });
        owners.push(p);
      }
      pending.push(p);
    }
    await run();
  }

  private placeAll(p: TxPacket, pool: BouncePool): boolean {
    p.at = [];
    for (const len of p.lens) {
      const at = pool.place(len);
      if (!at) return false;
      p.at.push(at);
    }
    return true;
  }

  private readOut(p: TxPacket): Uint8Array {
    const total = p.lens.reduce((a, b) => a + b, 0);
    const frame = new Uint8Array(total);
    let off = 0;
    for (let k = 0; k < p.lens.length; k++) {
      const len = p.lens[k]!;
      if (len > 0)
        frame.set(this.env.ctx.mem.readBytes(p.at[k]!.pfn * NETIF_PAGE_SIZE + p.at[k]!.offset, len), off);
      off += len;
    }
    return frame;
  }

  private gather(p: TxPacket): Uint8Array {
    return p.data ?? new Uint8Array(0);
  }

  // --- receive -------------------------------------------------------------------------------

  private enqueueRx(frame: Uint8Array, meta: FrameMeta): void {
    if (this.detached) return;
    if (this.rxQueue.length >= this.rxQueueLimit) {
      this.counters.rxDropped++;
      return;
    }
    this.rxQueue.push({ frame, meta });
    this.kickRx();
  }

  private kickRx(): void {
    if (this.rxBusy) return;
    this.rxBusy = true;
    void this.processRx().finally(() => {
      this.rxBusy = false;
    });
  }

  private async processRx(): Promise<void> {
    // Let the sender's whole batch reach the queue first: one push per batch of frames.
    await Promise.resolve();
    try {
      while (this.rxQueue.length > 0 && !this.detached) {
        const batch = this.rxQueue.splice(0);
        this.counters.rxBatches++;
        // Buffers posted without a notification (netif.h: rx posts need none) are found here.
        this.rxRing!.onNotification();
        const pool = this.rxPool!;
        let ops: CopyOp[] = [];
        let rsps: NetifRxResponse[] = [];
        let opOf: number[] = []; // response index of each op
        let frameOf: number[] = []; // frame index (in this chunk) of each response
        let frames: Uint8Array[] = [];
        const run = async () => {
          if (ops.length > 0) {
            const st = await this.rxCopier!.run(ops);
            const failed = new Set<number>();
            for (let k = 0; k < st.length; k++) {
              if (st[k] !== GntSt.okay) failed.add(frameOf[opOf[k]!]!);
              else this.counters.bytesCopied += ops[k]!.len;
            }
            // A frame with one failed fragment is lost as a whole: every buffer it took says ERROR.
            for (let q = 0; q < rsps.length; q++)
              if (failed.has(frameOf[q]!)) rsps[q]!.status = NetifStatus.Error;
          }
          if (this.detached) return;
          const ring = this.rxRing!;
          for (const r of rsps) {
            if (r.status < 0) this.counters.rxErrors++;
            ring.respond(r);
          }
          frames.forEach((f, i) => {
            if (frameOf.some((fi, q) => fi === i && rsps[q]!.status < 0)) return;
            this.counters.rxFrames++;
            this.counters.rxBytes += f.length;
          });
          ops = [];
          rsps = [];
          opOf = [];
          frameOf = [];
          frames = [];
          pool.reset();
        };
        for (const { frame, meta } of batch) {
          const need = Math.max(1, Math.ceil(frame.length / NETIF_PAGE_SIZE));
          if (this.rxBufs.length < need) {
            this.counters.rxDropped++;
            continue;
          }
          // Fits the pool? Otherwise copy what we have first (the pool is per chunk).
          if (!pool.canFit(frame.length)) await run();
          if (this.detached) return;
          this.env.ctx.charge(this.costs.backendPerRequest + this.costs.backendPerPage * need);
          const flags0 =
            (meta.csumBlank ? NetRxFlag.CsumBlank | NetRxFlag.DataValidated : 0) |
            (meta.dataValidated ? NetRxFlag.DataValidated : 0);
          for (let k = 0; k < need; k++) {
            const buf = this.rxBufs.shift()!;
            const part = frame.subarray(
              k * NETIF_PAGE_SIZE,
              Math.min(frame.length, (k + 1) * NETIF_PAGE_SIZE),
            );
            const at = pool.place(part.length)!;
            this.env.ctx.mem.writeBytes(at.pfn * NETIF_PAGE_SIZE + at.offset, part);
            const more = k < need - 1 ? NetRxFlag.MoreData : 0;
            rsps.push({ id: buf.id, offset: 0, flags: (k === 0 ? flags0 : 0) | more, status: part.length });
            frameOf.push(frames.length);
            if (part.length > 0) {
              ops.push({
                srcRef: at.pfn,
                srcDom: DomId.SELF,
                srcOffset: at.offset,
                dstRef: buf.gref,
                dstDom: this.frontendId,
                dstOffset: 0,
                len: part.length,
                flags: GNTCOPY_DEST_GREF,
              });
              opOf.push(rsps.length - 1);
            }
          }
          frames.push(frame);
        }
        await run();
        if (this.detached) return;
        this.rxRing!.flush();
      }
    } catch (err) {
      await this.fail(`netback rx: ${err instanceof Error ? err.message : String(err)}`).catch(
        () => undefined,
      );
    }
  }
}
