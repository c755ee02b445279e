import { describe, expect, it } from "vitest";
import { Errno, Hypercall, VcpuOp, Virq, XenMem } from "../../src/hypercalls/index.js";
import { Hypervisor, launchTsGuest } from "../../src/hypervisor/index.js";
import { put, TestGuestOps } from "./guest-helpers.js";

describe("memory_op reservations (balloon)", () => {
  it("populate_physmap is bounded by the domain's page limit; decrease_reservation frees exactly", async () => {
    const hv = new Hypervisor({ oracle: true });
    const log: number[] = [];
    const { domain } = launchTsGuest(
      hv,
      {
        async main(ctx) {
          const arg = ctx.allocPage() * 4096;
          const list = arg + 64;
          const R = ctx.layouts.xenMemoryReservation;
          const call = async (cmd: number, pfns: number[], order = 0) => {
            for (const [i, p] of pfns.entries()) ctx.mem.write32(list + i * 4, p);
            put(ctx, R, arg, {
              extent_start: list,
              nr_extents: pfns.length,
              extent_order: order,
              mem_flags: 0,
              domid: 0x7ff0,
            });
            return ctx.hypercall(Hypercall.memory_op, cmd, arg);
          };
          // 10 pages populated, limit 14: pfns 10..13 can be populated, the 5th extent fails
          log.push(await call(XenMem.populate_physmap, [10, 11, 12, 13, 14]));
          ctx.mem.write32(12 * 4096, 0xdeadbeef); // the new page is usable
          log.push(ctx.mem.read32(12 * 4096) === 0xdeadbeef ? 1 : 0);
          log.push(await call(XenMem.populate_physmap, [11])); // already populated
          log.push(await call(XenMem.decrease_reservation, [12, 13]));
          log.push(await call(XenMem.decrease_reservation, [12])); // no longer populated
          log.push(await call(XenMem.decrease_reservation, [1])); // shared_info: refused
          log.push(await call(XenMem.populate_physmap, [12], 1)); // order 1 unsupported
          log.push(await call(XenMem.populate_physmap, [14]));
        },
      },
      { pages: 10, maxPages: 14 },
    );
    const free0 = hv.machineMemory.freePages;
    await hv.run(1e9);
    expect(domain.crashDiagnostic).toBeNull();
    expect(log).toEqual([4, 1, 0, 2, 0, 0, Errno.EINVAL, 0]);
    expect(hv.machineMemory.pagesOf(domain.domid)).toBe(12);
    expect(hv.machineMemory.freePages).toBe(free0 - 2);
    expect(hv.oracleViolations).toEqual([]);
  });

  it("a guest cannot read a page it gave back", async () => {
    const hv = new Hypervisor({ oracle: true });
    const { domain } = launchTsGuest(hv, {
      async main(ctx) {
        const arg = ctx.allocPage() * 4096;
        ctx.mem.write32(arg + 64, 9);
        put(ctx, ctx.layouts.xenMemoryReservation, arg, {
          extent_start: arg + 64,
          nr_extents: 1,
          extent_order: 0,
          mem_flags: 0,
          domid: 0x7ff0,
        });
        expect(await ctx.hypercall(Hypercall.memory_op, XenMem.decrease_reservation, arg)).toBe(1);
        ctx.mem.read32(9 * 4096);
      },
    });
    await hv.run(1e9);
    expect(domain.state).toBe("crashed");
    expect(domain.crashDiagnostic).toMatch(/unpopulated pfn 9/);
  });
});

describe("multicall and vcpu_op", () => {
  it("multicall runs each entry through the dispatcher and stores results; nesting is refused", async () => {
    const hv = new Hypervisor();
    const results: number[] = [];
    launchTsGuest(hv, {
      async main(ctx) {
        const E = ctx.layouts.multicallEntry;
        const base = ctx.allocPage() * 4096;
        const entries = [
          { op: Hypercall.xen_version, result: 0, args: [7, 0, 0, 0, 0, 0] }, // pagesize
          { op: Hypercall.multicall, result: 0, args: [base, 1, 0, 0, 0, 0] },
          { op: 99, result: 0, args: [0, 0, 0, 0, 0, 0] },
          { op: Hypercall.vcpu_op, result: 0, args: [VcpuOp.is_up, 0, 0, 0, 0, 0] },
        ];
        for (const [i, e] of entries.entries()) put(ctx, E, base + i * E.size, e);
        results.push(await ctx.hypercall(Hypercall.multicall, base, entries.length));
        for (let i = 0; i < entries.length; i++) results.push(ctx.mem.read32(base + i * E.size + 4) | 0);
        results.push(await ctx.hypercall(Hypercall.multicall, base, 65));
      },
    });
    await hv.run(1e9);
    expect(results).toEqual([0, 4096, Errno.EINVAL, Errno.ENOSYS, 1, Errno.EINVAL]);
    expect(hv.statsOf(0).hypercallsByNumber[Hypercall.xen_version]).toBe(1);
  });

  it("VCPUOP_set_singleshot_timer raises VIRQ_TIMER at the deadline; VCPU_SSHOTTMR_future refuses the past", async () => {
    const hv = new Hypervisor();
    const log: number[] = [];
    launchTsGuest(hv, {
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        const port = await g.bindVirq(Virq.timer);
        const arg = ctx.allocPage() * 4096;
        const L = ctx.layouts.vcpuSetSingleshotTimer;
        put(ctx, L, arg, { timeout_abs_ns: 1n, flags: 1 });
        log.push(await ctx.hypercall(Hypercall.vcpu_op, VcpuOp.set_singleshot_timer, 0, arg));
        const at = ctx.now() + 2_000_000;
        put(ctx, L, arg, { timeout_abs_ns: BigInt(at), flags: 1 });
        log.push(await ctx.hypercall(Hypercall.vcpu_op, VcpuOp.set_singleshot_timer, 0, arg));
        log.push(await ctx.hypercall(Hypercall.vcpu_op, VcpuOp.set_singleshot_timer, 1, arg));
        ctx.mem.write8(g.vcpu0("evtchn_upcall_pending"), 0);
        await g.block();
        log.push(ctx.now() >= at ? 1 : 0, g.pending(port) ? 1 : 0);
      },
    });
    await hv.run(1e9);
    expect(log).toEqual([Errno.ETIME, 0, Errno.ENOENT, 1, 1]);
  });
});
