/**
 * Byte-stream rings of struct xenstore_domain_interface (xs_wire.h): each direction is a
 * 1024-byte buffer with free-running u32 cons/prod indices; the producer writes bytes then
 * publishes prod, the consumer reads bytes then publishes cons. Messages may wrap and may be
 * split across several notifications. Used by both the guest's StoreClient (writes req, reads
 * rsp) and the daemon's ring server (reads req, writes rsp).
 */
import { barrier } from "./barrier.js";
import type { SharedPage } from "./shared-page.js";
import { XENSTORE_RING_SIZE } from "./xs-wire.js";

/** One direction of the page: where its bytes and indices live. */
export interface XsRingSide {
  data: number;
  cons: number;
  prod: number;
}

/**
 * Copies as many bytes of `src[from..]` as fit into the ring and publishes them. Returns the
 * number written, or −1 if the indices are corrupt (prod − cons > ring size: the peer wrote
 * them, a protocol error).
 */
export function xsRingWrite(page: SharedPage, side: XsRingSide, src: Uint8Array, from: number): number {
  const cons = page.read32(side.cons);
  let prod = page.read32(side.prod);
  barrier(); // read indices before touching data
  const used = (prod - cons) >>> 0;
  if (used > XENSTORE_RING_SIZE) return -1;
  const n = Math.min(XENSTORE_RING_SIZE - used, src.length - from);
  for (let i = 0; i < n; i++) {
    page.write8(side.data + (prod & (XENSTORE_RING_SIZE - 1)), src[from + i]!);
    prod = (prod + 1) >>> 0;
  }
  barrier(); // data visible before the new prod
  if (n > 0) page.write32(side.prod, prod);
  return n;
}

/**
 * Takes every byte available in the ring (advancing cons). Returns null if the indices are
 * corrupt (prod − cons > ring size).
 */
export function xsRingRead(page: SharedPage, side: XsRingSide): Uint8Array | null {
  let cons = page.read32(side.cons);
  const prod = page.read32(side.prod);
  barrier(); // read prod before the data it covers
  const avail = (prod - cons) >>> 0;
  if (avail > XENSTORE_RING_SIZE) return null;
  const out = new Uint8Array(avail);
  for (let i = 0; i < avail; i++) {
    out[i] = page.read8(side.data + (cons & (XENSTORE_RING_SIZE - 1)));
    cons = (cons + 1) >>> 0;
  }
  barrier(); // finish reading before freeing the space
  if (avail > 0) page.write32(side.cons, cons);
  return out;
}

/** Accumulates a byte stream and cuts it into messages (header + len bytes). */
export class XsMessageReader {
  private buf = new Uint8Array(0);

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const b = new Uint8Array(this.buf.length + bytes.length);
    b.set(this.buf);
    b.set(bytes, this.buf.length);
    this.buf = b;
  }

  /** Bytes buffered. */
  get length(): number {
    return this.buf.length;
  }

  /** The 32-bit `len` of the next header if 16 bytes are buffered. */
  peekLen(): number | undefined {
    if (this.buf.length < 16) return undefined;
    return new DataView(this.buf.buffer, this.buf.byteOffset).getUint32(12, true);
  }

  /** The req_id of the next header if 16 bytes are buffered. */
  peekReqId(): number | undefined {
    if (this.buf.length < 16) return undefined;
    return new DataView(this.buf.buffer, this.buf.byteOffset).getUint32(4, true);
  }

  /** Removes and returns the next complete message's bytes, if any. */
  next(): Uint8Array | undefined {
    const len = this.peekLen();
    if (len === undefined || this.buf.length < 16 + len) return undefined;
    const m = this.buf.slice(0, 16 + len);
    this.buf = this.buf.slice(16 + len);
    return m;
  }
}
