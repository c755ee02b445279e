import { describe, expect, it } from "vitest";
import {
  Errno,
  EvtchnStat,
  type GuestContext,
  Hypercall,
  SchedOp,
  Virq,
} from "../../src/hypercalls/index.js";
import { Hypervisor, launchTsGuest } from "../../src/hypervisor/index.js";
import { TestGuestOps } from "./guest-helpers.js";

/** A tiny rendezvous board shared by the test's guests (host-side, like a toolstack writing the store). */
interface Board {
  port?: number;
  log: string[];
}

describe("event channels between TS guests", () => {
  it("two guests exchange events over an interdomain channel; a third cannot bind to their ports", async () => {
    const hv = new Hypervisor({ oracle: true });
    const board: Board = { log: [] };
    let received = 0;
    // dom0: offers a port to dom1, then waits for events via upcalls.
    launchTsGuest(hv, {
      name: "server",
      async main(ctx: GuestContext) {
        const g = new TestGuestOps(ctx);
        const port = await g.allocUnbound(1);
        board.port = port;
        ctx.setUpcallHandler(() => {
          ctx.mem.write8(g.vcpu0("evtchn_upcall_pending"), 0);
          ctx.mem.write32(g.vcpu0("evtchn_pending_sel"), 0);
          if (g.pending(port)) {
            g.clearPending(port);
            received++;
            board.log.push(`server got event ${received}`);
          }
        });
        while (received < 3) await g.block();
        await g.send(port);
      },
    });
    launchTsGuest(hv, {
      name: "client",
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        while (board.port === undefined) await g.yield();
        const local = await g.bindInterdomain(0, board.port);
        expect(local).toBeGreaterThan(0);
        const st = await g.status(0x7ff0, local);
        expect(st.rc).toBe(0);
        expect(st.out.status).toBe(EvtchnStat.interdomain);
        expect((st.out.u as { interdomain: { dom: number; port: number } }).interdomain).toEqual({
          dom: 0,
          port: board.port,
        });
        for (let i = 0; i < 3; i++) {
          expect(await g.send(local)).toBe(0);
          await g.yield();
        }
        // wait for the reply
        while (!g.pending(local)) await g.block();
        board.log.push("client got reply");
      },
    });
    launchTsGuest(hv, {
      name: "intruder",
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        while (board.port === undefined) await g.yield();
        board.log.push(`intruder bind: ${await g.bindInterdomain(0, board.port)}`);
        board.log.push(`intruder send on foreign port number: ${await g.send(board.port)}`);
        board.log.push(`intruder status of dom0: ${(await g.status(0, board.port)).rc}`);
      },
    });
    const end = await hv.run(1e9);
    expect(end).toBe("all-halted");
    expect(received).toBe(3);
    expect(board.log).toContain("client got reply");
    expect(board.log).toContain(`intruder bind: ${Errno.EINVAL}`);
    expect(board.log).toContain(`intruder send on foreign port number: ${Errno.EINVAL}`);
    expect(board.log).toContain(`intruder status of dom0: ${Errno.EPERM}`);
    expect(hv.oracleViolations).toEqual([]);
    expect(hv.dispatcher.handlerFaults).toBe(0);
    for (const d of hv.listDomains()) expect(d.state).toBe("shutdown");
    expect(hv.statsOf(1).eventsSent).toBe(3);
    expect(hv.statsOf(0).eventsDelivered).toBeGreaterThanOrEqual(3);
  });

  it("masking: a masked port stays pending without an upcall and fires on unmask; sends coalesce", async () => {
    const hv = new Hypervisor({ oracle: true });
    const seen: string[] = [];
    const trace: string[] = [];
    hv.events.onEvent((e) => trace.push(`${e.kind}:${e.port}`));
    launchTsGuest(hv, {
      name: "loop",
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        const a = await g.allocUnbound(0); // loopback: remote is ourselves
        const b = await g.bindInterdomain(0x7ff0, a);
        // bind sets the local port pending (Xen does, so nothing sent before the bind is lost)
        expect(g.pending(b)).toBe(true);
        g.clearPending(b);
        let upcalls = 0;
        ctx.setUpcallHandler(() => {
          upcalls++;
          ctx.mem.write8(g.vcpu0("evtchn_upcall_pending"), 0);
          ctx.mem.write32(g.vcpu0("evtchn_pending_sel"), 0);
        });
        ctx.mem.write8(g.vcpu0("evtchn_upcall_pending"), 0);
        ctx.mem.write32(g.vcpu0("evtchn_pending_sel"), 0);
        g.mask(a, true);
        expect(await g.send(b)).toBe(0);
        expect(await g.send(b)).toBe(0);
        expect(g.pending(a)).toBe(true);
        expect(ctx.mem.read8(g.vcpu0("evtchn_upcall_pending"))).toBe(0);
        expect(ctx.mem.read32(g.vcpu0("evtchn_pending_sel"))).toBe(0);
        expect(upcalls).toBe(0);
        seen.push(`delivered before unmask: ${hv.statsOf(0).eventsDelivered}`);
        expect(await g.unmask(a)).toBe(0);
        // unmask re-raised the selector and upcall_pending: an upcall ran at the yield point
        expect(upcalls).toBe(1);
        expect(g.pending(a)).toBe(true);
        g.clearPending(a);
        // coalescing: two sends while pending → one pending transition
        const before = hv.statsOf(0).eventsDelivered;
        await g.send(b);
        await g.send(b);
        seen.push(`transitions for two sends: ${hv.statsOf(0).eventsDelivered - before}`);
        expect(upcalls).toBe(2);
        // close: the peer goes back to unbound
        expect(await g.close(b)).toBe(0);
        const st = await g.status(0x7ff0, a);
        expect(st.out.status).toBe(EvtchnStat.unbound);
        expect(await g.send(b)).toBe(Errno.EINVAL);
        expect(await g.send(a)).toBe(0); // unbound: silently dropped
      },
    });
    await hv.run(1e9);
    const d = hv.domain(0)!;
    expect(d.crashDiagnostic).toBeNull();
    expect(d.state).toBe("shutdown");
    expect(seen).toEqual(["delivered before unmask: 2", "transitions for two sends: 1"]);
    // ports: a = 3, b = 4 (1 and 2 are the console and store ports bound to the hypervisor)
    expect(trace).toEqual([
      "raise:4", // bind_interdomain sets the new local port pending
      "send:4",
      "masked:3",
      "send:4",
      "coalesced:3",
      "unmask:3",
      "upcall:-1", // the pending port, unmasked, is delivered
      "send:4",
      "raise:3",
      "upcall:-1",
      "send:4",
      "coalesced:3",
    ]);
  });

  it("a blocked guest wakes on an event and on its timer (VIRQ_TIMER)", async () => {
    const hv = new Hypervisor({ oracle: true });
    const times: Record<string, number> = {};
    launchTsGuest(hv, {
      name: "sleeper",
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        const port = await g.bindVirq(Virq.timer);
        expect(port).toBeGreaterThan(0);
        expect(await g.bindVirq(Virq.timer)).toBe(Errno.EEXIST);
        const deadline = ctx.now() + 5_000_000;
        expect(
          await ctx.hypercall(Hypercall.set_timer_op, deadline >>> 0, Math.floor(deadline / 2 ** 32)),
        ).toBe(0);
        ctx.mem.write8(g.vcpu0("evtchn_upcall_pending"), 0);
        await g.block();
        times.woke = ctx.now();
        times.deadline = deadline;
        expect(g.pending(port)).toBe(true);
      },
    });
    const end = await hv.run(1e9);
    expect(end).toBe("all-halted");
    expect(times.woke).toBeGreaterThanOrEqual(times.deadline!);
    expect(times.woke! - times.deadline!).toBeLessThan(10_000);
  });

  it("blocking with nothing to wake it ends the run as idle", async () => {
    const hv = new Hypervisor();
    launchTsGuest(hv, {
      async main(ctx) {
        await ctx.hypercall(Hypercall.sched_op, SchedOp.block, 0);
      },
    });
    expect(await hv.run(1e9)).toBe("idle");
    expect(hv.domain(0)!.vcpu.state).toBe("blocked");
  });
});

