/**
 * An NE2000 ISA network card: a National Semiconductor DP8390D network interface controller
 * (datasheet, July 1995: register pages 0–2, remote DMA, receive ring) with 32 KiB of buffer
 * RAM at 0x4000–0xBFFF, an address PROM and the NE2000's data and reset ports. 32 ports from
 * the base (0x300 on the PC, IRQ9 — DESIGN.md "PC board"):
 *   base + 0x00–0x0F  DP8390 registers of the page CR.PS selects
 *   base + 0x10–0x17  data port: remote DMA through the card's RAM (8 or 16 bits by DCR.WTS)
 *   base + 0x18–0x1F  reset port: a read resets the card (ISR.RST set)
 *
 * QEMU 7.2's hw/net/ne2000.c (`-device ne2k_isa`) is the behavioural reference, and
 * samples/guests/x86/devices/ne2000-test.elf checks it (test/differential/x86-devices):
 *  - the PROM holds the MAC then 0x57 0x57 at bytes 14/15, every byte doubled (word mode) in
 *    place — so bytes 12–27 hold leftovers of the previous reset's doubling — and the default
 *    MAC is QEMU's first NIC's 52:54:00:12:34:56;
 *  - unicast frames are accepted when they match the PROM's MAC (QEMU compares against the
 *    PROM, not PAR0–5), broadcast with RCR.AB, multicast with RCR.AM and a MAR hash hit,
 *    anything with RCR.PRO; frames shorter than 60 bytes are padded to 60; no CRC is stored
 *    but the ring advances as if it were (4 bytes);
 *  - the receive header is: status (RSR.PRX, plus PHY for a group address), next page, length
 *    (frame + 4-byte header) low, high;
 *  - transmit completes at once: TSR.PTX, ISR.PTX, CR.TXP clears;
 *  - the interrupt output is level: (ISR & IMR) != 0;
 *  - page-0 reads at 0x0A/0x0B give the RTL8029 ID bytes 0x50 0x43 as QEMU's model does;
 *    registers QEMU leaves unimplemented read 0 there, and here too (with a warning once).
 * Differences, chosen where QEMU has none: internal loopback (TCR.LB = 01) hands the frame to
 * this card's own receiver; a frame arriving while the ring lacks room for a full-size frame
 * is dropped with ISR.OVW and CNTR2 (missed packets) counted, where QEMU keeps it queued on the
 * host side. Room is QEMU's (CURR up to BNRY, the whole ring when they are equal, at least a
 * full-size frame), plus the DP8390's rule that the receiver never writes into the BNRY page: a
 * frame whose next page would reach BNRY is refused. QEMU accepts it, after which CURR == BNRY
 * reads as an empty ring and the next frame overwrites unread ones (found by the fast-check
 * property in test/machine/devices/ne2000-ring.test.ts). Received frames from the host are delivered `rxCycles` after they arrive.
 */
import type { SimClock } from "../clock.js";
import { type IrqLine, NO_IRQ } from "../cpu.js";
import type { PortBus, PortHandler, PortSize } from "../io-ports.js";

// Command register (CR) bits (datasheet p. 19).
export const CR_STP = 0x01;
export const CR_STA = 0x02;
export const CR_TXP = 0x04;
export const CR_RD_READ = 0x08;
export const CR_RD_WRITE = 0x10;
export const CR_RD_ABORT = 0x20;
// ISR bits.
export const ISR_PRX = 0x01;
export const ISR_PTX = 0x02;
export const ISR_RXE = 0x04;
export const ISR_TXE = 0x08;
export const ISR_OVW = 0x10;
export const ISR_CNT = 0x20;
export const ISR_RDC = 0x40;
export const ISR_RST = 0x80;
// RCR bits.
export const RCR_SEP = 0x01;
export const RCR_AR = 0x02;
export const RCR_AB = 0x04;
export const RCR_AM = 0x08;
export const RCR_PRO = 0x10;
export const RCR_MON = 0x20;
// TCR loopback field (bits 2:1).
export const TCR_LB_MASK = 0x06;
export const TCR_LB_INTERNAL = 0x02;
// DCR: word transfer select.
export const DCR_WTS = 0x01;
// TSR / RSR.
export const TSR_PTX = 0x01;
export const RSR_PRX = 0x01;
export const RSR_PHY = 0x20;

