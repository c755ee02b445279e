/**
 * A learning Ethernet switch in the driver domain: Disco's virtual subnet, the bridge Xen's
 * dom0 puts vifs on. Plain and synchronous: `transmit(port, frame)` learns the source MAC on
 * the ingress port, then forwards — unicast to the learned port, or floods (broadcast,
 * multicast, unknown destination) to every other port in attach order, so delivery order is
 * deterministic. Frames are never modified; a receiver gets a fresh copy it may keep.
 *
 * Ethernet II header (IEEE 802.3 §3.1.1): destination MAC 0–5, source MAC 6–11, ethertype
 * 12–13 (big endian); the group bit is bit 0 of the first destination byte.
 */

/** Bytes of the Ethernet header. */
export const ETHERNET_HEADER = 14;
export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/** Metadata carried with a frame across the switch (checksum state, as skb->ip_summed). */
export interface FrameMeta {
  /** The sender left the protocol checksum blank (NETTXF_csum_blank). */
  csumBlank: boolean;
  /** The sender validated the checksum (NETTXF_data_validated). */
  dataValidated: boolean;
}

export const NO_META: FrameMeta = Object.freeze({ csumBlank: false, dataValidated: false });

/** Per-port counters, from the switch's point of view. */
export interface SwitchPortCounters {
  /** Frames and bytes the port sent into the switch. */
  inFrames: number;
  inBytes: number;
  /** Frames and bytes the switch delivered to the port. */
  outFrames: number;
  outBytes: number;
  /** Frames from this port that were flooded (broadcast, multicast or unknown unicast). */
  flooded: number;
  /** Frames from this port dropped (runt, or destination is the ingress port). */
  dropped: number;
}

/** The receiving side of a port: called synchronously with each frame the switch forwards. */
export type FrameSink = (frame: Uint8Array, meta: FrameMeta) => void;

/** A port of the switch. */
export class SwitchPort {
  readonly counters: SwitchPortCounters = {
    inFrames: 0,
    inBytes: 0,
    outFrames: 0,
    outBytes: 0,
    flooded: 0,
    dropped: 0,
  };
  attached = true;

  constructor(
    readonly sw: VirtualSwitch,
    readonly id: number,
    readonly name: string,
    readonly sink: FrameSink,
  ) {}

  /** Sends `frame` into the switch from this port. */
  transmit(frame: Uint8Array, meta: FrameMeta = NO_META): void {
    this.sw.transmit(this, frame, meta);
  }

  /** Removes the port and forgets the MACs learned on it. */
  detach(): void {
    this.sw.detach(this);
  }
}

/** MAC (6 bytes at `off`) as a number key (48 bits fit a double exactly). */
export function macKey(b: Uint8Array, off = 0): number {
  return (
    b[off]! * 2 ** 40 +
    b[off + 1]! * 2 ** 32 +
    ((b[off + 2]! << 24) >>> 0) +
    (b[off + 3]! << 16) +
    (b[off + 4]! << 8) +
    b[off + 5]!
  );
}

export class VirtualSwitch {
  private readonly ports: SwitchPort[] = [];
  private nextId = 0;
  /** MAC (macKey) → port: the learning table. */
  private readonly table = new Map<number, SwitchPort>();
  /** Totals of the switch. */
  readonly counters = { frames: 0, unicast: 0, flooded: 0, dropped: 0, learned: 0, moved: 0 };

  /** Attaches a port whose frames go to `sink` (a netback's vif, or a host callback). */
  attach(name: string, sink: FrameSink): SwitchPort {
    const p = new SwitchPort(this, this.nextId++, name, sink);
    this.ports.push(p);
    return p;
  }

  /** A host loopback port (tests, tools): frames for it are handed to `onFrame`. */
  attachHost(name: string, onFrame: FrameSink): SwitchPort {
    return this.attach(`host:${name}`, onFrame);
  }

  /** Ports attached, in attach order. */
  get portList(): readonly SwitchPort[] {
    return this.ports;
  }

  /** The port `mac` was learned on, if any. */
  lookup(mac: Uint8Array): SwitchPort | undefined {
    return this.table.get(macKey(mac));
  }

  /** Number of learned MACs. */
  get tableSize(): number {
    return this.table.size;
  }

  detach(port: SwitchPort): void {
    if (!port.attached) return;
    port.attached = false;
    const i = this.ports.indexOf(port);
    if (i >= 0) this.ports.splice(i, 1);
    for (const [k, p] of this.table) if (p === port) this.table.delete(k);
  }

  /** Learns, then forwards one frame from `from`. */
  transmit(from: SwitchPort, frame: Uint8Array, meta: FrameMeta = NO_META): void {
    if (!from.attached) return;
    this.counters.frames++;
    from.counters.inFrames++;
    from.counters.inBytes += frame.length;
    if (frame.length < ETHERNET_HEADER) {
      from.counters.dropped++;
      this.counters.dropped++;
      return;
    }
    // Learn the source unless it is a group address (a group MAC is never a station's).
    if ((frame[6]! & 1) === 0) {
      const src = macKey(frame, 6);
      const old = this.table.get(src);
      if (old !== from) {
        if (old) this.counters.moved++;
        else this.counters.learned++;
        this.table.set(src, from);
      }
    }
    const group = (frame[0]! & 1) !== 0;
    const dst = group ? undefined : this.table.get(macKey(frame, 0));
    if (dst) {
      if (dst === from) {
        // Both stations sit behind the ingress port: a real bridge filters the frame.
        from.counters.dropped++;
        this.counters.dropped++;
        return;
      }
      this.counters.unicast++;
      this.deliver(dst, frame, meta);
      return;
    }
    this.counters.flooded++;
    from.counters.flooded++;
    // Snapshot: a sink may attach or detach ports while we deliver.
    for (const p of [...this.ports]) if (p !== from && p.attached) this.deliver(p, frame, meta);
  }

  private deliver(p: SwitchPort, frame: Uint8Array, meta: FrameMeta): void {
    p.counters.outFrames++;
    p.counters.outBytes += frame.length;
    p.sink(frame.slice(), meta);
  }
}
