/**
 * A TS guest's view of its pseudo-physical memory: every access is translated through the
 * domain's P2M, checked by the isolation oracle when installed, and charged one instruction.
 * Never a typed array or DataView over machine memory handed to the guest.
 */

import { INVALID_MFN } from "../../full-virt/index.js";
import type { GuestFault, GuestMemoryAccess } from "../../hypercalls/index.js";
import { PAGE_SHIFT, PAGE_SIZE, type PhysicalMemory } from "../../machine/index.js";
import type { Domain } from "../domain.js";

export interface AccessorHost {
  readonly memory: PhysicalMemory;
  /** Charges guest cycles (watchdog-checked; throws GuestFault once the domain is dead). */
  charge(cycles: number): void;
  /** Crashes the domain and returns the GuestFault to throw into the guest. */
  fault(message: string): GuestFault;
  /** The machine memory's rights check for this domain. */
  canAccess(mfn: number, write: boolean): boolean;
}

export class TsGuestMemory implements GuestMemoryAccess {
  readonly size: number;

  constructor(
    private readonly domain: Domain,
    private readonly host: AccessorHost,
    /** Cycles charged per access (one load/store instruction). */
    private readonly accessCost = 1,
  ) {
    this.size = domain.nrPages * PAGE_SIZE;
  }

  /** Machine address for `size` bytes at `gpa` (within one page), or a GuestFault. */
  private maddr(gpa: number, size: number, write: boolean): number {
    this.host.charge(this.accessCost);
    if (!Number.isInteger(gpa) || gpa < 0 || gpa + size > this.size) {
      throw this.host.fault(
        `${write ? "write" : "read"} of ${size} bytes at guest-physical 0x${gpa.toString(16)} outside its memory`,
      );
    }
    if ((gpa & (size - 1)) !== 0)
      throw this.host.fault(`unaligned ${size}-byte access at 0x${gpa.toString(16)}`);
    const pfn = gpa >>> PAGE_SHIFT;
    const mfn = this.domain.p2m.lookup(pfn);
    if (mfn === INVALID_MFN) throw this.host.fault(`access to unpopulated pfn ${pfn}`);
    if (write && !this.domain.p2m.writable(pfn)) throw this.host.fault(`write to read-only pfn ${pfn}`);
    // The P2M is the guest's map; the rights table is the truth. They differ only after a bug or
    // when a granter died under a mapping (its frames were freed): refuse rather than alias.
    if (!this.host.canAccess(mfn, write))
      throw this.host.fault(`access to frame of pfn ${pfn} it may no longer use`);
    const ma = mfn * PAGE_SIZE + (gpa & (PAGE_SIZE - 1));
    this.host.memory.oracle?.(ma, size, write);
    return ma;
  }

  read8(gpa: number): number {
    return this.host.memory.u8[this.maddr(gpa, 1, false)]!;
  }
  read16(gpa: number): number {
    return this.host.memory.u16[this.maddr(gpa, 2, false) >>> 1]!;
  }
  read32(gpa: number): number {
    return this.host.memory.u32[this.maddr(gpa, 4, false) >>> 2]!;
  }
  write8(gpa: number, value: number): void {
    this.host.memory.write8(this.maddr(gpa, 1, true), value & 0xff);
  }
  write16(gpa: number, value: number): void {
    this.host.memory.write16(this.maddr(gpa, 2, true), value & 0xffff);
  }
  write32(gpa: number, value: number): void {
    this.host.memory.write32(this.maddr(gpa, 4, true), value >>> 0);
  }

  readBytes(gpa: number, length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0 || gpa + length > this.size) {
      throw this.host.fault(`read of ${length} bytes at 0x${gpa.toString(16)} outside its memory`);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = Math.min(length - done, PAGE_SIZE - ((gpa + done) & (PAGE_SIZE - 1)));
      const ma = this.maddr(gpa + done, 1, false);
      this.host.memory.oracle?.(ma, n, false);
      out.set(this.host.memory.u8.subarray(ma, ma + n), done);
      this.host.charge(Math.ceil(n / 8)); // memcpy at 8 bytes per cycle (CostTable.pageCopy)
      done += n;
    }
    return out;
  }

  writeBytes(gpa: number, data: Uint8Array): void {
    if (gpa + data.length > this.size || !Number.isInteger(gpa) || gpa < 0) {
      throw this.host.fault(`write of ${data.length} bytes at 0x${gpa.toString(16)} outside its memory`);
    }
    let done = 0;
    while (done < data.length) {
      const n = Math.min(data.length - done, PAGE_SIZE - ((gpa + done) & (PAGE_SIZE - 1)));
      const ma = this.maddr(gpa + done, 1, true);
      this.host.memory.oracle?.(ma, n, true);
      this.host.memory.writeBytes(ma, data.subarray(done, done + n));
      this.host.charge(Math.ceil(n / 8));
      done += n;
    }
  }
}
