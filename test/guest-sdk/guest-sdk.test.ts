/** The guest SDK inside real TS domains: grants (hostile revoke), events (IPI, coalescing, reset). */
import { filter, firstValueFrom, switchMap } from "rxjs";
import { describe, expect, it } from "vitest";
import {
  createPvEnv,
  EventChannel,
  GrantError,
  type GrantMapping,
  type PvEnv,
} from "../../src/guest-sdk/index.js";
import type { GuestContext, TsGuest } from "../../src/hypercalls/index.js";
import { EvtchnStat } from "../../src/hypercalls/index.js";
import { Hypervisor, launchTsGuest } from "../../src/hypervisor/index.js";
import { installPvCore } from "../../src/hypervisor/pv-core/index.js";
import { PhysicalMemory } from "../../src/machine/index.js";

/** A guest whose body is a closure, so a test can coordinate two domains through JS promises. */
function guest(name: string, body: (env: PvEnv, ctx: GuestContext) => Promise<void>): TsGuest {
  return { name, main: async (ctx) => body(await createPvEnv(ctx), ctx) };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * Guests coordinate only through the machine (a JS promise resolved by another domain does not
 * wake a blocked vCPU): waits until store node `path` exists and returns its value.
 */
function waitKey(env: PvEnv, path: string): Promise<string> {
  return firstValueFrom(
    env.store.watch(path).pipe(
      switchMap(() => env.store.tryRead(path)),
      filter((v): v is string => v !== undefined),
    ),
  );
}

function machine() {
  const hv = new Hypervisor({ memory: new PhysicalMemory(4 << 20) });
  const pv = installPvCore(hv);
  return { hv, pv };
}

describe("grant tables from TS guests", () => {
  it("a granter cannot end access while the peer maps the page; mapping is zero-copy", async () => {
    const { hv, pv } = machine();
    pv.store.hostMkdir("/shared", ["n0", "b1"]);
    const log: string[] = [];
    launchTsGuest(
      hv,
      guest("mapper", async (env) => {
        const ref = Number(await waitKey(env, "/shared/ref"));
        const m: GrantMapping = await env.grants.map(1, ref);
        log.push(`read ${m.page.read32(0).toString(16)}`);
        m.page.write32(4, 0x5678);
        await env.store.write("/shared/mapped", "1");
        await waitKey(env, "/shared/tried");
        await env.grants.unmap(m);
        await env.store.write("/shared/unmapped", "1");
      }),
      { privileged: true },
    );
    launchTsGuest(
      hv,
      guest("granter", async (env, ctx) => {
        const pfn = ctx.allocPage();
        ctx.mem.write32(pfn * 4096, 0x1234);
        const ref = env.grants.grantAccess(0, pfn);
        await env.store.write("/shared/ref", String(ref));
        await waitKey(env, "/shared/mapped");
        log.push(`peer wrote ${ctx.mem.read32(pfn * 4096 + 4).toString(16)}`);
        log.push(`in use ${env.grants.inUse(ref)}`);
        try {
          env.grants.endAccess(ref);
          log.push("ended while mapped!");
        } catch (e) {
          log.push(e instanceof GrantError ? "end refused" : String(e));
        }
        await env.store.write("/shared/tried", "1");
        await waitKey(env, "/shared/unmapped");
        env.grants.endAccess(ref);
        log.push("ended");
      }),
    );
    expect(await hv.run(2e9)).toBe("all-halted");
    expect(log).toEqual(["read 1234", "peer wrote 5678", "in use true", "end refused", "ended"]);
    expect(pv.grants.mappingsOf(0)).toBe(0);
    expect(pv.grants.pinnedOf(1)).toBe(0);
  });
});

describe("event channels from TS guests", () => {
  it("bind_ipi delivers to itself; a flood of sends to a busy peer coalesces", async () => {
    const { hv, pv } = machine();
    pv.store.hostMkdir("/shared", ["n0", "b1"]);
    let ipiEvents = 0;
    let peerEvents = 0;
    launchTsGuest(
      hv,
      guest("receiver", async (env) => {
        const ipi = await EventChannel.bindIpi(env.hypercalls, env.events);
        const got = deferred<void>();
        ipi.events$.subscribe(() => {
          ipiEvents++;
          got.resolve();
        });
        ipi.notify();
        await got.promise;
        const ch = await EventChannel.allocUnbound(env.hypercalls, env.events, 1);
        ch.events$.subscribe(() => peerEvents++);
        await env.store.write("/shared/port", String(ch.port));
        await waitKey(env, "/shared/flooded");
      }),
      { privileged: true },
    );
    launchTsGuest(
      hv,
      guest("flooder", async (env) => {
        const port = Number(await waitKey(env, "/shared/port"));
        const ch = await EventChannel.bindInterdomain(env.hypercalls, env.events, 0, port);
        // 200 sends issued in one turn of the flooder (more than the SDK's 32 argument slots: they queue).
        await Promise.all(Array.from({ length: 200 }, () => env.hypercalls.evtchnSend(ch.port)));
        await env.store.write("/shared/flooded", "1");
      }),
    );
    expect(await hv.run(2e9)).toBe("all-halted");
    expect(ipiEvents).toBe(1);
    expect(peerEvents).toBeGreaterThanOrEqual(1);
    expect(peerEvents).toBeLessThan(20); // coalesced, not 200
    expect(hv.domain(1)?.stats.eventsSent).toBeGreaterThanOrEqual(200);
  });

  it("EVTCHNOP_reset closes the guest's ports but keeps the store and console ports", async () => {
    const { hv } = machine();
    let before = 0;
    let after = 0;
    const { domain } = launchTsGuest(
      hv,
      guest("resetter", async (env) => {
        await env.hypercalls.evtchnBindIpi();
        await env.hypercalls.evtchnAllocUnbound(0);
        const open = () => Array.from(domain.evtchn.state).filter((s) => s !== EvtchnStat.closed).length;
        before = open();
        expect(await env.hypercalls.evtchnReset()).toBe(0);
        after = open();
        expect(await env.store.read("name")).toBe("resetter"); // the store still works
      }),
      { privileged: true },
    );
    expect(await hv.run(2e9)).toBe("all-halted");
    expect(before).toBe(4);
    expect(after).toBe(2);
  });
});
