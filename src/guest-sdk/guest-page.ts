/**
 * A SharedPage over one page of the guest's own pseudo-physical memory, reached through the
 * runtime's checked, charged accessors (`GuestContext.mem`) — never a typed array over machine
 * memory. A granted page the guest mapped is the same thing: its pfn now aliases the granter's
 * machine page, and the accessors follow the P2M.
 */
import type { GuestMemoryAccess, SharedPage } from "../hypercalls/index.js";

export const PAGE_SIZE = 4096;

export class GuestPage implements SharedPage {
  readonly size = PAGE_SIZE;
  private readonly base: number;

  constructor(
    private readonly mem: GuestMemoryAccess,
    /** Guest frame number of the page. */
    readonly pfn: number,
  ) {
    this.base = pfn * PAGE_SIZE;
  }
  read8(offset: number): number {
    return this.mem.read8(this.base + offset);
  }
  read16(offset: number): number {
    return this.mem.read16(this.base + offset);
  }
  read32(offset: number): number {
    return this.mem.read32(this.base + offset);
  }
  write8(offset: number, value: number): void {
    this.mem.write8(this.base + offset, value);
  }
  write16(offset: number, value: number): void {
    this.mem.write16(this.base + offset, value);
  }
  write32(offset: number, value: number): void {
    this.mem.write32(this.base + offset, value);
  }
}
