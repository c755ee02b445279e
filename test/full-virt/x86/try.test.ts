import { expect, it } from "vitest";
import { loadSample, makeMachine } from "./harness.js";

it("hello", () => {
  const m = makeMachine(64);
  const d = m.addDomain({ scan: process.env.NOSCAN ? false : true });
  loadSample(d, process.env.G ?? "samples/guests/x86/hello.elf");
  const t0 = Date.now();
  m.run(Number(process.env.C ?? 2e8));
  console.log(
    JSON.stringify(
      {
        out: d.output,
        crash: d.crash,
        exit: d.exit,
        st: d.vcpu.stats.toJSON(),
        ms: Date.now() - t0,
        cyc: m.clock.cycles,
      },
      null,
      1,
    ),
  );
  expect(1).toBe(1);
}, 120000);
