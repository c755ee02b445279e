/**
 * What a TypeScript guest gets from the hypervisor: the minimal, stable contract between the
 * TS-guest runtime (src/hypervisor/ts-guest) and the guest SDK (src/guest-sdk).
 *
 * TS guests are auto-translated: the addresses they use (hypercall pointer arguments, the
 * start_info and shared_info addresses) are guest-physical (pfn << 12 | offset) and the
 * hypervisor translates them through the domain's P2M. Memory is reachable only through the
 * `mem` accessors, which check ownership and charge each access; a bad access crashes the domain
 * and throws a GuestFault into the guest.
 */
import type { AbiLayouts } from "./layouts.js";

/** Checked, charged access to the guest's own pseudo-physical memory (little endian). */
export interface GuestMemoryAccess {
  /** Bytes of pseudo-physical memory (nr_pages × 4096). */
  readonly size: number;
  read8(gpa: number): number;
  read16(gpa: number): number;
  read32(gpa: number): number;
  write8(gpa: number, value: number): void;
  write16(gpa: number, value: number): void;
  write32(gpa: number, value: number): void;
  /** A copy of `length` bytes (never a view of machine memory). */
  readBytes(gpa: number, length: number): Uint8Array;
  writeBytes(gpa: number, data: Uint8Array): void;
}

/** Width of one I/O port access in bytes. */
export type PortWidth = 1 | 2 | 4;

/**
 * Port I/O for a TS guest's emulated-device drivers (DESIGN.md "Guests": drivers reach device
 * registers only through a trapped I/O port interface). Who provides it decides the cost, never
 * the driver: under full virtualization each access is a world switch into the monitor, which
 * emulates the register on the domain's own device model (`worldSwitch` +
 * `emulateDeviceRegister`); natively it is a bus access (`deviceRegister`).
 *
 * Ports are 0..0xFFFF; a bad port, width, count or guest-physical range crashes the domain and
 * throws a GuestFault, as a bad memory access does. The calls are synchronous (device events due
 * by then, such as a command completing, have fired) except `waitForInterrupt`, a yield point.
 */
export interface GuestPortIo {
  /** IN: reads `size` bytes from `port`. */
  read(port: number, size: PortWidth): number;
  /** OUT: writes the low `size` bytes of `value` to `port`. */
  write(port: number, size: PortWidth, value: number): void;
  /**
   * REP INS: `count` reads of `size` bytes from `port`, stored from guest-physical `gpa` upwards
   * (one trap for the instruction, one emulated register access per element).
   */
  readString(port: number, size: PortWidth, gpa: number, count: number): void;
  /** REP OUTS: `count` writes of `size` bytes to `port`, loaded from guest-physical `gpa` upwards. */
  writeString(port: number, size: PortWidth, gpa: number, count: number): void;
  /**
   * Waits for a virtual interrupt on one of the lines in `mask` (bit n = line n, level
   * triggered). Resolves with the asserted lines of `mask` when it is delivered; the driver
   * clears the cause at the device. A yield point.
   */
  waitForInterrupt(mask: number): Promise<number>;
}

/** An upcall handler: called at a yield point when evtchn_upcall_pending is set and unmasked. */
export type UpcallHandler = () => void;

/** The runtime interface a TS guest (and the SDK built on it) uses. */
export interface GuestContext {
  readonly domid: number;
  readonly arch: "mips" | "x86";
  /** Layouts of start_info, shared_info and the hypercall argument structures for this guest. */
  readonly layouts: AbiLayouts;
  /** Pages of pseudo-physical memory. */
  readonly nrPages: number;
  /** Guest-physical address of the start_info page (also the guest's first argument register). */
  readonly startInfoAddress: number;
  /** Guest-physical address of the shared_info page. */
  readonly sharedInfoAddress: number;
  readonly mem: GuestMemoryAccess;
  /** Charges `cycles` of modelled computation to this domain (watchdog-checked). */
  charge(cycles: number): void;
  /** Simulated time: cycles since power-on of the machine. */
  now(): number;
  /**
   * Issues hypercall `nr` with up to five 32-bit arguments, through the same dispatcher,
   * validation and costs as a trapping guest. A yield point: other domains may run before it
   * resolves. Resolves to the raw result (≥ 0 success, negative Xen errno).
   */
  hypercall(nr: number, a1?: number, a2?: number, a3?: number, a4?: number, a5?: number): Promise<number>;
  /**
   * Installs the event upcall. The runtime calls it at a yield point with
   * vcpu_info.evtchn_upcall_mask set, and clears the mask when it returns (as Xen's
   * event-callback entry and the guest's iret do).
   */
  setUpcallHandler(handler: UpcallHandler | null): void;
  /**
   * Allocates a free page of the guest's pseudo-physical space for the guest's own use (rings,
   * grant frames, buffers); returns its pfn. Pages 0–3 are start_info, shared_info, the store
   * and console rings; pages from 4 are handed out in order. Not a hypercall (pure bookkeeping).
   */
  allocPage(): number;
  /**
   * Port I/O to the domain's emulated devices, or null when it has none (a PV-only domain).
   * See GuestPortIo.
   */
  readonly io: GuestPortIo | null;
}

/** The entry point of a TS guest: run as the domain's only vCPU; return to power off. */
export interface TsGuest {
  /** Domain name shown in console prefixes and statistics. */
  readonly name?: string;
  main(ctx: GuestContext): Promise<void>;
}
