/**
 * A standalone host for the x86 monitor in tests: a machine-frame allocator with ownership, a
 * P2M, and a round-robin loop over vCPUs — no hypervisor, so the full-virt layer is tested on
 * its own (the `pvkit run` path through the hypervisor is tested separately).
 */
import { readFileSync } from "node:fs";
import { vmware } from "../../../src/full-virt/index.js";
import { CostTable, PhysicalMemory, SimClock } from "../../../src/machine/index.js";

export class TestAllocator {
  readonly owners: Int32Array;
  private next = 1;
  readonly pfnOfMfn: Int32Array;
  constructor(readonly machinePages: number) {
    this.owners = new Int32Array(machinePages).fill(-1);
    this.pfnOfMfn = new Int32Array(machinePages).fill(-1);
    this.owners[0] = 0x7fff; // frame 0: the "hypervisor's"
  }
  allocate(domid: number): number {
    for (let i = 0; i < this.machinePages; i++) {
      const m = (this.next + i) % this.machinePages;
      if (this.owners[m] === -1) {
        this.owners[m] = domid;
        this.next = m + 1;
        return m;
      }
    }
    return -1;
  }
  free(mfn: number): void {
    this.owners[mfn] = -1;
    this.pfnOfMfn[mfn] = -1;
  }
  owner(mfn: number): number {
    return this.owners[mfn] ?? -1;
  }
  setPfn(mfn: number, pfn: number): void {
    this.pfnOfMfn[mfn] = pfn;
  }
}

export class TestP2m {
  readonly table: Int32Array;
  constructor(readonly nrPfns: number) {
    this.table = new Int32Array(nrPfns).fill(-1);
  }
  lookup(pfn: number): number {
    return this.table[pfn] ?? -1;
  }
  writable(): boolean {
    return true;
  }
  set(pfn: number, mfn: number): boolean {
    this.table[pfn] = mfn;
    return true;
  }
}

export interface TestDomain {
  readonly domid: number;
  readonly vcpu: vmware.X86FullVcpu;
  output: string;
  crash: string | null;
  exit: number | null;
  blocked: boolean;
  readonly counters: {
    guestCycles: number;
    monitorCycles: number;
    worldSwitches: number;
    trapsByCause: Float64Array;
  };
}

export interface TestMachine {
  readonly memory: PhysicalMemory;
  readonly clock: SimClock;
  readonly allocator: TestAllocator;
  readonly machine: vmware.X86FullMachine;
  readonly domains: TestDomain[];
  addDomain(opts?: { ramMib?: number; scan?: boolean; input?: string }): TestDomain;
  /** Runs every domain round-robin until all end or `maxCycles` pass. */
  run(maxCycles: number, slice?: number): void;
}

export function makeMachine(machineMib = 64): TestMachine {
  const memory = new PhysicalMemory(machineMib << 20);
  const clock = new SimClock();
  const allocator = new TestAllocator(memory.size >>> 12);
  const machine = new vmware.X86FullMachine({ memory, clock, costs: CostTable });
  const domains: TestDomain[] = [];
  const tm: TestMachine = {
    memory,
    clock,
    allocator,
    machine,
    domains,
    addDomain(opts = {}) {
      const domid = domains.length + 1;
      const ram = (opts.ramMib ?? 16) << 20;
      const p2m = new TestP2m((ram >>> 12) + 1024);
      const counters = {
        guestCycles: 0,
        monitorCycles: 0,
        worldSwitches: 0,
        upcalls: 0,
        trapsByCause: new Float64Array(32),
      };
      let d: TestDomain;
      const host: vmware.X86FullHost = {
        domid,
        name: `d${domid}`,
        p2m,
        allocator,
        stats: counters,
        console: (b) => {
          d.output += String.fromCharCode(b);
        },
        shutdown: (code) => {
          d.exit = code;
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
      const vcpu = new vmware.X86FullVcpu(machine, host, {
        ramBytes: ram,
        ...(opts.scan !== undefined ? { scan: opts.scan } : {}),
        ...(opts.input !== undefined ? { input: opts.input } : {}),
      });
      d = { domid, vcpu, output: "", crash: null, exit: null, blocked: false, counters };
      domains.push(d);
      return d;
    },
    run(maxCycles, slice = 200_000) {
      const end = clock.cycles + maxCycles;
      while (clock.cycles < end) {
        const live = domains.filter((d) => d.vcpu.state !== "halted");
        if (live.length === 0) return;
        let ran = false;
        for (const d of live) {
          if (d.vcpu.state === "blocked") continue;
          d.vcpu.run(slice);
          ran = true;
        }
        if (!ran) {
          if (clock.nextDeadline === Number.POSITIVE_INFINITY) return;
          clock.cycles = Math.max(clock.cycles, clock.nextDeadline);
          clock.runDue();
        }
      }
    },
  };
  return tm;
}

export function loadSample(d: TestDomain, path: string): void {
  d.vcpu.load(new Uint8Array(readFileSync(path)), path);
}
