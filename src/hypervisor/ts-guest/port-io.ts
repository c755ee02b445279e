/**
 * Port I/O of a TS guest (GuestPortIo, DESIGN.md "Guests"): the domain's own device models sit
 * on a private PortBus; every guest access goes through one of a handful of typed calls, never
 * an object per access.
 *
 * Who provides the interface decides the cost; the driver code is the same:
 *  - `trapped` (full virtualization): each call is a world switch into the monitor (`worldSwitch`,
 *    counted in the domain's worldSwitches) and each register access the monitor emulates costs
 *    `emulateDeviceRegister`, as src/full-virt charges a trapped IN/OUT or ISA-window load/store.
 *    A REP string call traps once (one instruction) and emulates every element, as the x86
 *    monitor's emulateIo walks ECX elements.
 *  - `direct` (native): each register access is a bus cycle, `deviceRegister`, as the CPUs
 *    charge IN/OUT and ISA-window accesses (src/machine/x86/cpu.ts portIn/portOut).
 * Virtual interrupts: device lines 0–15 (level, wired per domain). A delivery under `trapped`
 * costs what Disco's injectInterrupt charges (a world switch plus `emulatePrivileged` to reflect
 * it) and, in both modes, the guest's vector entry and return (`exceptionEntry` +
 * `exceptionReturn`). There is no PIC: a line is masked only by not waiting for it.
 *
 * Counters are typed arrays and plain fields, read by statistics and tests.
 */
import type { GuestFault, GuestMemoryAccess, GuestPortIo, PortWidth } from "../../hypercalls/index.js";
import { type CostName, type IrqLine, PortBus, type SimClock } from "../../machine/index.js";

/** Who provides the port interface: the monitor (trap and emulate) or the bare bus. */
export type PortIoMode = "trapped" | "direct";

/** Number of virtual interrupt lines a TS guest's devices can drive. */
export const TS_IRQ_LINES = 16;
/** Most elements one REP string call may move (a 16-bit ECX's worth, 64 Ki). */
export const MAX_STRING_ELEMENTS = 0x10000;

/** What a device set-up gets to build a domain's models. */
export interface TsDeviceHost {
  /** The domain's private port bus. */
  readonly bus: PortBus;
  /** The machine clock (device completion events). */
  readonly clock: SimClock;
  /** Interrupt line `line` (0–15) of this domain, delivered as a virtual interrupt. */
  irq(line: number): IrqLine;
  /** The domain's memory as its devices see it (bus-master DMA through the P2M). */
  readonly dma: TsDmaMemory;
}

/** Bus-master DMA view of a domain: guest-physical addresses resolved through its P2M. */
export interface TsDmaMemory {
  contains(gpa: number, length: number): boolean;
  read32(gpa: number): number;
  readBytes(gpa: number, length: number): Uint8Array;
  writeBytes(gpa: number, data: Uint8Array): void;
}

/** Options of a TS guest with emulated devices (launchTsGuest `devices`). */
export interface TsPortIoOptions {
  readonly mode: PortIoMode;
  /** Builds the domain's device models on its bus (called once, before the guest starts). */
  attach(host: TsDeviceHost): void;
  /** Unclaimed-port warnings (default: ignored). */
  readonly warn?: (message: string) => void;
}

/** The runtime's side: charging, faults, and waking the vCPU for a raised line. */
export interface PortIoHost {
  readonly clock: SimClock;
  readonly costs: Readonly<Record<CostName, number>>;
  readonly mem: GuestMemoryAccess;
  readonly dma: TsDmaMemory;
  /** Guest cycles (watchdog-checked; throws a GuestFault once the domain is dead). */
  chargeGuest(cycles: number): void;
  /** A world switch into the monitor and `cycles` of monitor work (watchdog-checked). */
  trap(cycles: number): void;
  /** Monitor cycles within the current trap. */
  chargeMonitor(cycles: number): void;
  fault(message: string): GuestFault;
  /** A line went high: wake the vCPU if it waits for it. */
  lineRaised(): void;
  /** Parks the calling chain until a line of `mask` is delivered. */
  waitIrq(mask: number): Promise<number>;
}

export class TsGuestPortIo implements GuestPortIo {
  readonly bus: PortBus;
  /** Register accesses by port (string elements included). */
  readonly accessesByPort = new Float64Array(0x10000);
  /** Interrupts delivered by line. */
  readonly interruptsByLine = new Float64Array(TS_IRQ_LINES);
  /** Calls (one per IN/OUT or REP instruction): each a trap under `trapped`. */
  calls = 0;
  /** Register accesses (string elements counted one each). */
  accesses = 0;
  interrupts = 0;
  /** Lines asserted now, bit n = line n. */
  asserted = 0;
  private readonly lines: IrqLine[] = [];
  private readonly perAccess: number;

