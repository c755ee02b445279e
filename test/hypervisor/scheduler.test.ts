import { describe, expect, it } from "vitest";
import { EvtchnStat, type GuestContext } from "../../src/hypercalls/index.js";
import { Hypervisor, launchTsGuest } from "../../src/hypervisor/index.js";
import { TestGuestOps } from "./guest-helpers.js";

/** A CPU-bound guest: computes in chunks, yielding to the hypervisor only through a cheap hypercall. */
const cruncher = (name: string, chunks: number, log: string[]) => ({
  name,
  async main(ctx: GuestContext) {
    for (let i = 0; i < chunks; i++) {
      ctx.charge(100_000);
      await ctx.hypercall(17, 0, 0); // xen_version: not a yield, but a preemption point
    }
    log.push(`${name} done at ${ctx.now()}`);
  },
});

async function scenario(): Promise<{ log: string[]; stats: unknown[]; cycles: number }> {
  const hv = new Hypervisor({ sliceCycles: 1_000_000 });
  const log: string[] = [];
  launchTsGuest(hv, cruncher("a", 50, log));
  launchTsGuest(hv, cruncher("b", 50, log));
  await hv.run();
  return { log, stats: hv.listDomains().map((d) => hv.statsOf(d.domid)), cycles: hv.clock.cycles };
}

describe("scheduler", () => {
  it("shares the CPU in time slices: two CPU-bound guests finish within one slice of each other", async () => {
    const r = await scenario();
    const at = r.log.map((l) => Number(l.split(" at ")[1]));
    expect(r.log.map((l) => l.split(" ")[0])).toEqual(["a", "b"]);
    expect(Math.abs(at[1]! - at[0]!)).toBeLessThanOrEqual(1_200_000);
    // each guest was switched in about (5 M cycles of work / 1 M slice) times
    for (const s of r.stats as { domainSwitches: number }[])
      expect(s.domainSwitches).toBeGreaterThanOrEqual(4);
  });

  it("is deterministic: the same run gives the same cycles, order and statistics", async () => {
    const r1 = await scenario();
    const r2 = await scenario();
    expect(r2).toEqual(r1);
  });

  it("destroying a domain sends its peers' ports back to unbound and frees its pages", async () => {
    const hv = new Hypervisor();
    const shared: { port?: number; peer?: number } = {};
    launchTsGuest(hv, {
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        shared.port = await g.allocUnbound(1);
        await g.block();
        await g.block();
      },
    });
    launchTsGuest(hv, {
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        while (shared.port === undefined) await g.yield();
        shared.peer = await g.bindInterdomain(0, shared.port);
        await g.block();
      },
    });
    await hv.run(1e9);
    const d0 = hv.domain(0)!;
    expect(d0.evtchn.state[shared.port!]).toBe(EvtchnStat.interdomain);
    const free = hv.machineMemory.freePages;
    hv.destroy(1);
    expect(d0.evtchn.state[shared.port!]).toBe(EvtchnStat.unbound);
    expect(d0.evtchn.remoteDom[shared.port!]).toBe(1);
    expect(hv.machineMemory.freePages).toBe(free + 16);
  });
});

describe("VcpuBackend hook (the shape Disco and the x86 monitor plug into)", () => {
  it("a synchronous register-file back end runs a machine-code-like guest through the same dispatcher", async () => {
    const { hypercallFromRegisters, VcpuExitReason } = await import("../../src/hypervisor/index.js");
    const hv = new Hypervisor();
    const d = hv.createDomain({ pages: 8, arch: "mips", name: "fake-mips" });
    // "Program": write 'ok\n' to memory, console_io it, then SCHEDOP_shutdown(poweroff).
    const gpr = new Int32Array(32);
    const scratch = new Uint32Array(5);
    let pc = 0;
    hv.memory.writeBytes(d.p2m.lookup(5) * 4096, new TextEncoder().encode("ok\n"));
    hv.memory.write32(d.p2m.lookup(5) * 4096 + 16, 0); // sched_shutdown { reason = poweroff }
    const program = [
      () => {
        gpr[2] = 18;
        gpr[4] = 0;
        gpr[5] = 3;
        gpr[6] = 5 * 4096;
      },
      () => hypercallFromRegisters(hv, d, gpr, scratch),
      () => {
        gpr[2] = 29;
        gpr[4] = 2;
        gpr[5] = 5 * 4096 + 16;
      },
      () => hypercallFromRegisters(hv, d, gpr, scratch),
    ];
    hv.attachBackend(d, {
      run(budget) {
        for (let spent = 0; spent < budget; spent++) {
          if (!d.alive) return VcpuExitReason.halted;
          if (pc >= program.length) return VcpuExitReason.halted;
          program[pc++]!();
          hv.chargeGuest(d, 1);
        }
        return VcpuExitReason.budget;
      },
    });
    hv.unpause(d.domid);
    expect(await hv.run(1e6)).toBe("all-halted");
    expect(d.console.output).toBe("ok\n");
    expect(d.state).toBe("shutdown");
    expect(gpr[2]).toBe(0);
  });
});
