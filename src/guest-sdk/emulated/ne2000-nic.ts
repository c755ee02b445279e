/**
 * An NE2000 (DP8390) network driver for TS guests through `ctx.io` only (DESIGN.md "Guests"):
 * reset and initialisation in the datasheet's order (DP8390D "Initialization Procedure"), the
 * station address read from the PROM, transmit by remote DMA write into the card's transmit
 * buffer, receive by remote DMA read out of the receive ring, all interrupt driven. It has the
 * NetDevice shape (`mac`, `maxFrameSize`, `send`, `frames$`), so workloads written for netfront
 * run on it unchanged.
 *
 * Frames move through two bounce pages in the guest's memory with 16-bit REP INS/OUTS on the
 * data port, as a PIO NE2000 driver does. A receive header the driver cannot trust (next page
 * outside the ring, a length outside 14–1514) is counted and the ring is resynchronised by
 * dropping what is in it, as Linux's ne2000 does on a bogus header; a frame of a length Ethernet
 * cannot carry is refused before it reaches the card.
 */
import { Subject } from "rxjs";
import type { GuestContext, GuestPortIo } from "../../hypercalls/index.js";
import { PvkitError } from "../errors.js";
import {
  Cr,
  DCR_WORD_NORMAL,
  ETH_HEADER_BYTES,
  ETH_MAX_BYTES,
  ETH_MIN_BYTES,
  Isr,
  NE_RX_START,
  NE_RX_STOP,
  NE_TX_PAGE,
  NE2000_PC,
  Dp8390Port as P,
  RCR_AB,
  TCR_LOOPBACK,
} from "./dp8390.js";

/** A frame the driver refuses, or a card that does not answer as an NE2000 should. */
export class NicError extends PvkitError {}

export interface Ne2000NicOptions {
  /** I/O base and interrupt line (default: the PC's 0x300, IRQ 9). */
  readonly base?: number;
  readonly irq?: number;
}

/** Driver counters (statistics and tests). */
export interface Ne2000Counters {
  txFrames: number;
  rxFrames: number;
  interrupts: number;
  /** ISR.OVW seen: the card dropped frames for lack of ring space. */
  overruns: number;
  /** Receive headers that failed the driver's checks (ring resynchronised). */
  badHeaders: number;
  txErrors: number;
}

/** Bounded polls of a status bit the card sets synchronously (reset, remote DMA done). */
const MAX_POLLS = 1000;
const RING_PAGES = NE_RX_STOP - NE_RX_START;
const IMR_HANDLED = Isr.PRX | Isr.PTX | Isr.RXE | Isr.TXE | Isr.OVW;

