/**
 * Provider of the `NetPath` role for the `pv` profile: two netfront TypeScript domains through
 * netback and the virtual switch in a driver domain (samples/ts-guests/net `runNet`, as
 * bench/net.ts does). Rows are "modelled" (TS guests, DESIGN.md "Guests").
 */
import { buildFrame, FrameKind, parseFrame } from "../../samples/ts-guests/net/frame.js";
import type { NetDeviceWorkload } from "../../samples/ts-guests/net/net-frontend.js";
import { guestMac, pinger, ponger, runNet } from "../../samples/ts-guests/net/run-net.js";
import type { CellFigures } from "./types.js";

export interface NetJob {
  /** stream: `frames` data frames in batches of `batch`, one ack per batch; rr: ping-pong. */
  readonly kind: "stream" | "rr";
  readonly frames: number;
  readonly frameBytes: number;
  readonly batch: number;
}

/** The role: run a network job between two guests and measure it. */
export interface NetPath {
  run(job: NetJob): Promise<CellFigures>;
}

/**
 * The job itself, the same on every path: the sender (guest 1) and the receiver (guest 2), over
 * any NetDevice. stream: batches of `batch` data frames, one ack (pong) per batch; rr: ping-pong.
 */
export function netJobWorkloads(job: NetJob): { sender: NetDeviceWorkload; receiver: NetDeviceWorkload } {
  const sender: NetDeviceWorkload =
    job.kind === "rr"
      ? pinger(guestMac(2), job.frames, job.frameBytes)
      : async (dev, inbox) => {
          const peer = guestMac(2);
          for (let sent = 0; sent < job.frames; ) {
            const n = Math.min(job.batch, job.frames - sent);
            const sends = [];
            for (let i = 0; i < n; i++)
              sends.push(dev.send(buildFrame(peer, dev.mac, FrameKind.Data, sent + i, job.frameBytes)));
            sent += n;
            await Promise.all(sends);
            await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Pong);
          }
        };
  const receiver: NetDeviceWorkload =
    job.kind === "rr"
      ? ponger(job.frames)
      : async (dev, inbox) => {
          const peer = guestMac(1);
          for (let got = 0; got < job.frames; ) {
            const n = Math.min(job.batch, job.frames - got);
            for (let i = 0; i < n; i++) await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Data);
            got += n;
            await dev.send(buildFrame(peer, dev.mac, FrameKind.Pong, got));
          }
        };
  return { sender, receiver };
}

export class PvNetPath implements NetPath {
  async run(job: NetJob): Promise<CellFigures> {
    const { sender, receiver } = netJobWorkloads(job);
    const r = await runNet({
      guests: [{ workload: sender }, { front: { rxBuffers: 256 }, pages: 400, workload: receiver }],
    });
    const [a, b] = r.fronts.map((f) => f.guest);
    if (a!.failure) throw a!.failure;
    if (b!.failure) throw b!.failure;
    if (r.end !== "all-halted") throw new Error(`net ${job.kind}: run ended ${r.end}`);
    let notifications = 0;
    let bytesCopied = 0;
    for (const back of r.back.guest.backs.values()) {
      notifications +=
        (back.txRing?.counters.notifications ?? 0) + (back.rxRing?.counters.notifications ?? 0);
      bytesCopied += back.counters.bytesCopied;
    }
    for (const g of [a!, b!])
      notifications +=
        (g.dev?.txRing?.counters.notifications ?? 0) + (g.dev?.rxRing?.counters.notifications ?? 0);
    let hypercalls = 0;
    for (const d of [r.back.domain, ...r.fronts.map((f) => f.domain)])
      for (const n of d.stats.hypercallsByNumber) hypercalls += n;
    return {
      cycles: a!.timing.cycles,
      hypercalls,
      notifications,
      bytesCopied,
      bytesMapped: 0,
      wallMs: a!.timing.wallMs,
    };
  }
}
