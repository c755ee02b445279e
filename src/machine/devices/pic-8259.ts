/**
 * The PC's pair of Intel 8259A programmable interrupt controllers: master at ports 0x20/0x21,
 * slave at 0xA0/0xA1, the slave's INT output cascaded into the master's IR2.
 *
 * Register and command names follow the Intel 8259A datasheet (order no. 231468): ICW1–ICW4,
 * OCW1 (IMR), OCW2 (EOI / rotate / set priority), OCW3 (read IRR/ISR, poll, special mask), and
 * the IRR/ISR/IMR registers. Where the datasheet leaves a choice to the board, pvkit does what
 * QEMU's `hw/intc/i8259.c` does, because QEMU is the differential reference:
 *  - ICW1 clears IRR (edge-triggered bits), ISR and IMR, and resets every mode bit;
 *  - a request that vanished before INTA (or none at all) returns IR7's vector ("spurious IRQ7",
 *    and for the slave "spurious IRQ15" with the master's ISR bit 2 set), without setting ISR;
 *  - the PIIX edge/level control registers ELCR1/ELCR2 (ports 0x4D0/0x4D1) select level mode
 *    per input, with QEMU's writable masks (0xF8 master, 0xDE slave: IRQ 0, 1, 2, 8 and 13 are
 *    always edge); they reset to 0 (all edge, as ISA devices expect), and ICW1.LTIM still
 *    selects level mode for a whole chip.
 *
 * The cascade input (master IR2) follows the slave's INT output level rather than latching
 * edges: on real hardware the slave holds INT high until its INTA, which is what this models.
 */
import type { IrqLine } from "../cpu.js";
import type { PortBus, PortHandler, PortSize } from "../io-ports.js";

/** ICW1 bits (datasheet Figure 6). */
export const ICW1_IC4 = 0x01; // ICW4 needed
export const ICW1_SNGL = 0x02; // single 8259, no ICW3
export const ICW1_LTIM = 0x08; // level-triggered inputs
export const ICW1_INIT = 0x10; // a write to A0=0 with D4=1 is ICW1
/** ICW4 bits. */
export const ICW4_UPM = 0x01; // 8086/8088 mode (vector = ICW2 | IR)
export const ICW4_AEOI = 0x02; // automatic EOI on the second INTA
export const ICW4_SFNM = 0x10; // special fully nested mode
/** OCW2 command field (bits 7:5: R, SL, EOI). */
export const OCW2_NONSPECIFIC_EOI = 0x20;
export const OCW2_SPECIFIC_EOI = 0x60;
export const OCW2_ROTATE_NONSPECIFIC_EOI = 0xa0;
export const OCW2_ROTATE_AEOI_SET = 0x80;
export const OCW2_ROTATE_AEOI_CLEAR = 0x00;
export const OCW2_ROTATE_SPECIFIC_EOI = 0xe0;
export const OCW2_SET_PRIORITY = 0xc0;
/** OCW3 bits (bit 3 set and bit 4 clear mark an OCW3). */
export const OCW3_RIS = 0x01; // read ISR (else IRR) when RR is set
export const OCW3_RR = 0x02; // act on RIS
export const OCW3_POLL = 0x04;
export const OCW3_SMM = 0x20; // special mask mode value
export const OCW3_ESMM = 0x40; // act on SMM

/** The chip's snapshot: every register and mode bit, as plain data. */
export interface Pic8259State {
  irr: number;
  isr: number;
  imr: number;
  /** Input levels last seen (edge detection). */
  lines: number;
  vectorBase: number;
  /** 0 = expecting OCWs, 2 = ICW2 next, 3 = ICW3 next, 4 = ICW4 next. */
  initStep: number;
  icw1: number;
  icw3: number;
  icw4: number;
  readIsr: boolean;
  poll: boolean;
  specialMask: boolean;
  rotateOnAeoi: boolean;
  /** The IR with the highest priority; rotation moves it (0 after init). */
  highestPriority: number;
  /** Edge/level control register (1 = level-triggered input). */
  elcr: number;
}

/** One 8259A. The pair below wires two of them; tests may drive one directly. */
export class Pic8259 {
  irr = 0;
  isr = 0;
  imr = 0;
  private lines = 0;
  vectorBase = 0;
  private initStep = 0;
  private icw1 = 0;
  private icw3 = 0;
  private icw4 = 0;
  private readIsr = false;
  private poll = false;
  private specialMask = false;
  private rotateOnAeoi = false;
  private highestPriority = 0;
  /** ELCR: inputs in level mode (1 bits), as the board's PIIX programs them. */
  elcr = 0;
  /** Inputs level-sensitive by wiring (the master's cascade input), whatever ICW1/ELCR say. */
  private readonly levelInputs: number;