/** Page-0 register offsets (datasheet p. 17); page 1 and 2 offsets below. */
export const Ne2000Reg = {
  CR: 0x00,
  PSTART: 0x01,
  PSTOP: 0x02,
  BNRY: 0x03,
  /** Read: TSR; write: TPSR. */
  TSR: 0x04,
  TPSR: 0x04,
  TBCR0: 0x05,
  TBCR1: 0x06,
  ISR: 0x07,
  /** Read: CRDA0/1 (current remote DMA address); write: RSAR0/1. */
  RSAR0: 0x08,
  RSAR1: 0x09,
  RBCR0: 0x0a,
  RBCR1: 0x0b,
  /** Read: RSR; write: RCR. */
  RSR: 0x0c,
  RCR: 0x0c,
  /** Read: CNTR0 (frame alignment errors); write: TCR. */
  TCR: 0x0d,
  DCR: 0x0e,
  IMR: 0x0f,
  /** Page 1. */
  PAR0: 0x01,
  CURR: 0x07,
  MAR0: 0x08,
  /** From the base: NE2000 data and reset ports. */
  DATA: 0x10,
  RESET: 0x1f,
} as const;

/** PC board resources (DESIGN.md). */
export const NE2000_BASE = 0x300;
export const NE2000_IRQ = 9;
export const NE2000_PORTS = 0x20;
/** QEMU's default MAC for the first NIC (net/net.c qemu_macaddr_default_if_unset). */
export const NE2000_DEFAULT_MAC: readonly number[] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
/** Card RAM: PROM image at 0–31, buffer RAM 0x4000–0xBFFF (QEMU NE2000_PMEM_START/END). */
export const NE2000_PMEM_START = 0x4000;
export const NE2000_PMEM_END = 0xc000;
/** Largest Ethernet frame without CRC, and the 60-byte minimum a receiver pads to. */
export const ETH_MAX_FRAME = 1514;
export const ETH_MIN_FRAME = 60;
/** Cycles from a frame arriving at the host side to its delivery into the ring (model choice). */
export const NE2000_DEFAULT_RX_CYCLES = 1000;

export interface Ne2000Options {
  irq?: IrqLine;
  base?: number;
  mac?: readonly number[];
  name?: string;
  /** Where transmitted frames go (a virtual switch, a test). Default: dropped, or looped back with `loopback`. */
  sink?: (frame: Uint8Array) => void;
  /** Feed every transmitted frame back to this card's receiver (like a cable to a reflector). */
  loopback?: boolean;
  rxCycles?: number;
  warn?: (msg: string) => void;
}

export interface Ne2000State {
  cr: number;
  pstart: number;
  pstop: number;
  bnry: number;
  tpsr: number;
  tbcr: number;
  isr: number;
  rsar: number;
  rbcr: number;
  rsr: number;
  rcr: number;
  tcr: number;
  dcr: number;
  imr: number;
  tsr: number;
  curr: number;
  par: number[];
  mar: number[];
  cntr: number[];
  mem: number[];
}

