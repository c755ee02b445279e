import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { runTsGuests } from "../../src/cli/commands/run-ts.js";
import { INVALID_MFN } from "../../src/full-virt/index.js";
import {
  Errno,
  type GuestContext,
  GuestFault,
  Hypercall,
  SchedOp,
  ShutdownReason,
  XenMem,
} from "../../src/hypercalls/index.js";
import {
  type DomainStatsSnapshot,
  DomainToken,
  GuestContextToken,
  Hypervisor,
  HypervisorToken,
  IsolationViolation,
  launchTsGuest,
  runDomains,
  VcpuExitReason,
} from "../../src/hypervisor/index.js";
import { PhysicalMemory } from "../../src/machine/index.js";
import { put, TestGuestOps } from "./guest-helpers.js";

describe("domain lifecycle", () => {
  it("a domain is created paused, runs when unpaused, and shuts down with its reason", async () => {
    const hv = new Hypervisor();
    let ran = false;
    const { domain } = launchTsGuest(
      hv,
      {
        async main(ctx) {
          ran = true;
          const p = ctx.allocPage() * 4096;
          put(ctx, ctx.layouts.schedShutdown, p, { reason: ShutdownReason.reboot });
          await ctx.hypercall(Hypercall.sched_op, SchedOp.shutdown, p);
          throw new Error("not reached: a shut-down domain never resumes");
        },
      },
      { paused: true },
    );
    expect(domain.state).toBe("paused");
    expect(await hv.run(1e6)).toBe("idle");
    expect(ran).toBe(false);
    hv.unpause(domain.domid);
    expect(await hv.run(1e9)).toBe("all-halted");
    expect(ran).toBe(true);
    expect(domain.state).toBe("shutdown");
    expect(domain.shutdownReason).toBe(ShutdownReason.reboot);
  });

  it("a guest touching memory outside its space crashes with a diagnostic; others keep running", async () => {
    const hv = new Hypervisor({ oracle: true });
    let caught: unknown = null;
    let otherDone = false;
    launchTsGuest(hv, {
      name: "bad",
      async main(ctx) {
        try {
          ctx.mem.read32(ctx.nrPages * 4096);
        } catch (e) {
          caught = e;
          throw e;
        }
      },
    });
    launchTsGuest(hv, {
      name: "good",
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        for (let i = 0; i < 3; i++) await g.yield();
        otherDone = true;
      },
    });
    await hv.run(1e9);
    expect(caught).toBeInstanceOf(GuestFault);
    expect(hv.domain(0)!.state).toBe("crashed");
    expect(hv.domain(0)!.crashDiagnostic).toMatch(/outside its memory/);
    expect(otherDone).toBe(true);
    expect(hv.domain(1)!.state).toBe("shutdown");
  });

  it("the watchdog crashes a guest that computes without yielding", async () => {
    const hv = new Hypervisor();
    launchTsGuest(
      hv,
      {
        async main(ctx) {
          for (;;) ctx.charge(1000);
        },
      },
      { watchdogCycles: 1_000_000 },
    );
    await hv.run(1e9);
    expect(hv.domain(0)!.state).toBe("crashed");
    expect(hv.domain(0)!.crashDiagnostic).toMatch(/watchdog/);
  });

  it("destroy frees every page and the accounts balance", async () => {
    const mem = new PhysicalMemory(1 << 20); // 256 frames
    const hv = new Hypervisor({ memory: mem });
    const free0 = hv.machineMemory.freePages;
    const a = hv.createDomain({ pages: 40, maxPages: 50 });
    const b = hv.createDomain({ pages: 30 });
    expect(hv.machineMemory.pagesOf(a.domid)).toBe(40);
    expect(hv.machineMemory.maxPagesOf(a.domid)).toBe(50);
    expect(hv.machineMemory.freePages).toBe(free0 - 70);
    // M2P agrees with the P2M
    for (let pfn = 0; pfn < 40; pfn++) {
      const mfn = a.p2m.lookup(pfn);
      expect(hv.machineMemory.owner(mfn)).toBe(a.domid);
      expect(hv.machineMemory.pfnOf(mfn)).toBe(pfn);
    }
    expect(a.p2m.lookup(45)).toBe(INVALID_MFN);
    hv.destroy(a.domid);
    expect(hv.machineMemory.freePages).toBe(free0 - 30);
    expect(hv.domain(a.domid)).toBeUndefined();
    hv.destroy(b.domid);
    expect(hv.machineMemory.freePages).toBe(free0);
    expect(() => hv.createDomain({ pages: 10_000 })).toThrow(/not enough machine memory/);
  });

  it("memory_op reports reservations; an unprivileged domain cannot query another", async () => {
    const hv = new Hypervisor();
    const results: number[] = [];
    hv.createDomain({ pages: 8 }); // dom0, never runs
    launchTsGuest(
      hv,
      {
        async main(ctx) {
          const p = ctx.allocPage() * 4096;
          ctx.mem.write16(p, 0x7ff0);
          results.push(await ctx.hypercall(Hypercall.memory_op, XenMem.current_reservation, p));
          results.push(await ctx.hypercall(Hypercall.memory_op, XenMem.maximum_reservation, p));
          ctx.mem.write16(p, 0);
          results.push(await ctx.hypercall(Hypercall.memory_op, XenMem.current_reservation, p));
          results.push(
            await ctx.hypercall(Hypercall.memory_op, XenMem.current_reservation, ctx.nrPages * 4096),
          );
          results.push(await ctx.hypercall(99));
        },
      },
      { pages: 12, maxPages: 20 },
    );
    await hv.run(1e9);
    expect(results).toEqual([12, 20, Errno.EPERM, Errno.EFAULT, Errno.ENOSYS]);
  });

  it("a P2M entry pointing at another domain's frame is refused by the rights check", async () => {
    const hv = new Hypervisor({ oracle: true });
    const victim = hv.createDomain({ pages: 8, name: "victim" });
    const { domain } = launchTsGuest(hv, {
      async main(ctx) {
        ctx.mem.read32(5 * 4096);
      },
    });
    // Simulate a hypervisor bug: point the attacker's pfn 5 at the victim's frame.
    domain.p2m.set(5, victim.p2m.lookup(5));
    await hv.run(1e9);
    expect(domain.state).toBe("crashed");
    expect(domain.crashDiagnostic).toMatch(/may no longer use/);
  });

  it("the oracle catches a CPU back end's access to a frame the running domain does not own", async () => {
    const hv = new Hypervisor({ oracle: true });
    const victim = hv.createDomain({ pages: 8, name: "victim" });
    const d = hv.createDomain({ pages: 8, name: "buggy-cpu" });
    const own = d.p2m.lookup(4) * 4096;
    const foreign = victim.p2m.lookup(4) * 4096;
    hv.attachBackend(d, {
      run() {
        // A CPU calls the oracle on every guest access in test mode (src/machine/memory.ts).
        hv.memory.oracle?.(own, 4, true);
        hv.memory.oracle?.(foreign, 4, false);
        return VcpuExitReason.halted;
      },
    });
    hv.unpause(d.domid);
    await expect(hv.run(1e9)).rejects.toBeInstanceOf(IsolationViolation);
    expect(hv.oracleViolations).toHaveLength(1);
    expect(hv.oracleViolations[0]!.domid).toBe(d.domid);
    expect(hv.oracleViolations[0]!.paddr).toBe(foreign);
  });

  it("DI: each domain has a child container resolving its Domain and GuestContext", () => {
    const hv = new Hypervisor();
    const { domain, backend } = launchTsGuest(hv, { async main() {} });
    expect(domain.container.resolve(DomainToken)).toBe(domain);
    expect(domain.container.resolve(GuestContextToken)).toBe(backend.ctx);
    expect(domain.container.resolve(HypervisorToken)).toBe(hv);
    const other = hv.createDomain({ pages: 4 });
    expect(other.container.resolve(DomainToken)).toBe(other);
  });

  it("statistics are published as snapshots on stats$", async () => {
    const hv = new Hypervisor({ sliceCycles: 10_000 });
    const { domain } = launchTsGuest(hv, {
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        for (let i = 0; i < 5; i++) {
          ctx.charge(20_000);
          await g.yield();
        }
      },
    });
    const snaps: DomainStatsSnapshot[] = [];
    hv.stats$(domain.domid).subscribe((s) => snaps.push(s));
    await hv.run(1e9);
    const last = snaps[snaps.length - 1]!;
    expect(snaps.length).toBeGreaterThan(2);
    expect(last.hypercallsByNumber[Hypercall.sched_op]).toBe(5);
    expect(last.guestCycles).toBeGreaterThanOrEqual(100_000);
    expect(last.monitorCycles).toBeGreaterThan(0);
    expect(last.worldSwitches).toBe(5);
  });
});

