import { describe, expect, it } from "vitest";
import { ExitPort } from "../../../src/machine/devices/exit-port.js";
import {
  IER_ERBFI,
  IER_ETBEI,
  IIR_CTI,
  IIR_NO_INT,
  IIR_RDA,
  IIR_THRE,
  LSR_DR,
  LSR_TEMT,
  LSR_THRE,
  MCR_LOOP,
  MCR_RTS,
  MSR_CTS,
  Uart16550,
} from "../../../src/machine/devices/uart-16550.js";
import { StopSignal } from "../../../src/machine/index.js";
import { PortBus } from "../../../src/machine/io-ports.js";

const BASE = 0x3f8;

function setup(input?: string) {
  const bus = new PortBus();
  const out: number[] = [];
  const levels: boolean[] = [];
  const uart = new Uart16550(bus, BASE, {
    sink: (b) => out.push(b),
    irq: { set: (l) => levels.push(l) },
    ...(input !== undefined ? { input } : {}),
  });
  const rd = (r: number) => bus.read(BASE + r, 1);
  const wr = (r: number, v: number) => bus.write(BASE + r, 1, v);
  const text = () => String.fromCharCode(...out);
  return { bus, uart, out, levels, rd, wr, text };
}

describe("16550 UART", () => {
  it("transmits THR writes to the sink and always reports THRE|TEMT", () => {
    const { rd, wr, text, uart } = setup();
    expect(rd(5) & (LSR_THRE | LSR_TEMT)).toBe(LSR_THRE | LSR_TEMT);
    for (const c of "hi\n") wr(0, c.charCodeAt(0));
    expect(text()).toBe("hi\n");
    expect(uart.txBytes).toBe(3);
  });

  it("reaches the divisor latch through DLAB without transmitting", () => {
    const { rd, wr, out } = setup();
    wr(3, 0x80);
    wr(0, 0x01);
    wr(1, 0x02);
    expect(rd(0)).toBe(0x01);
    expect(rd(1)).toBe(0x02);
    wr(3, 0x03);
    expect(out).toEqual([]);
    expect(rd(3)).toBe(0x03);
    expect(rd(1)).toBe(0); // IER again
  });

  it("keeps the scratch register", () => {
    const { rd, wr } = setup();
    wr(7, 0xa5);
    expect(rd(7)).toBe(0xa5);
  });

  it("receives a string byte by byte with LSR.DR", () => {
    const { rd } = setup("ab");
    expect(rd(5) & LSR_DR).toBe(LSR_DR);
    expect(rd(0)).toBe(0x61);
    expect(rd(5) & LSR_DR).toBe(LSR_DR);
    expect(rd(0)).toBe(0x62);
    expect(rd(5) & LSR_DR).toBe(0);
    expect(rd(0)).toBe(0);
  });

  it("raises and clears the THRE interrupt as the datasheet orders", () => {
    const { rd, wr, levels } = setup();
    expect(rd(2)).toBe(IIR_NO_INT);
    wr(1, IER_ETBEI);
    expect(levels.at(-1)).toBe(true);
    expect(rd(2) & 0x0f).toBe(IIR_THRE);
    // Reading IIR reporting THRE clears it.
    expect(levels.at(-1)).toBe(false);
    expect(rd(2) & 0x0f).toBe(IIR_NO_INT);
    wr(0, 0x41);
    expect(levels.at(-1)).toBe(true);
  });

  it("interrupt priority: received data over THRE; FIFO trigger level and timeout", () => {
    const s = setup();
    s.wr(1, IER_ERBFI | IER_ETBEI);
    s.uart.feed("xyz");
    expect(s.rd(2) & 0x0f).toBe(IIR_RDA); // FIFOs off: one holding register, RDA
    s.rd(0);
    s.rd(0);
    s.rd(0);
    expect(s.rd(2) & 0x0f).toBe(IIR_THRE);
    // FIFO on, trigger 4 bytes: two bytes → character timeout; five → RDA.
    s.wr(2, 0x41);
    expect(s.rd(2) & 0xc0).toBe(0xc0);
    s.uart.feed("12");
    expect(s.rd(2) & 0x0f).toBe(IIR_CTI);
    s.uart.feed("345");
    expect(s.rd(2) & 0x0f).toBe(IIR_RDA);
    let got = "";
    while (s.rd(5) & LSR_DR) got += String.fromCharCode(s.rd(0));
    expect(got).toBe("12345");
    expect(s.levels.at(-1)).toBe(false);
  });

  it("FIFO holds at most 16 bytes; the rest waits in the host queue, none lost", () => {
    const s = setup();
    s.wr(2, 0x01);
    const msg = "abcdefghijklmnopqrstuvwxyz";
    s.uart.feed(msg);
    expect(s.uart.getState().rxFifo.length).toBe(16);
    let got = "";
    while (s.rd(5) & LSR_DR) got += String.fromCharCode(s.rd(0));
    expect(got).toBe(msg);
  });

  it("loopback returns transmitted bytes and maps MCR to MSR", () => {
    const s = setup();
    s.wr(4, MCR_LOOP | MCR_RTS);
    s.wr(0, 0x5a);
    expect(s.out).toEqual([]);
    expect(s.rd(0)).toBe(0x5a);
    expect(s.rd(6) & MSR_CTS).toBe(MSR_CTS);
  });

  it("getState/setState round-trips", () => {
    const a = setup("hello");
    a.wr(7, 0x11);
    a.wr(1, IER_ERBFI);
    a.rd(0);
    const b = setup();
    b.uart.setState(a.uart.getState());
    expect(b.uart.getState()).toEqual(a.uart.getState());
    expect(b.levels.at(-1)).toBe(true);
    let got = "";
    while (b.rd(5) & LSR_DR) got += String.fromCharCode(b.rd(0));
    expect(got).toBe("ello");
  });
});

describe("exit port", () => {
  it("stops the machine with the written value, masked to the access width", () => {
    const bus = new PortBus();
    const stop = new StopSignal();
    new ExitPort(bus, stop);
    bus.write(0x501, 1, 0x1234);
    expect(stop.requested).toBe(true);
    expect(stop.exitCode).toBe(0x34);
    bus.write(0x501, 2, 0x12345);
    expect(stop.exitCode).toBe(0x2345);
    bus.write(0x501, 4, -1);
    expect(stop.exitCode).toBe(0xffffffff);
    expect(bus.read(0x501, 1)).toBe(0);
  });
});

describe("16550 UART host input stream", () => {
  it("feeds a stream's chunks as they arrive and stops on disconnect", async () => {
    const { PassThrough } = await import("node:stream");
    const bus = new PortBus();
    const uart = new Uart16550(bus, 0x3f8);
    const s = new PassThrough();
    const off = uart.connectInput(s);
    s.write("ab");
    await new Promise((r) => setImmediate(r));
    expect(bus.read(0x3f8, 1)).toBe(0x61);
    off();
    s.write("c");
    await new Promise((r) => setImmediate(r));
    expect(bus.read(0x3f8, 1)).toBe(0x62);
    expect(bus.read(0x3fd, 1) & LSR_DR).toBe(0);
  });
});
