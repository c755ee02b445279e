/**
 * Runs the echo pair on one simulated machine: the toolstack's part (create the two domains,
 * write the device entries), then the scheduler until both power off.
 *
 *   npx tsx samples/ts-guests/echo/run-echo.ts
 */
import { Hypervisor, launchTsGuest } from "../../../src/hypervisor/index.js";
import { installPvCore, type PvCore } from "../../../src/hypervisor/pv-core/index.js";
import { PhysicalMemory } from "../../../src/machine/index.js";
import { EchoBackGuest } from "./echo-backend.js";
import { EchoFrontGuest } from "./echo-frontend.js";

export async function runEcho(
  messages: readonly string[],
  batch = 8,
  /** Called with the machine before the guests start (tracing, extra store entries). */
  before?: (hv: Hypervisor, pv: PvCore) => void,
  /** `oracle`: check every guest access against page ownership (test mode). */
  opts: { oracle?: boolean } = {},
) {
  const hv = new Hypervisor({ memory: new PhysicalMemory(4 << 20), oracle: opts.oracle ?? false });
  const pv = installPvCore(hv);
  const backGuest = new EchoBackGuest(1);
  const frontGuest = new EchoFrontGuest(messages, batch);
  const back = launchTsGuest(hv, backGuest, { privileged: true, paused: true, pages: 32 });
  const front = launchTsGuest(hv, frontGuest, { paused: true, pages: 32 });
  pv.storeService.toolstack.addDevice({
    type: "echo",
    frontend: front.domain.domid,
    backend: back.domain.domid,
    devid: 0,
  });
  before?.(hv, pv);
  hv.unpause(back.domain.domid);
  hv.unpause(front.domain.domid);
  const end = await hv.run(5_000_000_000);
  return { hv, pv, end, front, back, frontGuest, backGuest };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runEcho(["hello", "paravirtual", "world"]);
  for (const line of r.frontGuest.replies) console.log(line);
  console.log(`run ended: ${r.end}; front ${r.front.domain.state}, back ${r.back.domain.state}`);
}