describe("ping-pong under load", () => {
  it("1000 round trips between two blocked-and-woken guests lose no wake-up", async () => {
    const hv = new Hypervisor({ oracle: true, sliceCycles: 20_000 });
    const shared: { port?: number } = {};
    const counts = [0, 0];
    const player = (me: 0 | 1) => ({
      async main(ctx: GuestContext) {
        const g = new TestGuestOps(ctx);
        let port: number;
        if (me === 0) {
          port = await g.allocUnbound(1);
          shared.port = port;
        } else {
          while (shared.port === undefined) await g.yield();
          port = await g.bindInterdomain(0, shared.port);
          g.clearPending(port); // the bind's own pending bit
        }
        let got = 0;
        ctx.setUpcallHandler(() => {
          ctx.mem.write8(g.vcpu0("evtchn_upcall_pending"), 0);
          ctx.mem.write32(g.vcpu0("evtchn_pending_sel"), 0);
          if (g.pending(port)) {
            g.clearPending(port);
            got++;
          }
        });
        if (me === 1) await g.send(port);
        for (let i = 0; i < 1000; i++) {
          while (got === i) await g.block();
          counts[me]!++;
          if (me === 0 || i < 999) await g.send(port);
        }
      },
    });
    launchTsGuest(hv, player(0));
    launchTsGuest(hv, player(1));
    expect(await hv.run(1e10)).toBe("all-halted");
    expect(counts).toEqual([1000, 1000]);
    expect(hv.oracleViolations).toEqual([]);
    expect(hv.statsOf(0).eventsSent).toBe(1000);
    expect(hv.statsOf(1).eventsSent).toBe(1000);
  });
});
