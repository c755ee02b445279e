import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type XsMessage, XsType } from "../../../src/guest-sdk/store/index.js";
import { StoreToolstack, XenStore } from "../../../src/hypervisor/store/index.js";

describe("store daemon under hostile input (fast-check)", () => {
  it("any message gets exactly one reply (OK or an errno name) and never throws", () => {
    const piece = fc.constantFrom(
      "/",
      "a",
      "b",
      "local",
      "domain",
      "1",
      "2",
      "@introduceDomain",
      "..",
      "T",
      "F",
      "n1",
      "r2",
      "",
      "\0",
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dom: fc.constantFrom(1, 2),
            type: fc.oneof(fc.integer({ min: 0, max: 23 }), fc.nat()),
            tx: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 }), fc.nat()),
            text: fc.array(piece, { maxLength: 12 }).map((p) => p.join("")),
          }),
          { maxLength: 60 },
        ),
        (msgs) => {
          const store = new XenStore({ maxNodesPerDomain: 30 });
          const ts = new StoreToolstack(store);
          const replies = new Map<number, XsMessage[]>([
            [1, []],
            [2, []],
          ]);
          for (const d of [1, 2]) {
            ts.createDomain(d, `d${d}`);
            store.connect(d, (m) => replies.get(d)!.push(m));
          }
          for (const [i, m] of msgs.entries()) {
            const before = replies.get(m.dom)!.filter((r) => r.type !== XsType.WatchEvent).length;
            store.handle(m.dom, {
              type: m.type,
              reqId: i,
              txId: m.tx,
              payload: new TextEncoder().encode(m.text),
            });
            const rs = replies.get(m.dom)!.filter((r) => r.type !== XsType.WatchEvent);
            expect(rs.length).toBe(before + 1);
            const last = rs[rs.length - 1]!;
            expect(last.reqId).toBe(i);
            if (last.type === XsType.Error)
              expect(new TextDecoder().decode(last.payload)).toMatch(/^E[A-Z0-9]+\0$/);
          }
          // Isolation held: neither guest could write outside its home (nothing new under /local/domain/0 or /).
          expect(store.hostDirectory("/").sort()).toEqual(["local"]);
          expect(store.nodesOwnedBy(1)).toBeLessThanOrEqual(30);
        },
      ),
      { numRuns: 200 },
    );
  });
});
