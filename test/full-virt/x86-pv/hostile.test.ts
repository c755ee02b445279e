/**
 * Hostile x86 PV hypercall arguments (fast-check): mmu_update, update_va_mapping, mmuext_op and
 * set_trap_table with frames of the domain, of another PV domain, of the monitor and of nobody,
 * random flags, commands and pointers — issued through the hypervisor's dispatcher exactly as
 * `int $0x82` issues them. After every batch:
 *  - no handler fault (no host exception) and every result is 0 or a negative Xen errno;
 *  - every present entry of every validated page table maps a frame of the domain's own memory
 *    (never the other domain's, never the monitor's), no validated table is mapped writable by
 *    any validated L1, every validated L2 keeps the monitor's hole slot, the base pointer is a
 *    validated L2;
 *  - the other domain's memory is unchanged, byte for byte;
 *  - a domain that received only errors then still runs its test guest to the expected end.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { vmware } from "../../../src/full-virt/index.js";
import { Errno, Hypercall, MmuextOp } from "../../../src/hypercalls/index.js";
import { createX86PvDomain, Hypervisor, registerX86Pv } from "../../../src/hypervisor/index.js";
import { CostTable, PhysicalMemory } from "../../../src/machine/index.js";

const TEST = "samples/guests/x86/pv-kernel/test/pv-test.elf";
const bytes = new Uint8Array(readFileSync(TEST));
const { PageType } = vmware.pv;
const HOLE_SLOT = vmware.pv.HOLE_SLOT;

function setup() {
  const hv = new Hypervisor({ memory: new PhysicalMemory(12 << 20), costs: CostTable });
  const machine = new vmware.X86FullMachine({ memory: hv.memory, clock: hv.clock, costs: hv.costs });
  const vcpus = new Map<number, vmware.pv.X86PvVcpu>();
  registerX86Pv(hv, vcpus);
  const a = createX86PvDomain(hv, machine, { name: "a", file: TEST, bytes, pv: true }, 4);
  const b = createX86PvDomain(hv, machine, { name: "b", file: TEST, bytes, pv: true }, 4);
  vcpus.set(a.domain.domid, a.vcpu);
  vcpus.set(b.domain.domid, b.vcpu);
  machine.switchTo(a.vcpu);
  return { hv, machine, a, b };
}

type Setup = ReturnType<typeof setup>;

/** Frames worth naming: a's tables and data, b's frames, monitor frames, frame 0, beyond memory. */
function framePool(s: Setup): number[] {
  const { a, b } = s;
  const boot = a.vcpu.boot!;
  const ptPfn = (boot.ptBase - 0xc0000000) >>> 12;
  const own = [0, 1, 5, 20, ptPfn, ptPfn + 1, ptPfn + 3, 100, 1000, 1023].map((p) => a.domain.p2m.lookup(p));
  const other = [0, 1, ptPfn, ptPfn + 1, 50].map((p) => b.domain.p2m.lookup(p));
  const monitor: number[] = [];
  for (let m = 0; m < s.hv.machineMemory.machinePages && monitor.length < 3; m++) {
    if (s.hv.machineMemory.owner(m) === a.domain.domid && !a.vcpu.types.owns(m)) monitor.push(m);
  }
  return [...own, ...other, ...monitor, 0, 0xfffff, s.hv.machineMemory.machinePages];
}

/** Scratch page in a's initial mapping where the requests are written (the guest's buffer). */
const SCRATCH_PFN = 900;
const SCRATCH_VA = 0xc0000000 + SCRATCH_PFN * 4096;

function writeGuest(s: Setup, va: number, data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) {
    const ma = s.a.vcpu.translate(va + i, true);
    if (ma < 0) throw new Error("scratch not mapped");
    s.hv.memory.write8(ma, data[i]!);
  }
}

function call(s: Setup, nr: number, args: number[]): number {
  const regs = new Uint32Array(5);
  args.forEach((v, i) => {
    regs[i] = v >>> 0;
  });
  return s.hv.hypercall(s.a.domain, nr, regs);
}

