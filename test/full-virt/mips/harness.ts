/**
 * Test helpers: Disco vCPUs on a bare DiscoMachine with a minimal host (a P2M array, a bump
 * allocator with ownership, counters), without the hypervisor — plus raw guest programs built
 * with the decode-table assembler of test/machine/mips.
 */
import { disco } from "../../../src/full-virt/index.js";
import { PhysicalMemory, SimClock } from "../../../src/machine/index.js";
import { type Asm, newAsm } from "../../machine/mips/asm.js";

export { type Asm, newAsm };

/** Frame owners for the tests' allocator (also the isolation check). */
export class TestAllocator implements disco.PmapAllocator {
  readonly owners: Int32Array;
  private next = 16;
  constructor(readonly machinePages: number) {
    this.owners = new Int32Array(machinePages).fill(-1);
  }
  allocate(domid: number): number {
    if (this.next >= this.machinePages) return -1;
    const mfn = this.next++;
    this.owners[mfn] = domid;
    return mfn;
  }
  free(mfn: number): void {
    this.owners[mfn] = -1;
  }
  owner(mfn: number): number {
    return this.owners[mfn] ?? -1;
  }
}

export class TestP2m implements disco.PmapBacking {
  readonly mfns: Int32Array;
  constructor(readonly nrPfns: number) {
    this.mfns = new Int32Array(nrPfns).fill(-1);
  }
  lookup(pfn: number): number {
    return this.mfns[pfn] ?? -1;
  }
  writable(): boolean {
    return true;
  }
  set(pfn: number, mfn: number): boolean {
    this.mfns[pfn] = mfn;
    return true;
  }
}

export interface TestDomain {
  readonly vcpu: disco.DiscoVcpu;
  readonly output: () => string;
  exitValue: number | null;
  crash: string | null;
  blocked: boolean;
}

export interface TestBed {
  readonly machine: disco.DiscoMachine;
  readonly memory: PhysicalMemory;
  readonly allocator: TestAllocator;
  domain(name: string, ramPages?: number): TestDomain;
  /** Round-robin over the domains until all halted or `cycles` spent. */
  run(cycles?: number, slice?: number): void;
}

export function testBed(machineMib = 16): TestBed {
  const memory = new PhysicalMemory(machineMib << 20);
  const clock = new SimClock();
  const machine = new disco.DiscoMachine({ memory, clock });
  const allocator = new TestAllocator(memory.pages);
  const domains: TestDomain[] = [];
  return {
    machine,
    memory,
    allocator,
    domain(name, ramPages = 1024) {
      let out = "";
      const d: TestDomain = {
        vcpu: null as unknown as disco.DiscoVcpu,
        output: () => out,
        exitValue: null,
        crash: null,
        blocked: false,
      };
      const host: disco.DiscoHost = {
        domid: domains.length + 1,
        name,
        p2m: new TestP2m(ramPages),
        allocator,
        stats: {
          guestCycles: 0,
          monitorCycles: 0,
          worldSwitches: 0,
          upcalls: 0,
          trapsByCause: new Float64Array(64),
        },
        console: (b) => {
          out += String.fromCharCode(b);
        },
        shutdown: (code) => {
          d.exitValue = code;
        },
        crash: (diag) => {
          d.crash = diag;
        },
        block: () => {
          d.blocked = true;
        },
        wake: () => {
          d.blocked = false;
        },
      };
      (d as { vcpu: disco.DiscoVcpu }).vcpu = new disco.DiscoVcpu(machine, host);
      domains.push(d);
      return d;
    },
    run(cycles = 5_000_000, slice = 100_000) {
      const end = clock.cycles + cycles;
      while (clock.cycles < end) {
        let any = false;
        for (const d of domains) {
          if (d.vcpu.state === "halted") continue;
          any = true;
          if (d.vcpu.state === "blocked") continue;
          d.vcpu.run(slice);
        }
        if (!any) return;
        if (domains.every((d) => d.vcpu.state !== "running")) {
          if (!clock.skipToNextDeadline()) return;
        }
      }
    },
  };
}

/** Loads assembled code at its address (kseg0 or ksseg → guest-physical by masking / −0xC0000000). */
export function loadAsm(v: disco.DiscoVcpu, a: Asm): void {
  const base = a.base >>> 0;
  const pa = base >= 0xc0000000 ? base - 0xc0000000 : base & 0x1fffffff;
  v.writePhysical(pa, a.bytes());
}

/** Reads a guest-physical word (through the pmap). */
export function readPhys(v: disco.DiscoVcpu, pa: number): number {
  const mfn = v.pmap.lookup(pa >>> 12);
  if (mfn < 0) return 0;
  return v.machine.memory.u32[(mfn * 4096 + (pa & 4095)) >>> 2]! >>> 0;
}