  constructor(
    private readonly host: PortIoHost,
    readonly mode: PortIoMode,
    warn: (message: string) => void = () => {},
  ) {
    this.bus = new PortBus(warn);
    this.perAccess = mode === "trapped" ? host.costs.emulateDeviceRegister : host.costs.deviceRegister;
    for (let n = 0; n < TS_IRQ_LINES; n++) {
      const bit = 1 << n;
      this.lines.push({
        set: (level: boolean) => {
          const was = this.asserted;
          this.asserted = level ? was | bit : was & ~bit;
          if (level && (was & bit) === 0) this.host.lineRaised();
        },
      });
    }
  }

  /** Line `line` for a device model (the same object every time). */
  irq(line: number): IrqLine {
    const l = this.lines[line];
    if (!l) throw new RangeError(`interrupt line ${line} is not 0–${TS_IRQ_LINES - 1}`);
    return l;
  }

  read(port: number, size: PortWidth): number {
    this.enter(port, size);
    this.access(port);
    return this.bus.read(port, size);
  }

  write(port: number, size: PortWidth, value: number): void {
    this.enter(port, size);
    this.access(port);
    const v = typeof value === "number" ? value : 0;
    this.bus.write(port, size, size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff));
  }

  readString(port: number, size: PortWidth, gpa: number, count: number): void {
    this.enter(port, size);
    this.checkString(size, gpa, count, "readString");
    const mem = this.host.mem;
    for (let i = 0; i < count; i++) {
      this.access(port);
      const v = this.bus.read(port, size);
      const a = gpa + i * size;
      if (size === 2) mem.write16(a, v);
      else if (size === 4) mem.write32(a, v);
      else mem.write8(a, v);
    }
  }

  writeString(port: number, size: PortWidth, gpa: number, count: number): void {
    this.enter(port, size);
    this.checkString(size, gpa, count, "writeString");
    const mem = this.host.mem;
    for (let i = 0; i < count; i++) {
      const a = gpa + i * size;
      const v = size === 2 ? mem.read16(a) : size === 4 ? mem.read32(a) : mem.read8(a);
      this.access(port);
      this.bus.write(port, size, v);
    }
  }

  waitForInterrupt(mask: number): Promise<number> {
    if (!Number.isInteger(mask) || mask <= 0 || mask >= 1 << TS_IRQ_LINES) {
      return Promise.reject(this.host.fault(`waitForInterrupt(${mask}): mask must name lines 0–15`));
    }
    return this.host.waitIrq(mask);
  }

  /**
   * Delivers the lines of `mask` asserted now as one virtual interrupt (called by the runtime at
   * a yield point): charges the injection, counts it, returns the lines.
   */
  deliver(mask: number): number {
    const lines = this.asserted & mask;
    const c = this.host.costs;
    if (this.mode === "trapped") this.host.trap(c.emulatePrivileged);
    this.host.chargeGuest(c.exceptionEntry + c.exceptionReturn);
    this.interrupts++;
    for (let n = 0; n < TS_IRQ_LINES; n++) if (lines & (1 << n)) this.interruptsByLine[n]!++;
    return lines;
  }

  /** One IN/OUT/INS/OUTS instruction: validated, and a world switch when trapped. */
  private enter(port: number, size: PortWidth): void {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff)
      throw this.host.fault(`port access to ${String(port)}: ports are 0–0xFFFF`);
    if (size !== 1 && size !== 2 && size !== 4)
      throw this.host.fault(`port access of ${String(size)} bytes: width must be 1, 2 or 4`);
    this.calls++;
    if (this.mode === "trapped") this.host.trap(0);
  }

  /** One register access: charged, counted; device events due by now fire first. */
  private access(port: number): void {
    if (this.mode === "trapped") this.host.chargeMonitor(this.perAccess);
    else this.host.chargeGuest(this.perAccess);
    this.accesses++;
    this.accessesByPort[port]!++;
    const clock = this.host.clock;
    if (clock.cycles >= clock.nextDeadline) clock.runDue();
  }

  private checkString(size: number, gpa: number, count: number, what: string): void {
    if (!Number.isInteger(count) || count < 0 || count > MAX_STRING_ELEMENTS)
      throw this.host.fault(`${what}: count ${String(count)} is not 0–${MAX_STRING_ELEMENTS}`);
    if (!Number.isInteger(gpa) || gpa < 0 || gpa + count * size > this.host.mem.size)
      throw this.host.fault(
        `${what}: ${count} × ${size} bytes at guest-physical ${String(gpa)} outside its memory`,
      );
  }
}
