/** The learning switch alone: learning, unicast, flooding, filtering, moves, detach, counters. */
import { describe, expect, it } from "vitest";
import { type FrameMeta, macKey, VirtualSwitch } from "../../../src/pv-drivers/index.js";

const mac = (n: number) => Uint8Array.of(0x02, 0, 0, 0, 0, n);
const BC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
function frame(dst: Uint8Array, src: Uint8Array, tag: number, size = 60): Uint8Array {
  const f = new Uint8Array(size);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  f[14] = tag;
  return f;
}

function rig(n: number) {
  const sw = new VirtualSwitch();
  const got: string[] = [];
  const ports = Array.from({ length: n }, (_, i) =>
    sw.attachHost(`p${i}`, (f: Uint8Array, _m: FrameMeta) => got.push(`p${i}<-${f[14]}`)),
  );
  return { sw, got, ports };
}

describe("VirtualSwitch", () => {
  it("floods unknown and broadcast destinations in attach order, then forwards learned unicast", () => {
    const { sw, got, ports } = rig(3);
    ports[0]!.transmit(frame(mac(2), mac(1), 1)); // dst unknown: flood
    expect(got).toEqual(["p1<-1", "p2<-1"]);
    got.length = 0;
    ports[1]!.transmit(frame(mac(1), mac(2), 2)); // mac1 learned on p0: unicast
    expect(got).toEqual(["p0<-2"]);
    got.length = 0;
    ports[0]!.transmit(frame(mac(2), mac(1), 3)); // mac2 now learned on p1
    expect(got).toEqual(["p1<-3"]);
    got.length = 0;
    ports[2]!.transmit(frame(BC, mac(3), 4));
    expect(got).toEqual(["p0<-4", "p1<-4"]);
    expect(sw.counters).toMatchObject({
      frames: 4,
      unicast: 2,
      flooded: 2,
      learned: 3,
      moved: 0,
      dropped: 0,
    });
    expect(sw.lookup(mac(3))).toBe(ports[2]);
    expect(ports[0]!.counters).toMatchObject({ inFrames: 2, outFrames: 2, flooded: 1 });
    expect(ports[2]!.counters).toMatchObject({ inFrames: 1, outFrames: 1, inBytes: 60, outBytes: 60 });
  });

  it("never learns a group source, drops runts and frames for the ingress port, relearns moves", () => {
    const { sw, got, ports } = rig(3);
    ports[0]!.transmit(frame(mac(9), Uint8Array.of(1, 0, 0x5e, 0, 0, 1), 1)); // multicast source
    expect(sw.tableSize).toBe(0);
    ports[0]!.transmit(new Uint8Array(13));
    expect(ports[0]!.counters.dropped).toBe(1);
    ports[0]!.transmit(frame(BC, mac(1), 2));
    ports[1]!.transmit(frame(BC, mac(5), 3));
    got.length = 0;
    ports[1]!.transmit(frame(mac(5), mac(6), 4)); // mac5 sits behind p1 itself: filtered
    expect(got).toEqual([]);
    expect(ports[1]!.counters.dropped).toBe(1);
    ports[2]!.transmit(frame(BC, mac(1), 5)); // station mac1 moved to p2
    expect(sw.lookup(mac(1))).toBe(ports[2]);
    expect(sw.counters.moved).toBe(1);
  });

  it("detach forgets the port's MACs and stops delivery to it; receivers get private copies", () => {
    const { sw, got, ports } = rig(3);
    ports[1]!.transmit(frame(BC, mac(2), 1));
    ports[1]!.detach();
    expect(sw.lookup(mac(2))).toBeUndefined();
    got.length = 0;
    ports[0]!.transmit(frame(mac(2), mac(1), 2));
    expect(got).toEqual(["p2<-2"]);
    const sw2 = new VirtualSwitch();
    const kept: Uint8Array[] = [];
    const a = sw2.attachHost("a", () => undefined);
    sw2.attachHost("b", (f) => kept.push(f));
    sw2.attachHost("c", (f) => kept.push(f));
    const f = frame(BC, mac(1), 7);
    a.transmit(f);
    f[14] = 99;
    kept[0]![14] = 55;
    expect(kept[1]![14]).toBe(7);
  });

  it("keys MACs exactly (48 bits)", () => {
    expect(macKey(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBe(2 ** 48 - 1);
    expect(macKey(Uint8Array.of(0, 0, 0x80, 0, 0, 1))).toBe(0x80000001);
  });
});