/** The safety invariants of direct paging for domain `d` (see the file comment). */
function checkInvariants(s: Setup, v: vmware.pv.X86PvVcpu): void {
  const t = v.types;
  const mem = s.hv.memory;
  expect(t.isTable(v.baseptr, PageType.l2)).toBe(true);
  for (let m = 0; m < t.type.length; m++) {
    if (t.count[m]! <= 0) continue;
    const type = t.type[m]!;
    if (type === PageType.l1) {
      for (let i = 0; i < 1024; i++) {
        const e = mem.read32(m * 4096 + i * 4);
        if ((e & 1) === 0) continue;
        const target = e >>> 12;
        expect(t.owns(target), `L1 ${m}[${i}] maps frame ${target}`).toBe(true);
        if (e & 2) {
          const tt = t.type[target]!;
          const table = (tt === PageType.l1 || tt === PageType.l2) && t.count[target]! > 0;
          expect(table, `L1 ${m}[${i}] maps table ${target} writable`).toBe(false);
        }
      }
    } else if (type === PageType.l2) {
      for (let i = 0; i < HOLE_SLOT; i++) {
        const e = mem.read32(m * 4096 + i * 4);
        if ((e & 1) === 0) continue;
        expect(e & 0x80).toBe(0);
        expect(t.isTable(e >>> 12, PageType.l1), `L2 ${m}[${i}] → ${e >>> 12}`).toBe(true);
      }
      expect(mem.read32(m * 4096 + HOLE_SLOT * 4) >>> 12).not.toBe(0);
    }
  }
}

function snapshot(s: Setup, d: Setup["b"]["domain"]): Uint8Array {
  const out = new Uint8Array(d.p2m.nrPfns * 4096);
  for (let p = 0; p < d.p2m.nrPfns; p++) {
    const m = d.p2m.lookup(p);
    if (m >= 0) out.set(s.hv.memory.u8.subarray(m * 4096, m * 4096 + 4096), p * 4096);
  }
  return out;
}

const isResult = (r: number) => r === 0 || (r < 0 && r >= -4095) || r > 0;

