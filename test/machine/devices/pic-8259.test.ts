import { describe, expect, it } from "vitest";
import { PicPair } from "../../../src/machine/devices/pic-8259.js";
import { PortBus } from "../../../src/machine/io-ports.js";

/** The Linux/BSD initialization sequence: vectors 0x20 and 0x28, cascade on IR2, 8086 mode. */
function setup(): { pic: PicPair; bus: PortBus; intr: boolean[] } {
  const intr: boolean[] = [];
  const bus = new PortBus();
  const pic = new PicPair({ set: (l) => intr.push(l) }).attach(bus);
  bus.write(0x20, 1, 0x11); // ICW1: edge, cascade, ICW4 needed
  bus.write(0xa0, 1, 0x11);
  bus.write(0x21, 1, 0x20); // ICW2: vector base
  bus.write(0xa1, 1, 0x28);
  bus.write(0x21, 1, 0x04); // ICW3: slave on IR2
  bus.write(0xa1, 1, 0x02); // ICW3: slave identity 2
  bus.write(0x21, 1, 0x01); // ICW4: 8086 mode
  bus.write(0xa1, 1, 0x01);
  return { pic, bus, intr };
}

/** OCW3 read-register command (RR=1, RIS selects ISR), then the read. */
function readIrr(bus: PortBus, base: number): number {
  bus.write(base, 1, 0x0a);
  return bus.read(base, 1);
}
function readIsr(bus: PortBus, base: number): number {
  bus.write(base, 1, 0x0b);
  return bus.read(base, 1);
}

