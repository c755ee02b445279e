/**
 * A 16550A UART (National Semiconductor PC16550D datasheet, June 1995): eight registers at a
 * base port, a 16-byte receive FIFO, transmit straight to a host sink, a level interrupt output.
 *
 * Used by both boards at port 0x3F8 (COM1): the PC wires it to IRQ4 of the master 8259A, mipssim
 * to CPU interrupt 4 (Cause.IP4, QEMU hw/mips/mipssim.c: "attached to MIPS CPU INT2, which is
 * interrupt 4"). QEMU (hw/char/serial.c) is the behavioural reference, which fixes three choices
 * a datasheet leaves to the board:
 *  - the interrupt output is NOT gated by MCR.OUT2 (QEMU raises its irq whenever IIR reports an
 *    interrupt; on a real PC OUT2 gates the line to the PIC — every driver sets it anyway);
 *  - transmission is instantaneous: a THR write reaches the sink at once and THRE/TEMT stay set,
 *    so a polling guest never waits (QEMU also writes through to its chardev at once);
 *  - received bytes are held in a host-side queue and moved into the FIFO as room appears, so a
 *    string fed at start-up is never lost to overrun (flow control the datasheet lacks).
 * The receive character-timeout interrupt (IIR 0x0C) is reported as soon as the FIFO holds data
 * below its trigger level and no more input is queued: the four-character idle time has, in a
 * simulated machine with no more input, always elapsed by the time the guest looks.
 */
import { type IrqLine, NO_IRQ } from "../cpu.js";
import type { PortBus, PortHandler, PortSize } from "../io-ports.js";

/** Register offsets from the base port (datasheet Table II). DLAB = LCR bit 7 selects DLL/DLM. */
export const UartReg = {
  /** Read, DLAB=0: Receiver Buffer Register. */
  RBR: 0,
  /** Write, DLAB=0: Transmitter Holding Register. */
  THR: 0,
  /** DLAB=1: Divisor Latch, least significant byte. */
  DLL: 0,
  /** DLAB=0: Interrupt Enable Register. */
  IER: 1,
  /** DLAB=1: Divisor Latch, most significant byte. */
  DLM: 1,
  /** Read: Interrupt Identification Register. */
  IIR: 2,
  /** Write: FIFO Control Register. */
  FCR: 2,
  /** Line Control Register. */
  LCR: 3,
  /** Modem Control Register. */
  MCR: 4,
  /** Line Status Register. */
  LSR: 5,
  /** Modem Status Register. */
  MSR: 6,
  /** Scratch Register. */
  SCR: 7,
} as const;

// IER bits.
export const IER_ERBFI = 0x01; // received data available
export const IER_ETBEI = 0x02; // transmitter holding register empty
export const IER_ELSI = 0x04; // receiver line status
export const IER_EDSSI = 0x08; // modem status
// IIR values (bits 0-3) and FIFO-enabled flags (bits 6-7).
export const IIR_NO_INT = 0x01;
export const IIR_RLS = 0x06; // receiver line status, priority 1
export const IIR_RDA = 0x04; // received data available, priority 2
export const IIR_CTI = 0x0c; // character timeout, priority 2
export const IIR_THRE = 0x02; // THR empty, priority 3
export const IIR_MSI = 0x00; // modem status, priority 4
export const IIR_FIFO_ENABLED = 0xc0;
// FCR bits.
export const FCR_ENABLE = 0x01;
export const FCR_CLEAR_RX = 0x02;
export const FCR_CLEAR_TX = 0x04;
// LCR bits.
export const LCR_DLAB = 0x80;
// MCR bits.
export const MCR_DTR = 0x01;
export const MCR_RTS = 0x02;
export const MCR_OUT1 = 0x04;
export const MCR_OUT2 = 0x08;
export const MCR_LOOP = 0x10;
// LSR bits.
export const LSR_DR = 0x01;
export const LSR_OE = 0x02;
export const LSR_PE = 0x04;
export const LSR_FE = 0x08;
export const LSR_BI = 0x10;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;
export const LSR_RXFIFO_ERR = 0x80;
// MSR bits.
export const MSR_DCTS = 0x01;
export const MSR_DDSR = 0x02;
export const MSR_TERI = 0x04;
export const MSR_DDCD = 0x08;
export const MSR_CTS = 0x10;
export const MSR_DSR = 0x20;
export const MSR_RI = 0x40;
export const MSR_DCD = 0x80;

/** Receive FIFO depth of the 16550A. */
export const UART_FIFO_SIZE = 16;
/** RX trigger levels selected by FCR bits 7:6 (datasheet Table III). */
const RX_TRIGGER = [1, 4, 8, 14] as const;