describe("x86 PV: hostile MMU and trap-table hypercalls", () => {
  it("never breaks isolation or the page-type invariants, never faults the monitor", () => {
    // Frame numbers are the same in every fresh set-up (deterministic allocation).
    const pool = framePool(setup());
    const frame = fc.oneof(fc.constantFrom(...pool), fc.integer({ min: 0, max: 0x100000 }));
    const flags = fc.integer({ min: 0, max: 0xfff });
    const va = fc.oneof(
      fc.integer({ min: 0xc0000000, max: 0xc0800000 }).map((x) => x & ~0xfff),
      fc.constantFrom(0, 0x40000000, 0xffc00000, 0xfff00000, 0xffbff000, SCRATCH_VA),
      fc.integer({ min: 0, max: 0xffffffff }),
    );
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("mmu" as const),
        reqs: fc.array(
          fc.record({
            frame,
            index: fc.integer({ min: 0, max: 1023 }),
            cmd: fc.integer({ min: 0, max: 3 }),
            target: frame,
            flags,
            hi: fc.constantFrom(0, 0, 0, 1),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        dom: fc.constantFrom(0x7ff0, 0x7ff0, 0, 1, 0x7ff2),
      }),
      fc.record({
        kind: fc.constant("va" as const),
        va,
        target: frame,
        flags,
        uvmf: fc.integer({ min: 0, max: 7 }),
      }),
      fc.record({
        kind: fc.constant("ext" as const),
        cmd: fc.oneof(
          fc.constantFrom(
            MmuextOp.pin_l1_table,
            MmuextOp.pin_l2_table,
            MmuextOp.unpin_table,
            MmuextOp.new_baseptr,
            MmuextOp.invlpg_local,
          ),
          fc.integer({ min: 0, max: 40 }),
        ),
        arg1: fc.oneof(frame, va),
      }),
      fc.record({
        kind: fc.constant("traps" as const),
        raw: fc.uint8Array({ minLength: 8, maxLength: 40 }),
        ptr: fc.oneof(fc.constant(SCRATCH_VA), va),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 8 }), (ops) => {
        const s = setup();
        const before = snapshot(s, s.b.domain);
        for (const o of ops) {
          let r: number;
          if (o.kind === "mmu") {
            const buf = new DataView(new ArrayBuffer(o.reqs.length * 16));
            o.reqs.forEach((q, i) => {
              buf.setUint32(i * 16, (q.frame * 4096 + q.index * 4 + q.cmd) >>> 0, true);
              buf.setUint32(i * 16 + 4, q.hi, true);
              buf.setUint32(i * 16 + 8, (q.target * 4096 + q.flags) >>> 0, true);
            });
            writeGuest(s, SCRATCH_VA, new Uint8Array(buf.buffer));
            r = call(s, Hypercall.mmu_update, [SCRATCH_VA, o.reqs.length, SCRATCH_VA + 2048, o.dom]);
          } else if (o.kind === "va") {
            r = call(s, Hypercall.update_va_mapping, [o.va, (o.target * 4096 + o.flags) >>> 0, o.uvmf]);
          } else if (o.kind === "ext") {
            const buf = new DataView(new ArrayBuffer(12));
            buf.setUint32(0, o.cmd, true);
            buf.setUint32(4, o.arg1 >>> 0, true);
            writeGuest(s, SCRATCH_VA, new Uint8Array(buf.buffer));
            r = call(s, Hypercall.mmuext_op, [SCRATCH_VA, 1, 0, 0x7ff0]);
          } else {
            writeGuest(s, SCRATCH_VA, o.raw);
            r = call(s, Hypercall.set_trap_table, [o.ptr]);
          }
          expect(isResult(r)).toBe(true);
          expect(s.hv.dispatcher.handlerFaults).toBe(0);
          // The scratch page itself must stay mapped for the next request (a test-harness need):
          // the property restores it if an op unmapped it.
          if (s.a.vcpu.translate(SCRATCH_VA, true) < 0)
            call(s, Hypercall.update_va_mapping, [
              SCRATCH_VA,
              (s.a.domain.p2m.lookup(SCRATCH_PFN) * 4096) | 3,
              2,
            ]);
          if (s.a.vcpu.translate(SCRATCH_VA, true) < 0) break; // its L1 itself is gone: stop here
        }
        checkInvariants(s, s.a.vcpu);
        checkInvariants(s, s.b.vcpu);
        expect(s.a.domain.alive).toBe(true);
        expect(Buffer.compare(snapshot(s, s.b.domain), before)).toBe(0);
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it("the pages the hypervisor writes (start_info, shared_info, rings) never become page tables", () => {
    const s = setup();
    const pin = (mfn: number) => {
      writeGuest(s, SCRATCH_VA, new Uint8Array(new Uint32Array([MmuextOp.pin_l1_table, mfn, 0]).buffer));
      return call(s, Hypercall.mmuext_op, [SCRATCH_VA, 1, 0, 0x7ff0]);
    };
    for (const pfn of [0, 1, 2, 3, 600]) {
      const mfn = s.a.domain.p2m.lookup(pfn);
      // Drop the writable mapping first, as a guest making a page table would.
      expect(call(s, Hypercall.update_va_mapping, [0xc0000000 + pfn * 4096, mfn * 4096 + 1, 2])).toBe(0);
      expect(pin(mfn), `pfn ${pfn}`).toBe(pfn === 600 ? 0 : Errno.EINVAL);
    }
  });

  it("requests naming the other domain's frames fail with -EPERM and change nothing", () => {
    const s = setup();
    const before = snapshot(s, s.b.domain);
    const bl2 = s.b.vcpu.baseptr;
    const bData = s.b.domain.p2m.lookup(100);
    expect(call(s, Hypercall.update_va_mapping, [SCRATCH_VA, bData * 4096 + 3, 2])).toBe(Errno.EPERM);
    expect(call(s, Hypercall.update_va_mapping, [SCRATCH_VA, bData * 4096 + 1, 2])).toBe(Errno.EPERM);
    writeGuest(
      s,
      SCRATCH_VA,
      new Uint8Array(new Uint32Array([bl2 * 4096 + 0x300 * 4, 0, bData * 4096 + 3, 0]).buffer),
    );
    expect(call(s, Hypercall.mmu_update, [SCRATCH_VA, 1, 0, 0x7ff0])).toBe(Errno.EPERM);
    for (const cmd of [
      MmuextOp.pin_l1_table,
      MmuextOp.pin_l2_table,
      MmuextOp.unpin_table,
      MmuextOp.new_baseptr,
    ]) {
      writeGuest(s, SCRATCH_VA, new Uint8Array(new Uint32Array([cmd, bl2, 0]).buffer));
      expect(call(s, Hypercall.mmuext_op, [SCRATCH_VA, 1, 0, 0x7ff0])).toBe(Errno.EPERM);
    }
    expect(Buffer.compare(snapshot(s, s.b.domain), before)).toBe(0);
    expect(s.b.vcpu.types.isTable(bl2, PageType.l2)).toBe(true);
  });
});