export class Ne2000 implements PortHandler {
  readonly name: string;
  /** Frames sent and received (accepted into the ring), dropped for lack of room; for statistics. */
  txFrames = 0;
  rxFrames = 0;
  rxDropped = 0;
  private readonly irq: IrqLine;
  private readonly base: number;
  private readonly mac: Uint8Array;
  private readonly rxCycles: number;
  private readonly warn: (msg: string) => void;
  private readonly warned = new Set<number>();
  private sink: ((frame: Uint8Array) => void) | null;
  /** Card RAM, 48 KiB (PROM at 0, buffer RAM from 0x4000); addresses are byte addresses. */
  private readonly mem = new Uint8Array(NE2000_PMEM_END);
  /** 0 at power-on and untouched by the reset port, as in QEMU (a driver writes it first). */
  private cr = 0;
  private pstart = 0;
  private pstop = 0;
  private bnry = 0;
  private tpsr = 0;
  private tbcr = 0;
  private isr = ISR_RST;
  private rsar = 0;
  private rbcr = 0;
  private rsr = 0;
  private rcr = 0;
  private tcr = 0;
  private dcr = 0;
  private imr = 0;
  private tsr = 0;
  private curr = 0;
  private readonly par = new Uint8Array(6);
  private readonly mar = new Uint8Array(8);
  /** CNTR0–2: frame alignment errors, CRC errors, missed packets. */
  private readonly cntr = new Uint8Array(3);
  private readonly frame = new Uint8Array(ETH_MAX_FRAME + 4);

  constructor(
    bus: PortBus | null,
    private readonly clock: SimClock,
    opts: Ne2000Options = {},
  ) {
    this.name = opts.name ?? "NE2000";
    this.irq = opts.irq ?? NO_IRQ;
    this.base = opts.base ?? NE2000_BASE;
    this.mac = Uint8Array.from(opts.mac ?? NE2000_DEFAULT_MAC);
    if (this.mac.length !== 6) throw new RangeError("NE2000 MAC must be 6 bytes");
    this.rxCycles = opts.rxCycles ?? NE2000_DEFAULT_RX_CYCLES;
    this.warn = opts.warn ?? (() => {});
    this.sink = opts.sink ?? null;
    if (opts.loopback) this.sink = (f) => this.deliver(f);
    this.reset();
    bus?.register(this.base, NE2000_PORTS, this);
  }

  /** Attaches the host side: frames the guest transmits go to `sink`. */
  attach(sink: (frame: Uint8Array) => void): void {
    this.sink = sink;
  }

  /** A frame from the host side, handed to the receiver `rxCycles` from now (copied). */
  deliver(frame: Uint8Array): void {
    const copy = frame.slice();
    this.clock.after(this.rxCycles, () => {
      this.receive(copy);
    });
  }

  /** The card's reset (reset port read; QEMU ne2000_reset): ISR.RST, the PROM rebuilt. */
  reset(): void {
    this.isr = ISR_RST;
    // Bytes 6-13 keep what the previous reset's doubling left there, as in QEMU: after a second
    // reset the PROM reads ... 56 56 12 12 12 12 34 34 34 34 56 56 56 56 00 00 00 00 57 57 ...
    this.mem.set(this.mac, 0);
    this.mem[14] = 0x57;
    this.mem[15] = 0x57;
    // Word-mode PROM: each byte appears twice (QEMU "duplicate prom data").
    for (let i = 15; i >= 0; i--) {
      this.mem[2 * i] = this.mem[i]!;
      this.mem[2 * i + 1] = this.mem[i]!;
    }
    this.updateIrq();
  }

  private updateIrq(): void {
    this.irq.set((this.isr & this.imr) !== 0);
  }

  read(port: number, size: PortSize): number {
    const off = port - this.base;
    if (off < 0x10) return this.readReg(off);
    if (off < 0x18) return this.readData(size);
    if (off === 0x1f) this.reset();
    return 0;
  }

  write(port: number, size: PortSize, value: number): void {
    const off = port - this.base;
    if (off < 0x10) this.writeReg(off, value & 0xff);
    else if (off < 0x18) this.writeData(size, value);
    // Writes to the reset ports do nothing (QEMU ne2000_reset_ioport_write).
  }