describe("8259A PIC pair", () => {
  it("ICW1 clears the mask and ICW2 sets the vector base", () => {
    const { pic, bus } = setup();
    expect(bus.read(0x21, 1)).toBe(0);
    expect(bus.read(0xa1, 1)).toBe(0);
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x20);
    bus.write(0x20, 1, 0x20); // EOI: otherwise IR0 in service blocks the cascade input
    pic.setIrq(14, true);
    expect(pic.acknowledge()).toBe(0x2e);
  });

  it("latches rising edges only and raises INTR until acknowledged", () => {
    const { pic, bus, intr } = setup();
    pic.setIrq(4, true);
    expect(intr).toEqual([true]);
    expect(readIrr(bus, 0x20)).toBe(0x10);
    expect(pic.acknowledge()).toBe(0x24);
    expect(intr).toEqual([true, false]);
    expect(readIrr(bus, 0x20)).toBe(0);
    expect(readIsr(bus, 0x20)).toBe(0x10);
    // Still high: no new edge, so no new request after EOI.
    pic.setIrq(4, true);
    bus.write(0x20, 1, 0x20);
    expect(readIrr(bus, 0x20)).toBe(0);
    expect(intr).toEqual([true, false]);
    pic.setIrq(4, false);
    pic.setIrq(4, true);
    expect(readIrr(bus, 0x20)).toBe(0x10);
  });

  it("resolves priority: IR0 before IR1; an in-service level blocks lower ones until EOI", () => {
    const { pic, bus } = setup();
    pic.setIrq(3, true);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x21);
    // IR0 has higher priority than the in-service IR1: it nests.
    pic.setIrq(0, true);
    expect(pic.master.pendingIrq()).toBe(0);
    expect(pic.acknowledge()).toBe(0x20);
    expect(readIsr(bus, 0x20)).toBe(0x03);
    // IR3 waits behind IR1 and IR0.
    expect(pic.master.pendingIrq()).toBe(-1);
    bus.write(0x20, 1, 0x20); // non-specific EOI ends IR0 (highest in service)
    expect(readIsr(bus, 0x20)).toBe(0x02);
    expect(pic.master.pendingIrq()).toBe(-1);
    bus.write(0x20, 1, 0x61); // specific EOI for IR1
    expect(readIsr(bus, 0x20)).toBe(0);
    expect(pic.acknowledge()).toBe(0x23);
  });

  it("masks with OCW1 and keeps the request pending until unmasked", () => {
    const { pic, bus, intr } = setup();
    bus.write(0x21, 1, 0x01);
    expect(bus.read(0x21, 1)).toBe(0x01);
    pic.setIrq(0, true);
    expect(intr).toEqual([]);
    expect(readIrr(bus, 0x20)).toBe(0x01);
    bus.write(0x21, 1, 0x00);
    expect(intr).toEqual([true]);
    expect(pic.acknowledge()).toBe(0x20);
  });

  it("cascades slave requests through IR2 and needs EOI on both chips", () => {
    const { pic, bus } = setup();
    pic.setIrq(12, true);
    expect(readIrr(bus, 0x20)).toBe(0x04);
    expect(pic.acknowledge()).toBe(0x2c);
    expect(readIsr(bus, 0x20)).toBe(0x04);
    expect(readIsr(bus, 0xa0)).toBe(0x10);
    // A master IR3 is below the in-service IR2 and waits.
    pic.setIrq(3, true);
    expect(pic.master.pendingIrq()).toBe(-1);
    bus.write(0xa0, 1, 0x20);
    bus.write(0x20, 1, 0x20);
    expect(pic.acknowledge()).toBe(0x23);
    expect(pic.delivered[12]).toBe(1);
  });

  it("returns the IR7 vector for a spurious acknowledge, without setting ISR", () => {
    const { pic, bus } = setup();
    expect(pic.acknowledge()).toBe(0x27);
    expect(readIsr(bus, 0x20)).toBe(0);
    // Slave request withdrawn (masked) after the master saw it: spurious IRQ15.
    pic.setIrq(10, true);
    pic.slave.imr = 0xff;
    pic.master.setInput(2, true);
    expect(pic.acknowledge()).toBe(0x2f);
    expect(readIsr(bus, 0x20)).toBe(0x04);
    expect(readIsr(bus, 0xa0)).toBe(0);
    expect(pic.spurious).toBe(2);
  });

  it("rotates priority on a rotating EOI and with the set-priority command", () => {
    const { pic, bus } = setup();
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x20);
    bus.write(0x20, 1, 0xa0); // rotate on non-specific EOI: IR0 becomes lowest
    pic.setIrq(0, false);
    pic.setIrq(0, true);
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x25);
    bus.write(0x20, 1, 0x20);
    bus.write(0x20, 1, 0xc4); // set priority: IR4 lowest, IR5 highest
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x20);
  });

  it("auto-EOI mode leaves ISR clear", () => {
    const { pic, bus } = setup();
    bus.write(0x20, 1, 0x11);
    bus.write(0x21, 1, 0x08);
    bus.write(0x21, 1, 0x04);
    bus.write(0x21, 1, 0x03); // ICW4: 8086 + AEOI
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x09);
    expect(readIsr(bus, 0x20)).toBe(0);
  });

  it("poll command returns 0x80|IR and acknowledges it", () => {
    const { pic, bus } = setup();
    pic.setIrq(6, true);
    bus.write(0x20, 1, 0x0c);
    expect(bus.read(0x20, 1)).toBe(0x86);
    expect(readIsr(bus, 0x20)).toBe(0x40);
    bus.write(0x20, 1, 0x0c);
    expect(bus.read(0x20, 1)).toBe(0);
  });

  it("level-triggered mode (ICW1.LTIM) keeps the request while the line is high", () => {
    const { pic, bus } = setup();
    bus.write(0x20, 1, 0x19);
    bus.write(0x21, 1, 0x20);
    bus.write(0x21, 1, 0x04);
    bus.write(0x21, 1, 0x01);
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x25);
    expect(readIrr(bus, 0x20)).toBe(0x20);
    pic.setIrq(5, false);
    expect(readIrr(bus, 0x20)).toBe(0);
  });

  it("ELCR (0x4D0/0x4D1) makes single inputs level-triggered, with QEMU's writable masks", () => {
    const { pic, bus } = setup();
    bus.write(0x4d0, 1, 0xff);
    bus.write(0x4d1, 1, 0xff);
    expect(bus.read(0x4d0, 1)).toBe(0xf8); // IRQ 0–2 stay edge
    expect(bus.read(0x4d1, 1)).toBe(0xde); // IRQ 8 and 13 stay edge
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x25);
    expect(readIrr(bus, 0x20)).toBe(0x20); // level input: still requested while high
    pic.setIrq(5, false);
    expect(readIrr(bus, 0x20)).toBe(0);
    pic.setIrq(1, true); // edge input: cleared by INTA
    bus.write(0x20, 1, 0x20);
    expect(pic.acknowledge()).toBe(0x21);
    expect(readIrr(bus, 0x20)).toBe(0);
  });

  it("getState/setState round-trips every register", () => {
    const { pic, bus } = setup();
    bus.write(0x21, 1, 0xf0);
    bus.write(0x4d1, 1, 0x02);
    pic.setIrq(1, true);
    pic.acknowledge();
    pic.setIrq(3, true);
    const state = pic.getState();
    const copy = setup();
    copy.pic.setState(state);
    expect(copy.pic.getState()).toEqual(state);
    expect(copy.bus.read(0x21, 1)).toBe(0xf0);
    copy.bus.write(0x20, 1, 0x20);
    expect(copy.pic.acknowledge()).toBe(0x23);
  });
});
