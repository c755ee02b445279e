/** Test helper: reads and writes a domain's pfn through its P2M (as the guest sees it). */
import type { Domain } from "../../../src/hypervisor/domain.js";
import type { Hypervisor } from "../../../src/hypervisor/hypervisor.js";

export class PageAccess {
  constructor(
    private readonly hv: Hypervisor,
    private readonly d: Domain,
    private readonly pfn: number,
  ) {}
  private base(): number {
    return this.d.p2m.lookup(this.pfn) * 4096;
  }
  read16(off: number): number {
    return this.hv.memory.read16(this.base() + off);
  }
  read32(off: number): number {
    return this.hv.memory.read32(this.base() + off);
  }
  write16(off: number, v: number): void {
    this.hv.memory.write16(this.base() + off, v);
  }
  write32(off: number, v: number): void {
    this.hv.memory.write32(this.base() + off, v);
  }
}
