/** NE2000 (DP8390) register behaviour: PROM, remote DMA, transmit, receive ring wrap, overflow, ISR/IMR, filters. */
import { describe, expect, it } from "vitest";
import { SimClock } from "../../../src/machine/clock.js";
import {
  NE2000_BASE as B,
  ethCrc32,
  ISR_OVW,
  ISR_PRX,
  ISR_PTX,
  ISR_RDC,
  ISR_RST,
  Ne2000,
} from "../../../src/machine/devices/ne2000.js";
import { PortBus } from "../../../src/machine/io-ports.js";

const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

function setup(opts: { loopback?: boolean } = {}) {
  const bus = new PortBus();
  const clock = new SimClock();
  const sent: Uint8Array[] = [];
  const levels: boolean[] = [];
  const nic = new Ne2000(bus, clock, {
    irq: { set: (l) => levels.push(l) },
    ...(opts.loopback ? { loopback: true } : { sink: (f: Uint8Array) => sent.push(f) }),
  });
  const irq = () => levels[levels.length - 1] ?? false;
  const w = (reg: number, v: number) => bus.write(B + reg, 1, v);
  const r = (reg: number) => bus.read(B + reg, 1);
  /** Stopped card, word DMA, ring PSTART..PSTOP, CURR = BNRY = PSTART, started, RCR given. */
  const init = (pstart = 0x46, pstop = 0x80, rcr = 0x04) => {
    w(0, 0x21);
    w(0x0e, 0x49);
    w(0x01, pstart);
    w(0x02, pstop);
    w(0x03, pstart);
    w(0, 0x61);
    w(0x07, pstart);
    w(0, 0x21);
    w(0x0c, rcr);
    w(0x07, 0xff);
    w(0, 0x22);
  };
  const remoteRead = (addr: number, len: number): number[] => {
    w(0x0a, len & 0xff);
    w(0x0b, len >> 8);
    w(0x08, addr & 0xff);
    w(0x09, addr >> 8);
    w(0, 0x0a);
    const out: number[] = [];
    for (let i = 0; i < len; i += 2) {
      const v = bus.read(B + 0x10, 2);
      out.push(v & 0xff, v >> 8);
    }
    return out.slice(0, len);
  };
  const frameTo = (dst: readonly number[], len: number, seed = 1) => {
    const f = new Uint8Array(len);
    f.set(dst, 0);
    f.set(MAC, 6);
    for (let i = 12; i < len; i++) f[i] = (i * 7 + seed) & 0xff;
    return f;
  };
  return { bus, clock, nic, sent, irq, w, r, init, remoteRead, frameTo };
}

