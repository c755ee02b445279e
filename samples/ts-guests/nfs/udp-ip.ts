/**
 * Just enough Ethernet II / IPv4 (RFC 791) / UDP (RFC 768) for NFS over UDP through an emulated
 * NIC: one datagram per frame (no fragmentation: the NFS client keeps its transfers under the
 * 1472-byte payload a 1514-byte frame leaves), the IPv4 header checksum computed and checked,
 * the UDP checksum sent as 0 ("not computed", allowed over IPv4 by RFC 768).
 *
 * ```
 * Ethernet: dst[6] src[6] type[2]=0x0800
 * IPv4:     ver/ihl=0x45 tos len[2] id[2] flags/frag[2] ttl proto=17 csum[2] src[4] dst[4]
 * UDP:      sport[2] dport[2] len[2] csum[2]
 * ```
 */
export const ETH_HEADER = 14;
export const IPV4_HEADER = 20;
export const UDP_HEADER = 8;
/** UDP payload one 1514-byte frame carries. */
export const UDP_MAX_PAYLOAD = 1514 - ETH_HEADER - IPV4_HEADER - UDP_HEADER;
const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_UDP = 17;

export interface UdpDatagram {
  readonly dstMac: Uint8Array;
  readonly srcMac: Uint8Array;
  /** IPv4 addresses as u32. */
  readonly srcIp: number;
  readonly dstIp: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

/** 10.0.0.n as a u32. */
export function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** "10.0.0.2" for logs and RPC peers. */
export function formatIp(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** The Internet checksum (RFC 1071) of `len` bytes at `off`. */
export function inetChecksum(b: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (b[off + i]! << 8) | (b[off + i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One frame carrying one UDP datagram; null when the payload does not fit a frame. */
export function buildUdpFrame(d: UdpDatagram): Uint8Array | null {
  if (d.payload.length > UDP_MAX_PAYLOAD) return null;
  const f = new Uint8Array(ETH_HEADER + IPV4_HEADER + UDP_HEADER + d.payload.length);
  const v = new DataView(f.buffer);
  f.set(d.dstMac, 0);
  f.set(d.srcMac, 6);
  v.setUint16(12, ETHERTYPE_IPV4);
  const ip = ETH_HEADER;
  f[ip] = 0x45;
  v.setUint16(ip + 2, IPV4_HEADER + UDP_HEADER + d.payload.length);
  v.setUint16(ip + 6, 0x4000); // DF, no fragments
  f[ip + 8] = 64;
  f[ip + 9] = IPPROTO_UDP;
  v.setUint32(ip + 12, d.srcIp);
  v.setUint32(ip + 16, d.dstIp);
  v.setUint16(ip + 10, inetChecksum(f, ip, IPV4_HEADER));
  const u = ip + IPV4_HEADER;
  v.setUint16(u, d.srcPort);
  v.setUint16(u + 2, d.dstPort);
  v.setUint16(u + 4, UDP_HEADER + d.payload.length);
  f.set(d.payload, u + UDP_HEADER);
  return f;
}

/** The datagram of an IPv4/UDP frame, or null for anything else or anything malformed. */
export function parseUdpFrame(f: Uint8Array): UdpDatagram | null {
  if (f.length < ETH_HEADER + IPV4_HEADER + UDP_HEADER) return null;
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (v.getUint16(12) !== ETHERTYPE_IPV4) return null;
  const ip = ETH_HEADER;
  if (f[ip] !== 0x45 || f[ip + 9] !== IPPROTO_UDP) return null;
  if (inetChecksum(f, ip, IPV4_HEADER) !== 0) return null;
  const total = v.getUint16(ip + 2);
  if ((v.getUint16(ip + 6) & 0x3fff) !== 0) return null; // MF or a fragment offset
  if (total < IPV4_HEADER + UDP_HEADER || ETH_HEADER + total > f.length) return null;
  const u = ip + IPV4_HEADER;
  const ulen = v.getUint16(u + 4);
  if (ulen < UDP_HEADER || ulen > total - IPV4_HEADER) return null;
  return {
    dstMac: f.subarray(0, 6),
    srcMac: f.subarray(6, 12),
    srcIp: v.getUint32(ip + 12),
    dstIp: v.getUint32(ip + 16),
    srcPort: v.getUint16(u),
    dstPort: v.getUint16(u + 2),
    payload: f.subarray(u + UDP_HEADER, u + ulen),
  };
}