export interface Uart16550Options {
  /** Where transmitted bytes go (the board's console). Default: dropped. */
  sink?: (byte: number) => void;
  /** Interrupt output. Default: unconnected. */
  irq?: IrqLine;
  /** Bytes the guest will receive, queued at power-on. */
  input?: string | Uint8Array;
  /** Device name for the port bus. */
  name?: string;
}

/** The part of a Node readable stream the UART uses (kept structural: src/machine imports no Node types). */
export interface HostByteSource {
  on(event: "data", listener: (chunk: string | Uint8Array) => void): unknown;
  off?(event: "data", listener: (chunk: string | Uint8Array) => void): unknown;
}

/** Snapshot of the UART for save/restore (v86 get_state/set_state style). */
export interface Uart16550State {
  ier: number;
  lcr: number;
  mcr: number;
  lsrErrors: number;
  msr: number;
  scr: number;
  fcr: number;
  divisor: number;
  thrPending: boolean;
  rxFifo: number[];
  rxQueue: number[];
  txBytes: number;
  rxBytes: number;
}

export class Uart16550 implements PortHandler {
  readonly name: string;
  /** Bytes transmitted and received, for statistics. */
  txBytes = 0;
  rxBytes = 0;
  private sink: (byte: number) => void;
  private readonly irq: IrqLine;
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  /** Sticky error bits of LSR (OE/PE/FE/BI), cleared by reading LSR. */
  private lsrErrors = 0;
  private msr = MSR_DCD | MSR_DSR | MSR_CTS; // QEMU's serial reports carrier, DSR and CTS up
  private scr = 0;
  private fcr = 0;
  /** Baud-rate divisor (DLM:DLL); kept for getState only, timing is not modelled. */
  private divisor = 0x0c; // 9600 baud at 1.8432 MHz, QEMU's reset value
  /** THRE interrupt pending: set when THR empties, cleared by an IIR read reporting it or a THR write. */
  private thrPending = true;
  private rxFifo: number[] = [];
  /** Host bytes not yet in the FIFO. */
  private rxQueue: number[] = [];
  private irqLevel = false;

  constructor(bus: PortBus | null, base: number, opts: Uart16550Options = {}) {
    this.name = opts.name ?? `uart16550@0x${base.toString(16)}`;
    this.sink = opts.sink ?? (() => {});
    this.irq = opts.irq ?? NO_IRQ;
    if (opts.input !== undefined) this.feed(opts.input);
    bus?.register(base, 8, this);
  }

  /** Redirects transmitted bytes (e.g. the CLI's stdout writer). */
  setSink(sink: (byte: number) => void): void {
    this.sink = sink;
  }

  /** Queues host input for the guest (a string is taken as UTF-8). */
  feed(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (const b of bytes) this.rxQueue.push(b & 0xff);
    this.refill();
    this.updateIrq();
  }

  /**
   * Feeds everything a host stream produces (e.g. process.stdin) to the receiver as it arrives.
   * Arrival times follow the host, so a run with a live stream is not deterministic; feed a
   * string up front where it must be. Returns a function that stops listening.
   */
  connectInput(source: HostByteSource): () => void {
    const onData = (chunk: string | Uint8Array) => this.feed(chunk);
    source.on("data", onData);
    return () => source.off?.("data", onData);
  }

  /** True while received bytes wait in the FIFO or the host queue. */
  get inputPending(): boolean {
    return this.rxFifo.length > 0 || this.rxQueue.length > 0;
  }

  read(port: number, _size: PortSize): number {
    // Registers are bytes; a wider access reads the addressed register, zero-extended.
    return this.readReg(port & 7);
  }

  write(port: number, _size: PortSize, value: number): void {
    this.writeReg(port & 7, value & 0xff);
  }

  private fifoEnabled(): boolean {
    return (this.fcr & FCR_ENABLE) !== 0;
  }

  private readReg(reg: number): number {
    switch (reg) {
      case 0: {
        if (this.lcr & LCR_DLAB) return this.divisor & 0xff;
        const b = this.rxFifo.length > 0 ? this.rxFifo.shift()! : 0;
        this.refill();
        this.updateIrq();
        return b;
      }
      case 1:
        return this.lcr & LCR_DLAB ? (this.divisor >>> 8) & 0xff : this.ier;
      case 2: {
        const id = this.interruptId();
        // Reading IIR while it reports THRE clears that source (datasheet Table IV).
        if (id === IIR_THRE) {
          this.thrPending = false;
          this.updateIrq();
        }
        return id | (this.fifoEnabled() ? IIR_FIFO_ENABLED : 0);
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const v = this.lsr();
        this.lsrErrors = 0;
        this.updateIrq();
        return v;
      }
      case 6: {
        let v = this.msr;
        if (this.mcr & MCR_LOOP) {
          // Loopback: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD (datasheet MCR bit 4).
          v &= 0x0f;
          if (this.mcr & MCR_DTR) v |= MSR_DSR;
          if (this.mcr & MCR_RTS) v |= MSR_CTS;
          if (this.mcr & MCR_OUT1) v |= MSR_RI;
          if (this.mcr & MCR_OUT2) v |= MSR_DCD;
        }
        this.msr &= 0xf0; // delta bits clear on read
        this.updateIrq();
        return v;
      }
      default:
        return this.scr;
    }
  }

