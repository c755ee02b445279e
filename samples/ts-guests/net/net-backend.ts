/**
 * The netback driver domain as a TypeScript guest: one NetBackend per front end, all plugged
 * into one VirtualSwitch. With `startSignal`, once every vif is attached and its front end has
 * posted receive buffers, a host bridge port broadcasts a START frame (the sample's "subnet is
 * up"), so guests never send into a not-yet-listening peer.
 */
import { createPvEnv, type GuestContext, type TsGuest } from "../../../src/guest-sdk/index.js";
import { NetBackend, type NetBackendOptions, type VirtualSwitch } from "../../../src/pv-drivers/index.js";
import { BROADCAST, buildFrame, FrameKind } from "./frame.js";

/** MAC of the host bridge port (locally administered). */
export const BRIDGE_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x01);

export class NetBackGuest implements TsGuest {
  readonly name = "netback";
  readonly backs = new Map<number, NetBackend>();

  constructor(
    readonly sw: VirtualSwitch,
    private readonly frontends: readonly number[],
    private readonly opts: NetBackendOptions = {},
    private readonly startSignal = true,
  ) {}

  async main(ctx: GuestContext): Promise<void> {
    const env = await createPvEnv(ctx);
    for (const fe of this.frontends) this.backs.set(fe, new NetBackend(env, fe, this.sw, this.opts));
    const backs = [...this.backs.values()];
    const connected = await Promise.allSettled(backs.map((b) => b.connect()));
    if (this.startSignal) {
      const bridge = this.sw.attachHost("bridge", () => undefined);
      const live = backs.filter((_, i) => connected[i]!.status === "fulfilled");
      // Poll (yielding) until every live front end has posted its receive buffers.
      for (let spins = 0; spins < 100_000; spins++) {
        if (live.every((b) => !b.attached || b.rxBuffersPosted > 0)) break;
        await env.hypercalls.schedYield();
      }
      bridge.transmit(buildFrame(BROADCAST, BRIDGE_MAC, FrameKind.Start, 0));
    }
    await Promise.allSettled(backs.map((b) => b.closed));
  }
}
