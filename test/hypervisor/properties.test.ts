import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Hypercall, isXenErrno } from "../../src/hypercalls/index.js";
import { GrantTables } from "../../src/hypervisor/grant-table/index.js";
import { BootPfn, Hypervisor, launchTsGuest } from "../../src/hypervisor/index.js";
import { PAGE_SIZE, PhysicalMemory } from "../../src/machine/index.js";

/**
 * FNV-1a over a domain's pages, read through the machine (host side), skipping shared_info:
 * the hypervisor writes there on the domain's behalf (event bits the attacker may legitimately
 * raise through the port the victim offered it, vcpu time).
 */
function hashPages(hv: Hypervisor, domid: number): number {
  const d = hv.domain(domid)!;
  let h = 0x811c9dc5;
  for (let pfn = 0; pfn < d.nrPages; pfn++) {
    if (pfn === BootPfn.sharedInfo) continue;
    const base = d.p2m.lookup(pfn) * PAGE_SIZE;
    for (let i = 0; i < PAGE_SIZE; i += 4)
      h = Math.imul(h ^ hv.memory.u32[(base + i) >>> 2]!, 0x01000193) >>> 0;
  }
  return h;
}

const NUMBERS = [0, 1, 4, 12, 13, 15, 17, 18, 20, 24, 26, 29, 32, 33, 63, 64, 1000];

describe("hostile TS guest (fast-check)", () => {
  it("random hypercalls never raise a host exception, never touch another domain, always return success or a Xen errno", async () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const arg = (pages: number) =>
      fc.oneof(
        fc.integer({ min: 0, max: 12 }),
        fc.constantFrom(0x7ff0, 0x7ff2, 0x7fff, 1, 2),
        fc.integer({ min: 0, max: pages * PAGE_SIZE + 3 * PAGE_SIZE }), // own memory and just past it
        u32,
      );
    const call = fc.record({
      nr: fc.oneof({ arbitrary: fc.constantFrom(...NUMBERS), weight: 6 }, { arbitrary: u32, weight: 1 }),
      args: fc.array(arg(8), { minLength: 5, maxLength: 5 }),
      scribble: fc.array(fc.tuple(fc.integer({ min: 0, max: 8 * PAGE_SIZE - 4 }), u32), { maxLength: 6 }),
    });
    const seen = { calls: 0, ok: 0, errnos: new Set<number>() };
    await fc.assert(
      fc.asyncProperty(
        fc.array(call, { minLength: 1, maxLength: 25 }),
        fc.constantFrom("x86" as const, "mips" as const),
        async (calls, arch) => {
          const hv = new Hypervisor({ memory: new PhysicalMemory(1 << 20), oracle: true, sliceCycles: 5000 });
          // The whole dispatcher, including the grant table plugged in through register().
          new GrantTables(hv);
          // dom0: a victim that offers a port to the attacker and then sleeps.
          const victim = launchTsGuest(hv, {
            name: "victim",
            async main(ctx) {
              const p = ctx.allocPage() * PAGE_SIZE;
              ctx.mem.write16(p, 0x7ff0);
              ctx.mem.write16(p + 2, 1);
              await ctx.hypercall(Hypercall.event_channel_op, 6, p);
              await ctx.hypercall(Hypercall.sched_op, 1, 0);
              await ctx.hypercall(Hypercall.sched_op, 1, 0);
            },
          });
          const results: number[] = [];
          launchTsGuest(
            hv,
            {
              name: "attacker",
              async main(ctx) {
                for (const c of calls) {
                  for (const [addr, v] of c.scribble)
                    if (addr + 4 <= ctx.nrPages * PAGE_SIZE) ctx.mem.write32(addr & ~3, v);
                  const [a1, a2, a3, a4, a5] = c.args as [number, number, number, number, number];
                  results.push(await ctx.hypercall(c.nr, a1, a2, a3, a4, a5));
                }
              },
            },
            { pages: 8, arch },
          );
          await hv.run(2e6); // let the victim set up and block
          const before = hashPages(hv, victim.domain.domid);
          await hv.run(hv.clock.cycles + 5e8);
          expect(hv.dispatcher.handlerFaults).toBe(0);
          expect(hv.oracleViolations).toEqual([]);
          for (const r of results) {
            expect(r >= 0 || isXenErrno(r)).toBe(true);
            seen.calls++;
            if (r >= 0) seen.ok++;
            else seen.errnos.add(r);
          }
          expect(hashPages(hv, victim.domain.domid)).toBe(before);
        },
      ),
      { numRuns: 60 },
    );
    console.log(
      `hostile guest: ${seen.calls} calls, ${seen.ok} ok, errnos ${[...seen.errnos].sort((a, b) => a - b).join(" ")}`,
    );
    // The property exercised real paths: successes and several distinct errors.
    expect(seen.calls).toBeGreaterThan(200);
    expect(seen.ok).toBeGreaterThan(10);
    expect(seen.errnos.size).toBeGreaterThanOrEqual(4);
  });
});

describe("machine page allocator (fast-check)", () => {
  it("accounting is exact after random create/destroy sequences", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("create" as const),
        pages: fc.integer({ min: 4, max: 60 }),
        extra: fc.integer({ min: 0, max: 8 }),
      }),
      fc.record({ kind: fc.constant("destroy" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const hv = new Hypervisor({ memory: new PhysicalMemory(1 << 20) });
        const mm = hv.machineMemory;
        const total = mm.machinePages;
        const reserved = total - mm.freePages;
        const live = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === "create") {
            if (o.pages > mm.freePages) {
              expect(() => hv.createDomain({ pages: o.pages })).toThrow();
              continue;
            }
            const d = hv.createDomain({ pages: o.pages, maxPages: o.pages + o.extra });
            live.set(d.domid, o.pages);
          } else if (live.size > 0) {
            const ids = [...live.keys()];
            const id = ids[o.pick % ids.length]!;
            hv.destroy(id);
            live.delete(id);
          }
          let used = 0;
          for (const [id, pages] of live) {
            expect(mm.pagesOf(id)).toBe(pages);
            used += pages;
          }
          expect(mm.freePages).toBe(total - reserved - used);
          // every frame's owner agrees with the accounts
          const owned = new Map<number, number>();
          for (let mfn = 0; mfn < total; mfn++) {
            const o2 = mm.owner(mfn);
            if (o2 >= 0 && o2 < 0x7ff0) owned.set(o2, (owned.get(o2) ?? 0) + 1);
          }
          expect(owned).toEqual(live);
        }
        for (const id of [...live.keys()]) hv.destroy(id);
        expect(mm.freePages).toBe(total - reserved);
      }),
      { numRuns: 100 },
    );
  });
});