  private writeReg(reg: number, v: number): void {
    switch (reg) {
      case 0:
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0xff00) | v;
          return;
        }
        if (this.mcr & MCR_LOOP) {
          // Loopback: the byte comes back into the receiver instead of leaving.
          this.rxQueue.push(v);
          this.refill();
        } else {
          this.txBytes++;
          this.sink(v);
        }
        // Transmission is instantaneous, so THR is empty again at once.
        this.thrPending = true;
        this.updateIrq();
        return;
      case 1:
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0xff) | (v << 8);
          return;
        }
        {
          const was = this.ier;
          this.ier = v & 0x0f;
          // Enabling ETBEI with THR empty raises the THRE interrupt (QEMU serial_ioport_write).
          if (!(was & IER_ETBEI) && this.ier & IER_ETBEI) this.thrPending = true;
        }
        this.updateIrq();
        return;
      case 2: {
        const enable = v & FCR_ENABLE;
        // Toggling FIFO enable clears both FIFOs (datasheet FCR bit 0).
        if (enable !== (this.fcr & FCR_ENABLE) || v & FCR_CLEAR_RX) this.rxFifo.length = 0;
        this.fcr = v & 0xc9;
        this.refill();
        this.updateIrq();
        return;
      }
      case 3:
        this.lcr = v;
        return;
      case 4:
        this.mcr = v & 0x1f;
        this.updateIrq();
        return;
      case 5:
        return; // LSR is read-only (factory test use only)
      case 6:
        return; // MSR is read-only
      default:
        this.scr = v;
    }
  }

  private lsr(): number {
    let v = LSR_THRE | LSR_TEMT | this.lsrErrors;
    if (this.rxFifo.length > 0) v |= LSR_DR;
    return v;
  }

  /** Moves queued host bytes into the FIFO (one holding register when FIFOs are off). */
  private refill(): void {
    const cap = this.fifoEnabled() ? UART_FIFO_SIZE : 1;
    while (this.rxFifo.length < cap && this.rxQueue.length > 0) {
      this.rxFifo.push(this.rxQueue.shift()!);
      this.rxBytes++;
    }
  }

  /** Highest-priority pending interrupt, as IIR bits 3:0 (datasheet Table IV). */
  private interruptId(): number {
    if (this.ier & IER_ELSI && this.lsrErrors !== 0) return IIR_RLS;
    if (this.ier & IER_ERBFI && this.rxFifo.length > 0) {
      if (!this.fifoEnabled()) return IIR_RDA;
      const trigger = RX_TRIGGER[(this.fcr >>> 6) & 3]!;
      if (this.rxFifo.length >= trigger) return IIR_RDA;
      if (this.rxQueue.length === 0) return IIR_CTI;
    }
    if (this.ier & IER_ETBEI && this.thrPending) return IIR_THRE;
    if (this.ier & IER_EDSSI && this.msr & 0x0f) return IIR_MSI;
    return IIR_NO_INT;
  }

  private updateIrq(): void {
    const level = this.interruptId() !== IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  getState(): Uart16550State {
    return {
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      lsrErrors: this.lsrErrors,
      msr: this.msr,
      scr: this.scr,
      fcr: this.fcr,
      divisor: this.divisor,
      thrPending: this.thrPending,
      rxFifo: [...this.rxFifo],
      rxQueue: [...this.rxQueue],
      txBytes: this.txBytes,
      rxBytes: this.rxBytes,
    };
  }

  setState(s: Uart16550State): void {
    this.ier = s.ier;
    this.lcr = s.lcr;
    this.mcr = s.mcr;
    this.lsrErrors = s.lsrErrors;
    this.msr = s.msr;
    this.scr = s.scr;
    this.fcr = s.fcr;
    this.divisor = s.divisor;
    this.thrPending = s.thrPending;
    this.rxFifo = [...s.rxFifo];
    this.rxQueue = [...s.rxQueue];
    this.txBytes = s.txBytes;
    this.rxBytes = s.rxBytes;
    // Re-drive the line unconditionally: the new state may differ from what the wire carries.
    this.irqLevel = this.interruptId() !== IIR_NO_INT;
    this.irq.set(this.irqLevel);
  }
}
