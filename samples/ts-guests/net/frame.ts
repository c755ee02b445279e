/**
 * Raw Ethernet frames for the net sample and tests: build/parse with a sequence number, and an
 * inbox that queues every frame a NetDevice receives from the moment it is created (frames$ is
 * hot: a frame arriving before a workload subscribes would otherwise be lost).
 *
 * Payload of pvkit's sample protocol (ethertype 0x88B5, IEEE 802 "local experimental"):
 * kind u8 (1 ping, 2 pong, 3 start, 4 data), pad u8, seq u32 big endian, then filler bytes.
 */
import type { Subscription } from "rxjs";
import type { NetDevice } from "../../../src/pv-drivers/index.js";

export const ETHERTYPE_PVKIT = 0x88b5;
export const FrameKind = { Ping: 1, Pong: 2, Start: 3, Data: 4 } as const;
export const BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
/** Header + kind + pad + seq. */
export const MIN_SAMPLE_FRAME = 20;

/** A frame of `size` ≥ 20 bytes from `src` to `dst` with `kind` and `seq`; filler depends on seq. */
export function buildFrame(
  dst: Uint8Array,
  src: Uint8Array,
  kind: number,
  seq: number,
  size = 64,
): Uint8Array {
  const f = new Uint8Array(Math.max(size, MIN_SAMPLE_FRAME));
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  f[12] = ETHERTYPE_PVKIT >> 8;
  f[13] = ETHERTYPE_PVKIT & 0xff;
  f[14] = kind;
  new DataView(f.buffer).setUint32(16, seq >>> 0, false);
  for (let i = MIN_SAMPLE_FRAME; i < f.length; i++) f[i] = (seq * 31 + i * 7) & 0xff;
  return f;
}

export interface ParsedFrame {
  dst: Uint8Array;
  src: Uint8Array;
  kind: number;
  seq: number;
  size: number;
  /** Filler bytes are what buildFrame writes for this seq. */
  intact: boolean;
}

/** Parses a sample frame; null for other ethertypes or runts. */
export function parseFrame(f: Uint8Array): ParsedFrame | null {
  if (f.length < MIN_SAMPLE_FRAME || ((f[12]! << 8) | f[13]!) !== ETHERTYPE_PVKIT) return null;
  const seq = new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(16, false);
  let intact = true;
  for (let i = MIN_SAMPLE_FRAME; i < f.length; i++) if (f[i] !== ((seq * 31 + i * 7) & 0xff)) intact = false;
  return { dst: f.subarray(0, 6), src: f.subarray(6, 12), kind: f[14]!, seq, size: f.length, intact };
}

export function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Queues every frame of a device; `next(pred)` takes the first matching one (waiting if needed). */
export class FrameInbox {
  readonly frames: Uint8Array[] = [];
  private waiters: { pred: (f: Uint8Array) => boolean; resolve: (f: Uint8Array) => void }[] = [];
  private readonly sub: Subscription;

  constructor(dev: NetDevice) {
    this.sub = dev.frames$.subscribe((f) => {
      const i = this.waiters.findIndex((w) => w.pred(f));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(f);
      else this.frames.push(f);
    });
  }

  next(pred: (f: Uint8Array) => boolean = () => true): Promise<Uint8Array> {
    const i = this.frames.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

/** The broadcast the bridge sends once every vif is connected with rx buffers posted. */
export function isStart(f: Uint8Array): boolean {
  return parseFrame(f)?.kind === FrameKind.Start;
}