  /**
   * @param isMaster the master honours SFNM for its cascade input and hosts spurious IRQ7.
   * @param levelInputs bit mask of inputs that are level-sensitive by wiring (the master's
   *   cascade input), independent of ICW1.LTIM.
   */
  constructor(
    readonly isMaster: boolean,
    levelInputs = 0,
  ) {
    this.levelInputs = levelInputs;
  }

  /** Drives input IR`n` to `level`. Edge mode latches a rising edge into IRR. */
  setInput(n: number, level: boolean): void {
    const bit = 1 << n;
    const levelMode = (this.levelMask() & bit) !== 0;
    if (level) {
      if (levelMode || (this.lines & bit) === 0) this.irr |= bit;
      this.lines |= bit;
    } else {
      this.lines &= ~bit;
      if (levelMode) this.irr &= ~bit;
    }
  }

  /** The IR that would be delivered now (highest priority, unmasked, above any in service), or -1. */
  pendingIrq(): number {
    const requests = this.irr & ~this.imr & 0xff;
    if (requests === 0) return -1;
    const req = this.priorityOf(requests);
    let inService = this.isr;
    // Special mask mode: masked-off in-service levels do not inhibit lower ones (datasheet, OCW3).
    if (this.specialMask) inService &= ~this.imr;
    // Special fully nested mode: the slave's further requests pass its own in-service level.
    if (this.isMaster && (this.icw4 & ICW4_SFNM) !== 0) inService &= ~(1 << 2);
    const cur = this.priorityOf(inService);
    return req < cur ? (req + this.highestPriority) & 7 : -1;
  }

  /** INT output: a request would be delivered. */
  get intOutput(): boolean {
    return this.pendingIrq() >= 0;
  }

  /**
   * The INTA cycle for input `irq` (already chosen by `pendingIrq`): sets ISR unless AEOI, clears
   * IRR for an edge input (a level input stays requested while high).
   */
  acknowledge(irq: number): void {
    const bit = 1 << irq;
    if ((this.icw4 & ICW4_AEOI) !== 0) {
      if (this.rotateOnAeoi) this.highestPriority = (irq + 1) & 7;
    } else {
      this.isr |= bit;
    }
    if ((this.levelMask() & bit) === 0) this.irr &= ~bit;
  }

  /** Vector the chip puts on the bus for `irq` in 8086 mode: T7–T3 from ICW2, IR in bits 2–0. */
  vectorFor(irq: number): number {
    return (this.vectorBase & 0xf8) | (irq & 7);
  }

  /** A write to the A0=0 port (0x20/0xA0): ICW1, OCW2 or OCW3. */
  writeCommand(value: number): void {
    if ((value & ICW1_INIT) !== 0) {
      this.icw1 = value;
      this.initStep = 2;
      this.irr &= this.levelMask(); // the edge-sense latch is reset (QEMU: irr &= elcr)
      this.lines = 0;
      this.isr = 0;
      this.imr = 0;
      this.icw3 = 0;
      this.icw4 = 0;
      this.readIsr = false;
      this.poll = false;
      this.specialMask = false;
      this.rotateOnAeoi = false;
      this.highestPriority = 0;
      return;
    }
    if ((value & 0x08) !== 0) {
      this.writeOcw3(value);
      return;
    }
    this.writeOcw2(value);
  }

  /** A write to the A0=1 port (0x21/0xA1): ICW2–ICW4 during initialization, else OCW1 (IMR). */
  writeData(value: number): void {
    switch (this.initStep) {
      case 2:
        this.vectorBase = value & 0xf8;
        this.initStep = (this.icw1 & ICW1_SNGL) === 0 ? 3 : (this.icw1 & ICW1_IC4) !== 0 ? 4 : 0;
        return;
      case 3:
        this.icw3 = value;
        this.initStep = (this.icw1 & ICW1_IC4) !== 0 ? 4 : 0;
        return;
      case 4:
        this.icw4 = value;
        this.initStep = 0;
        return;
      default:
        this.imr = value & 0xff;
    }
  }

  /** A read of the A0=0 port: the poll word after OCW3.P, else IRR or ISR as OCW3 selected. */
  readCommand(): number {
    if (this.poll) return this.pollRead();
    return this.readIsr ? this.isr : this.irr;
  }

