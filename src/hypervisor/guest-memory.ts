/**
 * The monitor's access to a guest's memory on the guest's behalf: translate a guest address
 * (through the domain's translator or P2M), check the domain's rights on the machine frame, and
 * copy. Hypercall handlers copy each argument structure in once with `copyIn` and never re-read
 * guest memory for it (double-fetch defence); a failed translation is -EFAULT, not a throw.
 */
import { INVALID_MFN } from "../full-virt/index.js";
import { PAGE_SHIFT, PAGE_SIZE } from "../machine/index.js";
import type { Domain } from "./domain.js";
import type { MachineMemory } from "./machine-memory.js";

export class GuestMemoryCopier {
  constructor(private readonly mm: MachineMemory) {}

  /** Machine address of guest address `addr` for `domain`, or -1 if unmapped or not permitted. */
  translate(domain: Domain, addr: number, write: boolean): number {
    if (!Number.isInteger(addr) || addr < 0 || addr > 0xffffffff) return -1;
    let maddr: number;
    if (domain.addressTranslator) {
      maddr = domain.addressTranslator(addr, write);
      if (maddr < 0) return -1;
    } else {
      const pfn = Math.floor(addr / PAGE_SIZE);
      const mfn = domain.p2m.lookup(pfn);
      if (mfn === INVALID_MFN) return -1;
      if (write && !domain.p2m.writable(pfn)) return -1;
      maddr = mfn * PAGE_SIZE + (addr & (PAGE_SIZE - 1));
    }
    if (!this.mm.canAccess(domain.domid, maddr >>> PAGE_SHIFT, write)) return -1;
    return maddr;
  }

  /** Copies `length` bytes from the guest into a fresh buffer, or null on a fault. */
  copyIn(domain: Domain, addr: number, length: number): Uint8Array | null {
    if (!Number.isInteger(length) || length < 0 || length > 16 * PAGE_SIZE) return null;
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const maddr = this.translate(domain, addr + done, false);
      if (maddr < 0) return null;
      const n = Math.min(length - done, PAGE_SIZE - (maddr & (PAGE_SIZE - 1)));
      out.set(this.mm.memory.u8.subarray(maddr, maddr + n), done);
      done += n;
    }
    return out;
  }

  /** Copies `data` into the guest; false (nothing partial guaranteed) on a fault. */
  copyOut(domain: Domain, addr: number, data: Uint8Array): boolean {
    // Translate every page first so a fault leaves guest memory untouched.
    const spans: [number, number, number][] = [];
    let done = 0;
    while (done < data.length) {
      const maddr = this.translate(domain, addr + done, true);
      if (maddr < 0) return false;
      const n = Math.min(data.length - done, PAGE_SIZE - (maddr & (PAGE_SIZE - 1)));
      spans.push([maddr, done, n]);
      done += n;
    }
    for (const [maddr, from, n] of spans) this.mm.memory.writeBytes(maddr, data.subarray(from, from + n));
    return true;
  }

  /** Copies a structure in and returns a DataView over the private copy, or null on a fault. */
  viewIn(domain: Domain, addr: number, size: number): DataView | null {
    const bytes = this.copyIn(domain, addr, size);
    return bytes ? new DataView(bytes.buffer) : null;
  }
}