export class Ne2000Nic {
  readonly maxFrameSize = ETH_MAX_BYTES;
  /** The station address, from the card's PROM. */
  readonly mac = new Uint8Array(6);
  readonly counters: Ne2000Counters = {
    txFrames: 0,
    rxFrames: 0,
    interrupts: 0,
    overruns: 0,
    badHeaders: 0,
    txErrors: 0,
  };
  private readonly frames = new Subject<Uint8Array>();
  /** Frames received, in arrival order (hot: subscribe before init). */
  readonly frames$ = this.frames.asObservable();
  private readonly io: GuestPortIo;
  private readonly base: number;
  private readonly irqMask: number;
  private readonly txBuf: number;
  private readonly rxBuf: number;
  private bnry = NE_RX_START;
  private closed = false;
  /** STA once initialised; until then remote DMA runs with the card stopped (STP). */
  private runBit: number = Cr.STP;
  private txWaiter: ((tsrError: boolean) => void) | null = null;
  private txQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: GuestContext,
    opts: Ne2000NicOptions = {},
  ) {
    if (!ctx.io) throw new NicError("this domain has no emulated devices (ctx.io is null)");
    this.io = ctx.io;
    this.base = opts.base ?? NE2000_PC.base;
    this.irqMask = 1 << (opts.irq ?? NE2000_PC.irq);
    const tx = ctx.allocPage();
    const rx = ctx.allocPage();
    if (tx < 0 || rx < 0) throw new NicError("out of guest pages for the NE2000 driver");
    this.txBuf = tx * 4096;
    this.rxBuf = rx * 4096;
  }

  /** Resets and programs the card, reads the MAC, starts it and its interrupt service. */
  async init(): Promise<void> {
    const io = this.io;
    const b = this.base;
    io.read(b + P.RESET, 1);
    this.poll(Isr.RST, "reset");
    io.write(b + P.CR, 1, Cr.STP | Cr.RD_ABORT | Cr.PAGE0);
    io.write(b + P.DCR, 1, DCR_WORD_NORMAL);
    io.write(b + P.RBCR0, 1, 0);
    io.write(b + P.RBCR1, 1, 0);
    io.write(b + P.RCR, 1, RCR_AB);
    io.write(b + P.TCR, 1, TCR_LOOPBACK);
    io.write(b + P.ISR, 1, 0xff);
    // The PROM in word mode holds each byte twice: six words, the MAC in their low bytes.
    this.remoteDma(0, 12, Cr.RD_READ);
    for (let i = 0; i < 6; i++) this.mac[i] = io.read(b + P.DATA, 2) & 0xff;
    io.write(b + P.ISR, 1, Isr.RDC);
    io.write(b + P.PSTART, 1, NE_RX_START);
    io.write(b + P.PSTOP, 1, NE_RX_STOP);
    io.write(b + P.BNRY, 1, NE_RX_START);
    io.write(b + P.TPSR, 1, NE_TX_PAGE);
    io.write(b + P.ISR, 1, 0xff);
    io.write(b + P.IMR, 1, IMR_HANDLED);
    io.write(b + P.CR, 1, Cr.STP | Cr.RD_ABORT | Cr.PAGE1);
    for (let i = 0; i < 6; i++) io.write(b + P.PAR0 + i, 1, this.mac[i]!);
    io.write(b + P.CURR, 1, NE_RX_START + 1);
    for (let i = 0; i < 8; i++) io.write(b + P.MAR0 + i, 1, 0);
    io.write(b + P.CR, 1, Cr.STA | Cr.RD_ABORT | Cr.PAGE0);
    io.write(b + P.TCR, 1, 0);
    this.runBit = Cr.STA;
    this.bnry = NE_RX_START;
    void this.service();
  }

  /** Sends one frame (14–1514 bytes; shorter than 60 is padded); resolves when the card sent it. */
  send(frame: Uint8Array): Promise<void> {
    const p = this.txQueue.then(() => this.transmit(frame));
    this.txQueue = p.catch(() => undefined);
    return p;
  }

  /** Stops the card and its interrupt service. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.io.write(this.base + P.IMR, 1, 0);
    this.io.write(this.base + P.CR, 1, Cr.STP | Cr.RD_ABORT | Cr.PAGE0);
    this.frames.complete();
  }

  private async transmit(frame: Uint8Array): Promise<void> {
    if (this.closed) throw new NicError("send on a closed NE2000");
    if (frame.length < ETH_HEADER_BYTES || frame.length > ETH_MAX_BYTES)
      throw new NicError(
        `frame of ${frame.length} bytes: Ethernet carries ${ETH_HEADER_BYTES}–${ETH_MAX_BYTES}`,
      );
    const io = this.io;
    const b = this.base;
    const len = Math.max(frame.length, ETH_MIN_BYTES);
    const mem = this.ctx.mem;
    mem.writeBytes(this.txBuf, frame);
    if (frame.length < len) mem.writeBytes(this.txBuf + frame.length, new Uint8Array(len - frame.length));
    const words = (len + 1) >> 1;
    this.remoteDma(NE_TX_PAGE << 8, words * 2, Cr.RD_WRITE);
    io.writeString(b + P.DATA, 2, this.txBuf, words);
    this.poll(Isr.RDC, "remote DMA write");
    io.write(b + P.ISR, 1, Isr.RDC);
    io.write(b + P.TPSR, 1, NE_TX_PAGE);
    io.write(b + P.TBCR0, 1, len & 0xff);
    io.write(b + P.TBCR1, 1, len >> 8);
    const done = new Promise<boolean>((resolve) => {
      this.txWaiter = resolve;
    });
    io.write(b + P.CR, 1, Cr.STA | Cr.TXP | Cr.RD_ABORT | Cr.PAGE0);
    if (await done) {
      this.counters.txErrors++;
      throw new NicError("transmit error (ISR.TXE)");
    }
    this.counters.txFrames++;
  }

  /** The interrupt service: acknowledge, drain the ring, complete the transmit. */
  private async service(): Promise<void> {
    const io = this.io;
    const b = this.base;
    while (!this.closed) {
      await io.waitForInterrupt(this.irqMask);
      if (this.closed) return;
      this.counters.interrupts++;
      const isr = io.read(b + P.ISR, 1);
      // Acknowledge first: a frame arriving while we drain raises PRX (and the line) again.
      io.write(b + P.ISR, 1, isr & IMR_HANDLED);
      if (isr & Isr.OVW) this.counters.overruns++;
      if (isr & (Isr.PRX | Isr.RXE | Isr.OVW)) this.drain();
      if (isr & (Isr.PTX | Isr.TXE)) {
        const w = this.txWaiter;
        this.txWaiter = null;
        w?.((isr & Isr.TXE) !== 0 && (isr & Isr.PTX) === 0);
      }
    }
  }

  /** Takes every frame between BNRY + 1 and CURR out of the ring. */
  private drain(): void {
    const io = this.io;
    const b = this.base;
    const mem = this.ctx.mem;
    for (let n = 0; n < RING_PAGES; n++) {
      io.write(b + P.CR, 1, Cr.STA | Cr.RD_ABORT | Cr.PAGE1);
      const curr = io.read(b + P.CURR, 1);
      io.write(b + P.CR, 1, Cr.STA | Cr.RD_ABORT | Cr.PAGE0);
      const page = this.bnry + 1 >= NE_RX_STOP ? NE_RX_START : this.bnry + 1;
      if (page === curr) return;
      // Receive header (DP8390 "Storage Format"): status, next page, byte count with header.
      this.remoteDma(page << 8, 4, Cr.RD_READ);
      const h0 = io.read(b + P.DATA, 2);
      const h1 = io.read(b + P.DATA, 2);
      const next = h0 >> 8;
      const len = h1 - 4;
      if (
        (h0 & 1) === 0 ||
        next < NE_RX_START ||
        next >= NE_RX_STOP ||
        len < ETH_HEADER_BYTES ||
        len > ETH_MAX_BYTES
      ) {
        this.counters.badHeaders++;
        this.setBoundary(curr);
        return;
      }
      this.remoteDma((page << 8) + 4, (len + 1) & ~1, Cr.RD_READ);
      io.readString(b + P.DATA, 2, this.rxBuf, (len + 1) >> 1);
      io.write(b + P.ISR, 1, Isr.RDC);
      const frame = mem.readBytes(this.rxBuf, len);
      this.setBoundary(next);
      this.counters.rxFrames++;
      this.frames.next(frame);
    }
  }

  /** Frees the ring up to (not including) page `upTo`: BNRY = upTo − 1, wrapping. */
  private setBoundary(upTo: number): void {
    this.bnry = upTo - 1 < NE_RX_START ? NE_RX_STOP - 1 : upTo - 1;
    this.io.write(this.base + P.BNRY, 1, this.bnry);
  }

  /** Programs a remote DMA of `bytes` at card address `addr` (RD_READ or RD_WRITE). */
  private remoteDma(addr: number, bytes: number, dir: number): void {
    const io = this.io;
    const b = this.base;
    io.write(b + P.CR, 1, this.runBit | Cr.RD_ABORT | Cr.PAGE0);
    io.write(b + P.RBCR0, 1, bytes & 0xff);
    io.write(b + P.RBCR1, 1, bytes >> 8);
    io.write(b + P.RSAR0, 1, addr & 0xff);
    io.write(b + P.RSAR1, 1, addr >> 8);
    io.write(b + P.CR, 1, this.runBit | dir | Cr.PAGE0);
  }

  private poll(bit: number, what: string): void {
    for (let i = 0; i < MAX_POLLS; i++) if (this.io.read(this.base + P.ISR, 1) & bit) return;
    throw new NicError(`NE2000 at 0x${this.base.toString(16)}: ${what} never completed`);
  }
}
