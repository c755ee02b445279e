import { describe, expect, it } from "vitest";
import {
  buildUdpFrame,
  inetChecksum,
  ip4,
  parseUdpFrame,
  UDP_MAX_PAYLOAD,
} from "../../../samples/ts-guests/nfs/udp-ip.js";

const base = {
  dstMac: Uint8Array.of(0, 0x16, 0x3e, 0, 0xff, 1),
  srcMac: Uint8Array.of(0, 0x16, 0x3e, 0, 2, 0),
  srcIp: ip4(10, 0, 0, 2),
  dstIp: ip4(10, 0, 0, 1),
  srcPort: 800,
  dstPort: 2049,
};

describe("IPv4/UDP framing of the emulated NFS path", () => {
  it("round-trips a datagram; the IPv4 header checksum verifies to 0 (RFC 1071)", () => {
    const payload = Uint8Array.from({ length: 301 }, (_, i) => i & 0xff);
    const f = buildUdpFrame({ ...base, payload })!;
    expect(f.length).toBe(14 + 20 + 8 + 301);
    expect(inetChecksum(f, 14, 20)).toBe(0);
    // A known header: 45 00 01 49 00 00 40 00 40 11 csum 0a000002 0a000001
    expect([...f.subarray(14, 24)]).toEqual([0x45, 0, 0x01, 0x49, 0, 0, 0x40, 0, 0x40, 0x11]);
    const d = parseUdpFrame(f)!;
    expect(d.payload).toEqual(payload);
    expect([d.srcIp, d.dstIp, d.srcPort, d.dstPort]).toEqual([base.srcIp, base.dstIp, 800, 2049]);
  });

  it("refuses what it cannot carry or trust: oversize payload, bad checksum, fragments, other protocols", () => {
    expect(buildUdpFrame({ ...base, payload: new Uint8Array(UDP_MAX_PAYLOAD + 1) })).toBeNull();
    const f = buildUdpFrame({ ...base, payload: new Uint8Array(10) })!;
    const bad = f.slice();
    bad[14 + 12] ^= 1; // source address changed, checksum not
    expect(parseUdpFrame(bad)).toBeNull();
    const frag = f.slice();
    frag[14 + 6] = 0x20; // MF
    frag[14 + 10] = 0;
    frag[14 + 11] = 0;
    const c = inetChecksum(frag, 14, 20);
    frag[14 + 10] = c >> 8;
    frag[14 + 11] = c & 0xff;
    expect(parseUdpFrame(frag)).toBeNull();
    const arp = f.slice();
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(parseUdpFrame(arp)).toBeNull();
    expect(parseUdpFrame(f.subarray(0, 40))).toBeNull();
  });
});
