/**
 * ONC RPC record marking for stream transports (RFC 5531 §11): a record is a sequence of
 * fragments, each preceded by a 4-byte big-endian header whose top bit marks the last
 * fragment and whose low 31 bits give the fragment length in bytes.
 */

/** Top bit of a fragment header: this is the record's last fragment. */
export const LAST_FRAGMENT = 0x80000000;
/** Low 31 bits: fragment length. */
export const FRAGMENT_LENGTH_MASK = 0x7fffffff;

/** Result of feeding bytes to the decoder. */
export interface RecordMarkingPush {
  /** Records completed by this chunk, in order. */
  readonly records: Uint8Array[];
  /** Set when the stream broke the protocol (record above the size limit); close the connection. */
  readonly error?: string;
}

/** Reassembles records from arbitrary stream chunks; enforces a maximum record size. */
export class RecordMarkingDecoder {
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  private parts: Uint8Array[] = [];
  private recordLength = 0;
  /** Bytes still to read in the current fragment; -1 while waiting for a header. */
  private fragmentRemaining = -1;
  private lastFragment = false;
  private broken: string | undefined;

  /** @param maxRecordBytes largest record accepted (sum of its fragments). */
  constructor(private readonly maxRecordBytes: number) {}

  /** Feeds stream bytes; returns the records they complete. */
  push(chunk: Uint8Array): RecordMarkingPush {
    const records: Uint8Array[] = [];
    if (this.broken !== undefined) return { records, error: this.broken };
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.fragmentRemaining < 0) {
        if (this.buffered < 4) break;
        const h = this.take(4);
        const header = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
        const length = header & FRAGMENT_LENGTH_MASK;
        this.lastFragment = (header & LAST_FRAGMENT) !== 0;
        if (this.recordLength + length > this.maxRecordBytes) {
          this.broken = `record larger than ${this.maxRecordBytes} bytes`;
          return { records, error: this.broken };
        }
        this.fragmentRemaining = length;
      }
      if (this.fragmentRemaining > 0) {
        if (this.buffered === 0) break;
        const n = Math.min(this.fragmentRemaining, this.buffered);
        this.parts.push(this.take(n));
        this.recordLength += n;
        this.fragmentRemaining -= n;
        if (this.fragmentRemaining > 0) break;
      }
      // Fragment complete.
      this.fragmentRemaining = -1;
      if (this.lastFragment) {
        records.push(concat(this.parts, this.recordLength));
        this.parts = [];
        this.recordLength = 0;
      }
    }
    return { records };
  }

  /** Removes n ≤ buffered bytes from the front of the chunk queue. */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      out.set(c.subarray(0, k), filled);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The 4-byte header that sends `length` bytes as one last fragment. */
export function singleFragmentHeader(length: number): Uint8Array {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, (LAST_FRAGMENT | length) >>> 0, false);
  return h;
}

/** Frames a record as fragments of at most `maxFragment` bytes (tests use it for multi-fragment records). */
export function encodeRecord(record: Uint8Array, maxFragment = FRAGMENT_LENGTH_MASK): Uint8Array {
  const count = Math.max(1, Math.ceil(record.length / maxFragment));
  const out = new Uint8Array(record.length + 4 * count);
  const view = new DataView(out.buffer);
  let src = 0;
  let dst = 0;
  for (let i = 0; i < count; i++) {
    const n = Math.min(maxFragment, record.length - src);
    view.setUint32(dst, ((i === count - 1 ? LAST_FRAGMENT : 0) | n) >>> 0, false);
    out.set(record.subarray(src, src + n), dst + 4);
    src += n;
    dst += 4 + n;
  }
  return out;
}