  /** A read of the A0=1 port: the IMR (or the poll word right after a poll command). */
  readData(): number {
    if (this.poll) return this.pollRead();
    return this.imr;
  }

  /** Clears the highest-priority ISR bit (the one a non-specific EOI ends); returns it or -1. */
  private nonSpecificEoi(): number {
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    if (inService === 0) return -1;
    const irq = (this.priorityOf(inService) + this.highestPriority) & 7;
    this.isr &= ~(1 << irq);
    return irq;
  }

  private writeOcw2(value: number): void {
    const level = value & 7;
    switch (value & 0xe0) {
      case OCW2_NONSPECIFIC_EOI:
        this.nonSpecificEoi();
        break;
      case OCW2_ROTATE_NONSPECIFIC_EOI: {
        const irq = this.nonSpecificEoi();
        if (irq >= 0) this.highestPriority = (irq + 1) & 7;
        break;
      }
      case OCW2_SPECIFIC_EOI:
        this.isr &= ~(1 << level);
        break;
      case OCW2_ROTATE_SPECIFIC_EOI:
        this.isr &= ~(1 << level);
        this.highestPriority = (level + 1) & 7;
        break;
      case OCW2_SET_PRIORITY:
        // "Set priority command": IR`level` becomes the lowest priority.
        this.highestPriority = (level + 1) & 7;
        break;
      case OCW2_ROTATE_AEOI_SET:
        this.rotateOnAeoi = true;
        break;
      case OCW2_ROTATE_AEOI_CLEAR:
        this.rotateOnAeoi = false;
        break;
      default:
        break; // 0x40: no operation
    }
  }

  private writeOcw3(value: number): void {
    if ((value & OCW3_POLL) !== 0) {
      this.poll = true;
      return;
    }
    if ((value & OCW3_RR) !== 0) this.readIsr = (value & OCW3_RIS) !== 0;
    if ((value & OCW3_ESMM) !== 0) this.specialMask = (value & OCW3_SMM) !== 0;
  }

  /** Poll mode: the read acts as an INTA; bit 7 = request present, bits 2–0 = its IR. */
  private pollRead(): number {
    this.poll = false;
    const irq = this.pendingIrq();
    if (irq < 0) return 0;
    this.acknowledge(irq);
    return 0x80 | irq;
  }

  /** Priority rank (0 = highest) of the best request in `mask`, 8 if none. */
  private priorityOf(mask: number): number {
    if ((mask & 0xff) === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.highestPriority) & 7))) === 0) p++;
    return p;
  }

  private levelMask(): number {
    return (this.icw1 & ICW1_LTIM) !== 0 ? 0xff : this.levelInputs | this.elcr;
  }

  getState(): Pic8259State {
    return {
      irr: this.irr,
      isr: this.isr,
      imr: this.imr,
      lines: this.lines,
      vectorBase: this.vectorBase,
      initStep: this.initStep,
      icw1: this.icw1,
      icw3: this.icw3,
      icw4: this.icw4,
      readIsr: this.readIsr,
      poll: this.poll,
      specialMask: this.specialMask,
      rotateOnAeoi: this.rotateOnAeoi,
      highestPriority: this.highestPriority,
      elcr: this.elcr,
    };
  }

  setState(s: Pic8259State): void {
    this.irr = s.irr;
    this.isr = s.isr;
    this.imr = s.imr;
    this.lines = s.lines;
    this.vectorBase = s.vectorBase;
    this.initStep = s.initStep;
    this.icw1 = s.icw1;
    this.icw3 = s.icw3;
    this.icw4 = s.icw4;
    this.readIsr = s.readIsr;
    this.poll = s.poll;
    this.specialMask = s.specialMask;
    this.rotateOnAeoi = s.rotateOnAeoi;
    this.highestPriority = s.highestPriority;
    this.elcr = s.elcr;
  }
}

/** Master and slave ports (IBM PC/AT). */
export const PIC_MASTER_BASE = 0x20;
export const PIC_SLAVE_BASE = 0xa0;
/** The master input the slave's INT drives. */
export const PIC_CASCADE_IRQ = 2;
/** PIIX edge/level control registers and their writable bits (QEMU hw/intc/i8259.c). */
export const ELCR_BASE = 0x4d0;
export const ELCR_MASK_MASTER = 0xf8;
export const ELCR_MASK_SLAVE = 0xde;

/** Snapshot of the pair. */
export interface PicPairState {
  master: Pic8259State;
  slave: Pic8259State;
}

