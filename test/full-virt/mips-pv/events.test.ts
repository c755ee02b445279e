/**
 * Event upcalls into a MIPS PV domain (docs/mips-pv-abi.md "Upcall entry"): the pv-events
 * sample checks Xen's delivery rules from inside the guest (timer VIRQ after SCHEDOP_block, an
 * IPI on return from EVTCHNOP_send, evtchn_upcall_mask and port masks deferring delivery); the
 * monitor's side is checked here — counts, where the upcall lands, isolation, and a bad entry.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MONITOR_CYCLE_LIMIT } from "../../../src/cli/commands/run-full.js";
import { Hypercall } from "../../../src/hypercalls/index.js";
import { runFullVirt } from "../../../src/hypervisor/index.js";
import { requires } from "../../setup/requires.js";
import { CODE, hyp, newAsm, pvGuest, pvImage, runPv, shutdown } from "./guest.js";

const ELF = "samples/guests/mips/pv-events/pv-events.elf";
const EXPECTED = [
  "pv-events: timer upcalls after SCHEDOP_block 5/5 ok",
  "pv-events: ipi upcall on return from EVTCHNOP_send 1/1 ok",
  "pv-events: ipi held while evtchn_upcall_mask is set 1/1 ok",
  "pv-events: ipi delivered after unmask + hypercall 2/2 ok",
  "pv-events: ipi held while its port is masked 2/2 ok",
  "pv-events: ipi delivered by EVTCHNOP_unmask 3/3 ok",
  "pv-events: stray events 0/0 ok",
  "pv-events: upcalls in all 8/8 ok",
];

describe("MIPS PV: event upcalls", () => {
  it("pv-events.elf passes every delivery check, twice side by side with a full domain, under the oracle", async () => {
    const bytes = new Uint8Array(readFileSync(ELF));
    const lines: string[] = [];
    const res = await runFullVirt(
      [
        { name: "a", file: ELF, bytes, pv: true },
        { name: "b", file: ELF, bytes, pv: true },
        {
          name: "hello",
          file: "hello.elf",
          bytes: new Uint8Array(readFileSync("samples/guests/mips/hello.elf")),
        },
      ],
      { out: (l) => lines.push(l), ramMib: 4, machineMib: 64, oracle: true, maxCycles: 200_000_000 },
    );
    for (const name of ["a", "b"]) {
      expect(lines.filter((l) => l.startsWith(`[${name}] `)).map((l) => l.slice(name.length + 3))).toEqual(
        EXPECTED,
      );
      const d = res.domains.find((x) => x.name === name)!;
      expect(d.state, d.diagnostic ?? "").toBe("shutdown");
    }
    expect(lines).toContain("[hello] Hello from a pvkit guest (mips)");
    for (const v of res.vcpus.slice(0, 2)) {
      expect(v.pv!.counts.upcalls).toBe(8);
      expect(v.host.stats.upcalls).toBe(8); // the domain's statistics stream
    }
    expect(res.vcpus[2]!.host.stats.upcalls).toBe(0);
  });

  it("--trace events shows each upcall after the raise that caused it", async () => {
    const bytes = new Uint8Array(readFileSync(ELF));
    const trace: string[] = [];
    const res = await runFullVirt([{ name: "a", file: ELF, bytes, pv: true }], {
      out: () => {},
      ramMib: 4,
      machineMib: 32,
      trace: { kinds: "events", write: (l) => trace.push(l) },
    });
    expect(res.domains[0]!.state).toBe("shutdown");
    const upcalls = trace.filter((l) => l.endsWith("d0 evtchn upcall"));
    expect(upcalls).toHaveLength(8);
    // The first: the timer's VIRQ raised, then delivered.
    const first = trace.findIndex((l) => l.endsWith("d0 evtchn upcall"));
    expect(trace[first - 1]).toMatch(/d0 evtchn raise port \d+$/);
  });

  it("an upcall entry outside the domain's ksseg memory crashes only that domain, with a diagnostic", async () => {
    const a = newAsm(CODE);
    hyp(a, Hypercall.set_callbacks, 0x80001000); // kseg0: not where a PV kernel runs
    // EVTCHNOP_bind_virq with a zeroed struct evtchn_bind_virq (virq = VIRQ_TIMER, vcpu 0) at
    // guest-physical 0x12e00, a timer 1 µs ahead, SCHEDOP_block: the timer's event is the upcall.
    hyp(a, Hypercall.event_channel_op, 1, 0x12e00);
    hyp(a, Hypercall.set_timer_op, 0x100000, 0);
    hyp(a, Hypercall.sched_op, 1, 0);
    shutdown(a, "end");
    const { res } = await runPv([pvGuest("bad", pvImage(a))]);
    const d = res.domains[0]!;
    expect(d.state).toBe("crashed");
    expect(d.diagnostic).toMatch(/event upcall entry 0x80001000 is not a ksseg address/);
  });
});

describe("MIPS PV: a domain blocked with nothing to wake it", () => {
  // A hang here (the test's timeout) would mean the scheduler steps through the idle time.
  it("ends the run at the cycle limit (the clock skips to each CP0 timer wrap)", async () => {
    const a = newAsm(CODE);
    hyp(a, Hypercall.sched_op, 1, 0); // SCHEDOP_block, no event source armed
    shutdown(a, "end");
    const res = await runFullVirt([pvGuest("sleeper", pvImage(a))], {
      out: () => {},
      ramMib: 4,
      machineMib: 32,
      maxCycles: MONITOR_CYCLE_LIMIT,
    });
    expect(res.end).toBe("cycle-limit");
    expect(res.domains[0]!.state).not.toBe("crashed");
    expect(res.domains[0]!.exitValue).toBeNull();
  });
});

const hasMipsGcc = spawnSync("mipsel-linux-gnu-gcc", ["--version"]).status === 0;

describe.skipIf(!hasMipsGcc)(requires("pv-events build", hasMipsGcc, "mipsel-linux-gnu-gcc"), () => {
  it("rebuilds a byte-identical ELF", () => {
    const dir = mkdtempSync(join(tmpdir(), "pvkit-mips-pv-events-"));
    try {
      cpSync("samples/guests", dir, { recursive: true });
      const r = spawnSync("bash", [join(dir, "mips/pv-events/build.sh")], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const rebuilt = readFileSync(join(dir, "mips/pv-events/pv-events.elf"));
      expect(Buffer.compare(rebuilt, readFileSync(ELF)), "pv-events.elf differs from its rebuild").toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