  private readReg(off: number): number {
    if (off === Ne2000Reg.CR) return this.cr;
    const page = this.cr >> 6;
    if (page === 0) {
      switch (off) {
        case Ne2000Reg.BNRY:
          return this.bnry;
        case Ne2000Reg.TSR:
          return this.tsr;
        case Ne2000Reg.ISR:
          return this.isr;
        case Ne2000Reg.RSAR0:
          return this.rsar & 0xff;
        case Ne2000Reg.RSAR1:
          return this.rsar >> 8;
        case 0x0a: // RTL8029AS ID bytes, as QEMU's model answers
          return 0x50;
        case 0x0b:
          return 0x43;
        case Ne2000Reg.RSR:
          return this.rsr;
        case 0x0d:
        case 0x0e:
        case 0x0f: // CNTR0-2 (tally counters); QEMU reads 0
          return 0;
      }
    } else if (page === 1) {
      if (off >= Ne2000Reg.PAR0 && off < Ne2000Reg.PAR0 + 6) return this.par[off - Ne2000Reg.PAR0]!;
      if (off === Ne2000Reg.CURR) return this.curr;
      if (off >= Ne2000Reg.MAR0) return this.mar[off - Ne2000Reg.MAR0]!;
    } else if (page === 2) {
      if (off === Ne2000Reg.PSTART) return this.pstart;
      if (off === Ne2000Reg.PSTOP) return this.pstop;
    }
    this.warnOnce(
      (page << 4) | off,
      `${this.name}: read of unimplemented register page ${page} 0x${off.toString(16)} (0)`,
    );
    return 0;
  }

  private writeReg(off: number, v: number): void {
    if (off === Ne2000Reg.CR) {
      this.writeCommand(v);
      return;
    }
    const page = this.cr >> 6;
    if (page === 0) {
      switch (off) {
        case Ne2000Reg.PSTART:
          if (v << 8 <= NE2000_PMEM_END) this.pstart = v;
          return;
        case Ne2000Reg.PSTOP:
          if (v << 8 <= NE2000_PMEM_END) this.pstop = v;
          return;
        case Ne2000Reg.BNRY:
          if (v << 8 < NE2000_PMEM_END) this.bnry = v;
          return;
        case Ne2000Reg.TPSR:
          this.tpsr = v;
          return;
        case Ne2000Reg.TBCR0:
          this.tbcr = (this.tbcr & 0xff00) | v;
          return;
        case Ne2000Reg.TBCR1:
          this.tbcr = (this.tbcr & 0x00ff) | (v << 8);
          return;
        case Ne2000Reg.ISR: // write 1 to acknowledge; RST is status, not acknowledged
          this.isr &= ~(v & 0x7f);
          this.updateIrq();
          return;
        case Ne2000Reg.RSAR0:
          this.rsar = (this.rsar & 0xff00) | v;
          return;
        case Ne2000Reg.RSAR1:
          this.rsar = (this.rsar & 0x00ff) | (v << 8);
          return;
        case Ne2000Reg.RBCR0:
          this.rbcr = (this.rbcr & 0xff00) | v;
          return;
        case Ne2000Reg.RBCR1:
          this.rbcr = (this.rbcr & 0x00ff) | (v << 8);
          return;
        case Ne2000Reg.RCR:
          this.rcr = v;
          return;
        case Ne2000Reg.TCR:
          this.tcr = v;
          return;
        case Ne2000Reg.DCR:
          this.dcr = v;
          return;
        case Ne2000Reg.IMR:
          this.imr = v;
          this.updateIrq();
          return;
      }
    } else if (page === 1) {
      if (off >= Ne2000Reg.PAR0 && off < Ne2000Reg.PAR0 + 6) {
        this.par[off - Ne2000Reg.PAR0] = v;
        return;
      }
      if (off === Ne2000Reg.CURR) {
        if (v << 8 < NE2000_PMEM_END) this.curr = v;
        return;
      }
      if (off >= Ne2000Reg.MAR0) {
        this.mar[off - Ne2000Reg.MAR0] = v;
        return;
      }
    }
    this.warnOnce(
      0x100 | (page << 4) | off,
      `${this.name}: write to unimplemented register page ${page} 0x${off.toString(16)}`,
    );
  }

  private writeCommand(v: number): void {
    this.cr = v;
    if (v & CR_STP) return;
    this.isr &= ~ISR_RST;
    // A remote DMA of zero bytes completes at once (QEMU "zero length transfer").
    if (v & (CR_RD_READ | CR_RD_WRITE) && this.rbcr === 0) {
      this.isr |= ISR_RDC;
      this.updateIrq();
    }
    if (v & CR_TXP) this.transmit();
  }

