/**
 * A small typed XDR codec (RFC 4506) for the ONC RPC / NFSv3 server.
 *
 * Why not `@stellar/js-xdr` (DESIGN.md's candidate): it ships no TypeScript declarations
 * (every value would be `any`), builds types through a runtime DSL with lazily resolved
 * references (awkward for RFC 1813's recursive optional lists such as `entry3 *nextentry`),
 * allocates a class instance per decoded field and reports malformed input by throwing. A
 * server decoding untrusted records wants a cursor with a sticky error flag instead: each
 * procedure decodes its arguments, checks `ok` once and answers GARBAGE_ARGS — no throw
 * deep in a codec (STYLE.md rule 3).
 */

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** 2^32, for splitting 64-bit quantities held in JS numbers. */
const TWO_32 = 4294967296;

/** XDR units are 4 bytes; opaque data and strings are zero-padded to a multiple of 4 (RFC 4506 §3). */
export function xdrPad(length: number): number {
  // Arithmetic, not `(n + 3) & ~3`: lengths up to 2^32 - 1 come off the wire and bitwise
  // operators would wrap them to small numbers.
  return length + ((4 - (length % 4)) % 4);
}

/**
 * Cursor over XDR bytes. Reads past the end or invalid values (a bool other than 0/1, a
 * length above its bound, non-UTF-8 text) clear `ok` and return a zero value; callers check
 * `ok` after decoding a whole structure.
 */
export class XdrReader {
  /** False once any read failed; sticky. */
  ok = true;
  private readonly view: DataView;
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly bytes: Uint8Array,
    offset = 0,
    length = bytes.length - offset,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = offset;
    this.end = offset + length;
  }

  /** Byte offset of the cursor within the underlying array. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** An independent cursor at the same position (for logging arguments without consuming them). */
  clone(): XdrReader {
    const c = new XdrReader(this.bytes, this.pos, this.end - this.pos);
    c.ok = this.ok;
    return c;
  }

  /** Marks the input malformed (used by decoders for semantic errors such as a bad enum). */
  fail(): void {
    this.ok = false;
  }

  private take(n: number): number {
    if (!this.ok || n < 0 || this.end - this.pos < n) {
      this.ok = false;
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** unsigned int (32 bits). */
  u32(): number {
    const at = this.take(4);
    return at < 0 ? 0 : this.view.getUint32(at, false);
  }

  /** int (32 bits, two's complement). */
  i32(): number {
    const at = this.take(4);
    return at < 0 ? 0 : this.view.getInt32(at, false);
  }

  /** unsigned hyper as a bigint. */
  u64big(): bigint {
    const at = this.take(8);
    return at < 0 ? 0n : this.view.getBigUint64(at, false);
  }

  /** unsigned hyper as a number; values above 2^53 - 1 fail (file offsets and sizes fit). */
  u64(): number {
    const hi = this.u32();
    const lo = this.u32();
    if (hi > 0x1fffff) {
      this.ok = false;
      return 0;
    }
    return hi * TWO_32 + lo;
  }

  /** bool: exactly 0 or 1 (RFC 4506 §4.4). */
  bool(): boolean {
    const v = this.u32();
    if (v > 1) this.ok = false;
    return v === 1;
  }

  /** Fixed-length opaque[n]; returns a view (no copy) into the input. */
  opaqueFixed(n: number): Uint8Array {
    const at = this.take(xdrPad(n));
    return at < 0 ? new Uint8Array(0) : this.bytes.subarray(at, at + n);
  }

  /** Variable-length opaque<max>; returns a view (no copy) into the input. */
  opaqueVar(max: number): Uint8Array {
    const n = this.u32();
    if (n > max) {
      this.ok = false;
      return new Uint8Array(0);
    }
    return this.opaqueFixed(n);
  }

  /** string<max> decoded as UTF-8; invalid UTF-8 fails. */
  string(max: number): string {
    const raw = this.opaqueVar(max);
    if (!this.ok) return "";
    try {
      return utf8Decoder.decode(raw);
    } catch {
      this.ok = false;
      return "";
    }
  }
}

/** Growable XDR encoder; `reset()` lets one writer serve many replies. */
export class XdrWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialSize = 4096) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Forgets the content, keeps the buffer. */
  reset(): void {
    this.pos = 0;
  }

  /** Makes room for n more bytes at once (avoids repeated doubling before a large opaque). */
  reserveCapacity(n: number): void {
    this.ensure(n);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, false);
    this.pos += 4;
    return this;
  }

  i32(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, v | 0, false);
    this.pos += 4;
    return this;
  }

  /** unsigned hyper from a non-negative number (≤ 2^53) or a bigint. */
  u64(v: number | bigint): this {
    this.ensure(8);
    if (typeof v === "bigint") {
      this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), false);
    } else {
      this.view.setUint32(this.pos, Math.floor(v / TWO_32) >>> 0, false);
      this.view.setUint32(this.pos + 4, v >>> 0, false);
    }
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }

  /** opaque[n]: the bytes and zero padding. */
  opaqueFixed(data: Uint8Array): this {
    const padded = xdrPad(data.length);
    this.ensure(padded);
    this.buf.set(data, this.pos);
    this.buf.fill(0, this.pos + data.length, this.pos + padded);
    this.pos += padded;
    return this;
  }

  /** opaque<>: length, bytes, padding. */
  opaqueVar(data: Uint8Array): this {
    this.u32(data.length);
    return this.opaqueFixed(data);
  }

  /** string<>: UTF-8 bytes as opaque<>. */
  string(s: string): this {
    return this.opaqueVar(utf8Encoder.encode(s));
  }

  /** Drops everything after the first n bytes (n ≤ length). */
  truncate(n: number): void {
    if (n < this.pos) this.pos = n;
  }

  /** Reserves n bytes to be patched later (e.g. a record-marking header); returns their offset. */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.buf.fill(0, at, at + n);
    this.pos += n;
    return at;
  }

  /** Overwrites a 32-bit word written earlier. */
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, false);
  }

  /** The bytes written, without copying; valid until the writer is written to or reset again. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written (safe to keep after `reset()`). */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Byte length of a string once encoded as XDR string<> (length word + padded UTF-8). */
export function xdrStringSize(s: string): number {
  return 4 + xdrPad(Buffer.byteLength(s, "utf8"));
}
