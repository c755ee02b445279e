import { describe, expect, it } from "vitest";
import { runEcho } from "../../samples/ts-guests/echo/run-echo.js";
import { parseTraceKinds, startTraces } from "../../src/hypervisor/index.js";
import { formatEventChannels, formatGrantTable } from "../../src/hypervisor/pv-core/index.js";

describe("--trace and table dumps", () => {
  it("parses trace kinds and rejects typos", () => {
    expect(parseTraceKinds("hypercalls,rings")).toEqual(["hypercalls", "rings"]);
    expect(new Set(parseTraceKinds("all"))).toEqual(
      new Set(["hypercalls", "events", "grants", "store", "rings"]),
    );
    expect(() => parseTraceKinds("hypercall")).toThrow(/unknown trace kind "hypercall"/);
  });

  it("traces hypercalls, events, rings, grants and the store of the echo run", async () => {
    const lines: string[] = [];
    let stop = () => {};
    let grantDump = "";
    let evtDump = "";
    await runEcho(["a", "b", "c", "d"], 4, (hv, pv) => {
      stop = startTraces(hv, "all", (l) => {
        lines.push(l);
        // Snapshot the tables while the ring is mapped (at the back end's first drain).
        if (!grantDump && / ring backend drain /.test(l)) {
          grantDump = formatGrantTable(1, pv.grants.dump(1));
          evtDump = formatEventChannels(hv, hv.domain(1)!);
        }
      });
    });
    stop();
    const text = lines.join("\n");
    expect(text).toMatch(/^\[\s*\d+\] d1 grant_table_op\(setup_table, 0x[0-9a-f]+, 0x1(, 0x0)*\) = 0$/m);
    expect(text).toMatch(/d0 grant map ref \d+ of d1 -> handle 0 \(okay\)/);
    expect(text).toMatch(/d1 event_channel_op\(alloc_unbound, 0x[0-9a-f]+, 0x1(, 0x0)*\) = 0/);
    expect(text).toMatch(/d1 evtchn send port \d+/);
    expect(text).toMatch(/d1 ring frontend push 4 \(prod 4, cons 0\) notify/);
    expect(text).toMatch(/d0 ring backend push 4 \(prod 4, cons 4\) notify/);
    expect(text).toMatch(/d0 ring backend drain 4 \(prod 4, cons 4\)/);
    expect(text).toMatch(/d1 store TRANSACTION_END T \[tx \d+\] OK/);
    expect(text).toMatch(/d0 grant unmap handle 0 \(ref \d+ of d1\) \(okay\)/);
    expect(grantDump).toMatch(/grant table of d1: 1 entries in use/);
    expect(grantDump).toMatch(/0x0019\s+0\s+0x[0-9a-f]+\s+0,1/); // permit_access|reading|writing, pinned writable once
    expect(evtDump).toMatch(/interdomain\s+xen/); // the store port
    expect(evtDump).toMatch(/interdomain\s+d0:\d+/); // the ring's port
  });
});