describe("Ne2000", () => {
  it("power-on: ISR.RST; the PROM holds the MAC doubled and 0x57 0x57 at bytes 28-31", () => {
    const { r, w, remoteRead } = setup();
    expect(r(0x07)).toBe(ISR_RST);
    w(0x0e, 0x48);
    w(0x0a, 32);
    w(0x0b, 0);
    w(0x08, 0);
    w(0x09, 0);
    w(0, 0x0a);
    const prom: number[] = [];
    for (let i = 0; i < 32; i++) prom.push(r(0x10));
    expect(prom.slice(0, 12)).toEqual([0x52, 0x52, 0x54, 0x54, 0, 0, 0x12, 0x12, 0x34, 0x34, 0x56, 0x56]);
    expect(prom.slice(28)).toEqual([0x57, 0x57, 0x57, 0x57]);
    expect(r(0x07) & ISR_RDC).toBe(ISR_RDC); // remote DMA complete when the count runs out
    w(0x07, ISR_RDC);
    expect(r(0x07) & ISR_RDC).toBe(0);
    w(0x0e, 0x49);
    expect(remoteRead(0x100, 2)).toEqual([0xff, 0xff]); // between PROM and buffer RAM: nothing
  });

  it("transmit: frame from TPSR/TBCR to the sink, TSR.PTX, ISR.PTX, CR.TXP cleared; IMR gates the line", () => {
    const { bus, sent, irq, w, r, init, frameTo } = setup();
    init();
    const f = frameTo([1, 2, 3, 4, 5, 6], 64);
    w(0x0a, 64);
    w(0x0b, 0);
    w(0x08, 0);
    w(0x09, 0x40);
    w(0, 0x12);
    for (let i = 0; i < 64; i += 2) bus.write(B + 0x10, 2, f[i]! | (f[i + 1]! << 8));
    expect(r(0x07) & ISR_RDC).toBe(ISR_RDC);
    w(0x07, 0xff);
    w(0x04, 0x40);
    w(0x05, 64);
    w(0x06, 0);
    w(0, 0x26);
    expect(sent).toHaveLength(1);
    expect(Array.from(sent[0]!)).toEqual(Array.from(f));
    expect(r(0x04)).toBe(0x01);
    expect(r(0x07)).toBe(ISR_PTX);
    expect(r(0)).toBe(0x22);
    expect(irq()).toBe(false);
    w(0x0f, ISR_PTX);
    expect(irq()).toBe(true);
    w(0x07, ISR_PTX); // acknowledge
    expect(irq()).toBe(false);
  });

  it("receive: header, 60-byte padding, filters (own address, broadcast with AB, others dropped)", () => {
    const { nic, init, r, remoteRead, frameTo } = setup();
    init(0x46, 0x80, 0x00);
    expect(nic.receive(frameTo([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 42))).toBe(false); // AB clear
    expect(nic.receive(frameTo([2, 0, 0, 0, 0, 1], 100))).toBe(false);
    expect(nic.receive(frameTo(MAC, 42))).toBe(true);
    expect(r(0x07) & ISR_PRX).toBe(ISR_PRX);
    expect(remoteRead(0x4600, 4)).toEqual([0x01, 0x47, 64, 0]);
    const data = remoteRead(0x4604, 60);
    expect(data.slice(42)).toEqual(new Array(18).fill(0));
    expect(data.slice(0, 6)).toEqual(MAC);
    // Multicast through the MAR hash.
    const group = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01];
    const { nic: n2, w: w2, init: init2, frameTo: ft2 } = setup();
    init2(0x46, 0x80, 0x08);
    expect(n2.receive(ft2(group, 60))).toBe(false);
    const idx = ethCrc32(Uint8Array.from(group), 6) >>> 26;
    w2(0, 0x62);
    w2(0x08 + (idx >> 3), 1 << (idx & 7));
    w2(0, 0x22);
    expect(n2.receive(ft2(group, 60))).toBe(true);
  });

  it("the ring wraps at PSTOP: a frame straddling it continues at PSTART, and remote DMA wraps too", () => {
    const { nic, init, w, remoteRead, frameTo, r } = setup();
    init(0x46, 0x4c, 0x04); // 6 pages
    w(0, 0x62);
    w(0x07, 0x4a); // CURR near the end
    w(0, 0x22);
    w(0x03, 0x48); // BNRY: room = 6 pages - 2 = 1024 bytes ... too little for a full frame
    const f = frameTo(MAC, 700, 5);
    expect(nic.receive(f)).toBe(false);
    expect(r(0x07) & ISR_OVW).toBe(ISR_OVW);
    expect(nic.rxDropped).toBe(1);
    w(0x07, 0xff);
    // A larger ring to check wrapping with room for a full-size frame.
    const t = setup();
    t.init(0x46, 0x54, 0x04); // 14 pages = 3584 bytes
    t.w(0, 0x62);
    t.w(0x07, 0x52);
    t.w(0, 0x22);
    t.w(0x03, 0x52);
    expect(t.nic.receive(f)).toBe(true);
    // 704 + 4 CRC bytes → 3 pages: 0x52, 0x53, then 0x46.
    expect(t.remoteRead(0x5200, 4)).toEqual([0x01, 0x47, 704 & 0xff, 704 >> 8]);
    const back = t.remoteRead(0x5204, 700); // remote DMA wraps from 0x5400 to 0x4600
    expect(back).toEqual(Array.from(f));
    t.w(0, 0x62);
    expect(t.r(0x07)).toBe(0x47);
    void remoteRead;
  });

  it("internal loopback (TCR.LB = 01) receives the card's own frame; host loopback delivers after rxCycles", () => {
    const { bus, nic, sent, w, r, init, frameTo } = setup();
    init();
    w(0x0d, 0x02);
    const f = frameTo(MAC, 60);
    w(0x0a, 60);
    w(0x0b, 0);
    w(0x08, 0);
    w(0x09, 0x40);
    w(0, 0x12);
    for (let i = 0; i < 60; i += 2) bus.write(B + 0x10, 2, f[i]! | (f[i + 1]! << 8));
    w(0x04, 0x40);
    w(0x05, 60);
    w(0x06, 0);
    w(0, 0x26);
    expect(sent).toHaveLength(0);
    expect(nic.rxFrames).toBe(1);
    expect(r(0x07) & (ISR_PRX | ISR_PTX)).toBe(ISR_PRX | ISR_PTX);

    const l = setup({ loopback: true });
    l.init();
    l.nic.deliver(l.frameTo(MAC, 60));
    expect(l.nic.rxFrames).toBe(0);
    l.clock.cycles += 1000;
    l.clock.runDue();
    expect(l.nic.rxFrames).toBe(1);
  });

  it("a stopped card receives nothing; the reset port sets ISR.RST; snapshots round-trip", () => {
    const { bus, nic, w, r, init, frameTo } = setup();
    init();
    w(0, 0x21);
    expect(nic.receive(frameTo(MAC, 60))).toBe(false);
    w(0, 0x22);
    expect(r(0x07) & ISR_RST).toBe(0);
    expect(nic.receive(frameTo(MAC, 60))).toBe(true);
    const snap = nic.getState();
    bus.read(B + 0x1f, 1);
    expect(r(0x07) & ISR_RST).toBe(ISR_RST);
    nic.setState(snap);
    expect(nic.getState()).toEqual(snap);
    expect(r(0x0a)).toBe(0x50); // RTL8029 ID as in QEMU
  });
});
