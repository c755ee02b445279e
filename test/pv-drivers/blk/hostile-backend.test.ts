/**
 * A hostile back end: it answers a blkif request with an id nobody asked for. blkfront must
 * reject the I/O with the back end's RingProtocolError (not resolve some other request), refuse
 * later I/O on the broken ring, and still disconnect cleanly.
 */
import { describe, expect, it } from "vitest";
import { BlkFrontGuest } from "../../../samples/ts-guests/blk/blk-frontend.js";
import { createPvEnv, RingBackend, RingProtocolError, type TsGuest } from "../../../src/guest-sdk/index.js";
import { Hypervisor, installPvCore, launchTsGuest } from "../../../src/hypervisor/index.js";
import { PhysicalMemory } from "../../../src/machine/index.js";
import {
  BLKIF_ABI_X86_32,
  type BlkifRequest,
  type BlkifResponse,
  blkifProtocol,
} from "../../../src/pv-drivers/index.js";

/** Publishes a 64-sector disk, then lies about response ids. */
class LyingBackend extends RingBackend<BlkifRequest, BlkifResponse> {
  protected override async advertise(): Promise<Record<string, string>> {
    return { sectors: "64", "sector-size": "512", info: "0" };
  }
}

describe("hostile back end", () => {
  it("a response for an unknown id fails the I/O with the back end's protocol error", async () => {
    const hv = new Hypervisor({ memory: new PhysicalMemory(8 << 20) });
    const pv = installPvCore(hv);
    const backGuest: TsGuest = {
      name: "liar",
      main: async (ctx) => {
        const env = await createPvEnv(ctx);
        const back = new LyingBackend(env, "vbd", 1, 0, blkifProtocol(BLKIF_ABI_X86_32), (ring) => {
          ring.requests$.subscribe((req) =>
            ring.respond({ id: req.id + 7, operation: req.operation, status: 0 }),
          );
        });
        await back.connect();
        await back.closed;
      },
    };
    const errors: unknown[] = [];
    const front = new BlkFrontGuest(async (disk) => {
      errors.push(await disk.read(0, 8).catch((e: unknown) => e));
      errors.push(await disk.write(0, new Uint8Array(512)).catch((e: unknown) => e));
    });
    launchTsGuest(hv, backGuest, { privileged: true, paused: true, pages: 64 });
    launchTsGuest(hv, front, { paused: true, pages: 128 });
    pv.storeService.toolstack.addDevice({ type: "vbd", frontend: 1, backend: 0, devid: 0 });
    hv.unpause(0);
    hv.unpause(1);
    expect(await hv.run(5e9)).toBe("all-halted");
    expect(errors[0]).toBeInstanceOf(RingProtocolError);
    expect((errors[0] as Error).message).toBe(
      "ring protocol error by the backend: response for unknown request id 7",
    );
    expect(errors[1]).toBe(errors[0]); // the ring stays broken: later I/O fails with the same error
    expect(hv.domain(1)?.state).toBe("shutdown");
    expect(pv.grants.mappingsOf(0)).toBe(0);
  });
});