/**
 * The cascaded pair as the PC wires it: ISA IRQ 0–7 on the master, 8–15 on the slave, the
 * master's INT on `intr` (the CPU's INTR pin). The CPU calls `acknowledge()` for the two INTA
 * cycles and gets the vector.
 */
export class PicPair implements PortHandler {
  readonly name = "8259A PIC pair";
  readonly master = new Pic8259(true, 1 << PIC_CASCADE_IRQ);
  readonly slave = new Pic8259(false);
  /** Interrupts acknowledged per ISA IRQ (0–15), and spurious ones, for statistics. */
  readonly delivered = new Float64Array(16);
  spurious = 0;
  private intrLevel = false;
  private readonly lines: IrqLine[] = [];

  constructor(private readonly intr: IrqLine) {
    for (let n = 0; n < 16; n++) {
      this.lines.push({ set: (level: boolean) => this.setIrq(n, level) });
    }
  }

  /** Claims 0x20–0x21, 0xA0–0xA1 and the ELCR pair 0x4D0–0x4D1. */
  attach(bus: PortBus): this {
    bus.register(PIC_MASTER_BASE, 2, this);
    bus.register(PIC_SLAVE_BASE, 2, this);
    bus.register(ELCR_BASE, 2, this);
    return this;
  }

  /** The interrupt line of ISA IRQ `n` (0–15) for a device to drive. */
  irq(n: number): IrqLine {
    const line = this.lines[n];
    if (!line) throw new RangeError(`ISA IRQ ${n} does not exist (0–15)`);
    return line;
  }

  /** Drives ISA IRQ `n` to `level`. */
  setIrq(n: number, level: boolean): void {
    if (n < 8) {
      this.master.setInput(n, level);
    } else {
      this.slave.setInput(n - 8, level);
      this.master.setInput(PIC_CASCADE_IRQ, this.slave.intOutput);
    }
    this.update();
  }

  /**
   * The CPU's interrupt acknowledge: resolves priority across the cascade, moves the request to
   * ISR and returns the 8-bit vector. With nothing to deliver it returns the spurious IR7 vector.
   */
  acknowledge(): number {
    let vector: number;
    const irq = this.master.pendingIrq();
    if (irq < 0) {
      this.spurious++;
      vector = this.master.vectorFor(7);
    } else if (irq === PIC_CASCADE_IRQ) {
      this.master.acknowledge(irq);
      const sirq = this.slave.pendingIrq();
      if (sirq < 0) {
        this.spurious++;
        vector = this.slave.vectorFor(7);
      } else {
        this.slave.acknowledge(sirq);
        this.delivered[8 + sirq]!++;
        vector = this.slave.vectorFor(sirq);
      }
    } else {
      this.master.acknowledge(irq);
      this.delivered[irq]!++;
      vector = this.master.vectorFor(irq);
    }
    this.refreshCascade();
    return vector;
  }

  read(port: number, _size: PortSize): number {
    if (port >= ELCR_BASE) return port === ELCR_BASE ? this.master.elcr : this.slave.elcr;
    const chip = port < PIC_SLAVE_BASE ? this.master : this.slave;
    const value = (port & 1) === 0 ? chip.readCommand() : chip.readData();
    // A poll read acknowledges, so the outputs may change.
    this.refreshCascade();
    return value;
  }

  write(port: number, _size: PortSize, value: number): void {
    if (port >= ELCR_BASE) {
      if (port === ELCR_BASE) this.master.elcr = value & ELCR_MASK_MASTER;
      else this.slave.elcr = value & ELCR_MASK_SLAVE;
      return;
    }
    const chip = port < PIC_SLAVE_BASE ? this.master : this.slave;
    if ((port & 1) === 0) chip.writeCommand(value & 0xff);
    else chip.writeData(value & 0xff);
    this.refreshCascade();
  }

  getState(): PicPairState {
    return { master: this.master.getState(), slave: this.slave.getState() };
  }

  setState(s: PicPairState): void {
    this.master.setState(s.master);
    this.slave.setState(s.slave);
    this.refreshCascade();
  }

  /** Re-derives the cascade input and INTR after any register change. */
  private refreshCascade(): void {
    this.master.setInput(PIC_CASCADE_IRQ, this.slave.intOutput);
    this.update();
  }

  private update(): void {
    const level = this.master.intOutput;
    if (level !== this.intrLevel) {
      this.intrLevel = level;
      this.intr.set(level);
    }
  }
}
