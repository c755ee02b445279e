/**
 * A host-side reference of samples/guests/common/compute.c (same generator, sizes and
 * chaining), so the sample's checksums are checked against an independent implementation
 * (node:crypto's SHA-256, a table CRC-32, Array sort) and not only against QEMU.
 */
import { createHash } from "node:crypto";

const CRC_BYTES = 128 * 1024;
const CRC_ROUNDS = 24;
const SHA_BYTES = 64 * 1024;
const SHA_ROUNDS = 28;
const SORT_N = 16384;
const SORT_ROUNDS = 12;
const MAT_N = 64;
const MAT_ROUNDS = 20;

export function computeReferenceOutput(): string {
  let state = 0;
  const rng = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const fill = (buf: Uint8Array, n: number) => {
    for (let i = 0; i < n; i++) buf[i] = rng() >>> 24;
  };
  const hex = (v: number) => (v >>> 0).toString(16).padStart(8, "0");
  const lines: string[] = [];
  let total = 0;

  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  const crc32 = (crc: number, p: Uint8Array) => {
    let c = ~crc >>> 0;
    for (let i = 0; i < p.length; i++) c = table[(c ^ p[i]!) & 0xff]! ^ (c >>> 8);
    return ~c >>> 0;
  };
  state = 1;
  let buf = new Uint8Array(CRC_BYTES);
  fill(buf, CRC_BYTES);
  let crc = 0;
  for (let r = 0; r < CRC_ROUNDS; r++) {
    crc = crc32(crc, buf);
    buf[(r * 7919) % CRC_BYTES]! ^= crc & 0xff;
  }
  lines.push(`compute: crc32 ${hex(crc)}`);
  total = (total + crc) >>> 0;

  state = 2;
  buf = new Uint8Array(SHA_BYTES);
  fill(buf, SHA_BYTES);
  let digest = Buffer.alloc(32);
  for (let r = 0; r < SHA_ROUNDS; r++) {
    digest = createHash("sha256").update(buf).digest();
    buf.set(digest, 0);
  }
  lines.push(`compute: sha256 ${digest.toString("hex")}`);
  total = (total + ((digest.readUInt32BE(0) ^ digest.readUInt32BE(28)) >>> 0)) >>> 0;

  state = 3;
  let sortSum = 0;
  const keys = new Uint32Array(SORT_N);
  for (let r = 0; r < SORT_ROUNDS; r++) {
    for (let i = 0; i < SORT_N; i++) keys[i] = rng();
    keys.sort();
    for (let i = 0; i < SORT_N; i++) sortSum = (sortSum + Math.imul(keys[i]!, i + 1)) >>> 0;
  }
  lines.push(`compute: sort ${hex(sortSum)}`);
  total = (total + sortSum) >>> 0;

  state = 4;
  let a = new Uint32Array(MAT_N * MAT_N);
  const b = new Uint32Array(MAT_N * MAT_N);
  for (let i = 0; i < MAT_N * MAT_N; i++) {
    a[i] = rng() >>> 16;
    b[i] = rng() >>> 16;
  }
  let c = new Uint32Array(MAT_N * MAT_N);
  for (let r = 0; r < MAT_ROUNDS; r++) {
    c = new Uint32Array(MAT_N * MAT_N);
    for (let i = 0; i < MAT_N; i++)
      for (let j = 0; j < MAT_N; j++) {
        let s = 0;
        for (let k = 0; k < MAT_N; k++) s = (s + Math.imul(a[i * MAT_N + k]!, b[k * MAT_N + j]!)) | 0;
        c[i * MAT_N + j] = s >>> 0;
      }
    a = c;
  }
  let matSum = 0;
  for (let i = 0; i < MAT_N * MAT_N; i++) matSum = Math.imul((matSum ^ c[i]!) >>> 0, 16777619) >>> 0;
  lines.push(`compute: matmul ${hex(matSum)}`);
  total = (total + matSum) >>> 0;
  lines.push(`compute: total ${hex(total)}`, "DONE");
  return `${lines.join("\n")}\n`;
}