describe("multi-domain runner", () => {
  const speaker = (name: string, lines: string[]) => ({
    name,
    async main(ctx: GuestContext) {
      const g = new TestGuestOps(ctx);
      for (const l of lines) {
        await g.console(`${l}\n`);
        await g.yield();
      }
    },
  });

  it("prefixes console lines per domain when several run, and interleaves them by schedule", async () => {
    const out: string[] = [];
    const r = await runDomains(
      new Hypervisor(),
      [
        { name: "a", guest: speaker("a", ["one", "two"]) },
        { name: "b", guest: speaker("b", ["uno", "dos"]) },
      ],
      { out: (l) => out.push(l) },
    );
    expect(r.exitCode).toBe(0);
    expect(out).toEqual(["[a] one", "[b] uno", "[a] two", "[b] dos"]);
  });

  it("passes a single guest's console through unprefixed; a crash gives exit code 1", async () => {
    const out: string[] = [];
    const r = await runDomains(new Hypervisor(), [{ name: "solo", guest: speaker("solo", ["hi"]) }], {
      out: (l) => out.push(l),
    });
    expect(out).toEqual(["hi"]);
    const r2 = await runDomains(
      new Hypervisor(),
      [
        {
          name: "x",
          guest: {
            async main() {
              throw new Error("boom");
            },
          },
        },
      ],
      { out: () => {} },
    );
    expect(r.exitCode).toBe(0);
    expect(r2.exitCode).toBe(1);
    expect(r2.domains[0]!.diagnostic).toBe("guest threw: boom");
  });

  it("pvkit run-ts runs guest modules with prefixed consoles", async () => {
    let stdout = "";
    const file = new URL("./fixtures/hello-guest.ts", import.meta.url).pathname;
    const code = await runTsGuests([file, file], {}, { stdout: (t) => (stdout += t), stderr: () => {} });
    expect(code).toBe(0);
    // Both lines of a guest fall in one time slice: domain 0 prints both before domain 1 runs.
    expect(stdout).toBe(
      "[hello] hello from domain 0\n[hello] bye\n[hello.1] hello from domain 1\n[hello.1] bye\n",
    );
    let stderr = "";
    await runTsGuests(
      [file],
      { trace: "hypercalls,events" },
      { stdout: () => {}, stderr: (t) => (stderr += t) },
    );
    expect(stderr).toMatch(/^\[\s*\d+\] d0 console_io\(0x0, 0x14, 0x4000, 0x0, 0x0\) = 0$/m);
    expect(stderr).toMatch(/^\[\s*\d+\] d0 console_io\(0x0, 0x4, 0x4000, 0x0, 0x0\) = 0$/m);
    await expect(
      runTsGuests([file], { trace: "bogus" }, { stdout: () => {}, stderr: () => {} }),
    ).rejects.toThrow(/unknown trace kind "bogus": use hypercalls, events/);
  });
});

describe("detached guest chains", () => {
  it("a GuestFault in a chain nobody awaits crashes only that domain, not the host", async () => {
    const out: string[] = [];
    const r = await runDomains(
      new Hypervisor(),
      [
        {
          name: "sloppy",
          guest: {
            async main(ctx) {
              void (async () => {
                await ctx.hypercall(Hypercall.xen_version, 0, 0);
                ctx.mem.read32(-4);
              })();
              await ctx.hypercall(Hypercall.sched_op, SchedOp.block, 0);
            },
          },
        },
        {
          name: "fine",
          guest: {
            async main(ctx) {
              await new TestGuestOps(ctx).console("still here\n");
            },
          },
        },
      ],
      { out: (l) => out.push(l) },
    );
    await new Promise((res) => setImmediate(res));
    expect(r.domains[0]!.state).toBe("crashed");
    expect(r.domains[0]!.diagnostic).toMatch(/outside its memory/);
    expect(out).toEqual(["[fine] still here"]);
  });
});