  private transmit(): void {
    let start = this.tpsr << 8;
    if (start >= NE2000_PMEM_END) start -= NE2000_PMEM_END - NE2000_PMEM_START; // QEMU's NetWare 3.11 wrap
    if (start + this.tbcr <= NE2000_PMEM_END) {
      const frame = this.mem.slice(start, start + this.tbcr);
      this.txFrames++;
      if ((this.tcr & TCR_LB_MASK) === TCR_LB_INTERNAL) this.receive(frame);
      else this.sink?.(frame);
    }
    this.tsr = TSR_PTX;
    this.isr |= ISR_PTX;
    this.cr &= ~CR_TXP;
    this.updateIrq();
  }

  /** Bytes free in the ring from CURR up to BNRY (QEMU ne2000_buffer_full's arithmetic). */
  private ringRoom(): number {
    const index = this.curr << 8;
    const boundary = this.bnry << 8;
    if (index < boundary) return boundary - index;
    return ((this.pstop - this.pstart) << 8) - (index - boundary);
  }

  /**
   * Receives one frame (without CRC) into the ring. Returns false when the card refused it:
   * stopped, filtered out, or no room (then ISR.OVW and the missed-packet counter).
   */
  receive(frame: Uint8Array): boolean {
    if (this.cr & CR_STP) return false;
    if (frame.length > ETH_MAX_FRAME || frame.length < 6) return false;
    const pagesNeeded = (Math.max(frame.length, ETH_MIN_FRAME) + 4 + 4 + 255) >> 8;
    const room = this.ringRoom();
    if (room < ETH_MAX_FRAME + 4 || pagesNeeded >= room >> 8) {
      this.rxDropped++;
      this.cntr[2] = (this.cntr[2]! + 1) & 0xff;
      this.isr |= ISR_OVW;
      this.updateIrq();
      return false;
    }
    if (!this.accepts(frame)) return false;
    let size = frame.length;
    const buf = this.frame;
    buf.set(frame);
    if (size < ETH_MIN_FRAME) {
      buf.fill(0, size, ETH_MIN_FRAME);
      size = ETH_MIN_FRAME;
    }
    const start = this.pstart << 8;
    const stop = this.pstop << 8;
    let index = this.curr << 8;
    if (index >= NE2000_PMEM_END) index = start;
    const total = size + 4;
    let next = index + ((total + 4 + 255) & ~0xff);
    if (next >= stop) next -= stop - start;
    this.rsr = RSR_PRX | (buf[0]! & 1 ? RSR_PHY : 0);
    const mem = this.mem;
    mem[index] = this.rsr;
    mem[index + 1] = next >> 8;
    mem[index + 2] = total & 0xff;
    mem[index + 3] = total >> 8;
    index += 4;
    let from = 0;
    while (from < size) {
      const avail = index <= stop ? stop - index : 0;
      const len = Math.min(size - from, avail);
      mem.set(buf.subarray(from, from + len), index);
      from += len;
      index += len;
      if (index === stop) index = start;
      if (len === 0 && avail === 0) break; // ring registers inconsistent: give up, as QEMU would loop
    }
    this.curr = next >> 8;
    this.rxFrames++;
    this.isr |= ISR_PRX;
    this.updateIrq();
    return true;
  }

  private accepts(f: Uint8Array): boolean {
    if (this.rcr & RCR_PRO) return true;
    if (f[0] === 0xff && f[1] === 0xff && f[2] === 0xff && f[3] === 0xff && f[4] === 0xff && f[5] === 0xff) {
      return (this.rcr & RCR_AB) !== 0;
    }
    if (f[0]! & 1) {
      if (!(this.rcr & RCR_AM)) return false;
      const idx = ethCrc32(f, 6) >>> 26;
      return (this.mar[idx >> 3]! & (1 << (idx & 7))) !== 0;
    }
    const m = this.mem;
    return (
      m[0] === f[0] && m[2] === f[1] && m[4] === f[2] && m[6] === f[3] && m[8] === f[4] && m[10] === f[5]
    );
  }

  // ---- remote DMA through the data port ----

  private memRead(addr: number): number {
    return addr < 32 || (addr >= NE2000_PMEM_START && addr < NE2000_PMEM_END) ? this.mem[addr]! : 0xff;
  }

  private memWrite(addr: number, v: number): void {
    if (addr >= NE2000_PMEM_START && addr < NE2000_PMEM_END) this.mem[addr] = v;
  }

  private dmaUpdate(len: number): void {
    this.rsar = (this.rsar + len) & 0xffff;
    if (this.rsar === this.pstop << 8) this.rsar = this.pstart << 8;
    if (this.rbcr <= len) {
      this.rbcr = 0;
      this.isr |= ISR_RDC;
      this.updateIrq();
    } else {
      this.rbcr -= len;
    }
  }

  private readData(size: PortSize): number {
    if (this.dcr & DCR_WTS) {
      const a = this.rsar & ~1;
      let v = this.memRead(a) | (this.memRead(a + 1) << 8);
      this.dmaUpdate(2);
      if (size === 4) {
        const b = this.rsar & ~1;
        v = (v | (this.memRead(b) << 16) | (this.memRead(b + 1) << 24)) >>> 0;
        this.dmaUpdate(2);
      }
      return v;
    }
    const v = this.memRead(this.rsar);
    this.dmaUpdate(1);
    return v;
  }

  private writeData(size: PortSize, value: number): void {
    if (this.dcr & DCR_WTS) {
      const a = this.rsar & ~1;
      this.memWrite(a, value & 0xff);
      this.memWrite(a + 1, (value >>> 8) & 0xff);
      this.dmaUpdate(2);
      if (size === 4) {
        const b = this.rsar & ~1;
        this.memWrite(b, (value >>> 16) & 0xff);
        this.memWrite(b + 1, (value >>> 24) & 0xff);
        this.dmaUpdate(2);
      }
      return;
    }
    this.memWrite(this.rsar, value & 0xff);
    this.dmaUpdate(1);
  }

  private warnOnce(key: number, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(msg);
  }

  // ---- snapshots ----

  getState(): Ne2000State {
    return {
      cr: this.cr,
      pstart: this.pstart,
      pstop: this.pstop,
      bnry: this.bnry,
      tpsr: this.tpsr,
      tbcr: this.tbcr,
      isr: this.isr,
      rsar: this.rsar,
      rbcr: this.rbcr,
      rsr: this.rsr,
      rcr: this.rcr,
      tcr: this.tcr,
      dcr: this.dcr,
      imr: this.imr,
      tsr: this.tsr,
      curr: this.curr,
      par: Array.from(this.par),
      mar: Array.from(this.mar),
      cntr: Array.from(this.cntr),
      mem: Array.from(this.mem),
    };
  }

  setState(s: Ne2000State): void {
    const { par, mar, cntr, mem, ...regs } = s;
    Object.assign(this, regs);
    this.par.set(par);
    this.mar.set(mar);
    this.cntr.set(cntr);
    this.mem.set(mem);
    this.updateIrq();
  }
}

/**
 * The CRC whose top 6 bits index the multicast hash (MAR0–7): QEMU's net_crc32 — the Ethernet
 * CRC-32 computed most-significant-bit first (polynomial 0x04C11DB7 written as 0x04C11DB6 | carry),
 * bytes fed least-significant bit first, initial value all ones, no final inversion.
 */
export function ethCrc32(data: Uint8Array, n: number): number {
  let crc = 0xffffffff;
  for (let i = 0; i < n; i++) {
    let b = data[i]!;
    for (let j = 0; j < 8; j++) {
      const carry = (crc >>> 31) ^ (b & 1);
      crc = (crc << 1) >>> 0;
      b >>= 1;
      if (carry) crc = ((crc ^ 0x04c11db6) | carry) >>> 0;
    }
  }
  return crc >>> 0;
}
