/**
 * netif benchmark: a netfront TS domain streams frames to another through netback and the
 * virtual switch (netfront → netback → switch → netback → netfront), `batch` frames issued
 * together (one push when they fit) and one small ack frame back per batch (flow control, so
 * the receiver's 256 posted buffers never run out). Frame sizes 64 and 1500, batch sizes 1…64.
 * Reports frames per second (wall clock and simulated), event-channel notifications per data
 * frame (all four rings, both vifs, acks included), payload bytes moved by GNTTABOP_copy and
 * copy hypercalls and ops (both back ends, acks included), with simulated cycles and wall time. Rows are "modelled" (TS guests).
 *
 *   node --import tsx bench/net.ts        (one JSON object on stdout)
 */
import { buildFrame, FrameKind, parseFrame } from "../samples/ts-guests/net/frame.js";
import { guestMac, runNet } from "../samples/ts-guests/net/run-net.js";
import { CPU_CLOCK_HZ, costTableHash } from "../src/machine/cost.js";
import type { NetBackend } from "../src/pv-drivers/index.js";

const FRAMES = 256;
const SIZES = [64, 1500];
const BATCHES = [1, 2, 4, 8, 16, 32, 64];

function notifications(b: NetBackend): number {
  return (b.txRing?.counters.notifications ?? 0) + (b.rxRing?.counters.notifications ?? 0);
}

async function row(size: number, batch: number) {
  const r = await runNet({
    guests: [
      {
        workload: async (dev, inbox) => {
          const peer = guestMac(2);
          for (let sent = 0; sent < FRAMES; ) {
            const n = Math.min(batch, FRAMES - sent);
            const sends = [];
            for (let i = 0; i < n; i++)
              sends.push(dev.send(buildFrame(peer, dev.mac, FrameKind.Data, sent + i, size)));
            sent += n;
            await Promise.all(sends);
            await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Pong);
          }
        },
      },
      {
        front: { rxBuffers: 256 },
        pages: 400,
        workload: async (dev, inbox) => {
          const peer = guestMac(1);
          for (let got = 0; got < FRAMES; ) {
            const n = Math.min(batch, FRAMES - got);
            for (let i = 0; i < n; i++) await inbox.next((f) => parseFrame(f)?.kind === FrameKind.Data);
            got += n;
            await dev.send(buildFrame(peer, dev.mac, FrameKind.Pong, got));
          }
        },
      },
    ],
  });
  const [a, b] = r.fronts.map((f) => f.guest);
  if (a!.failure) throw a!.failure;
  if (b!.failure) throw b!.failure;
  if (r.end !== "all-halted") throw new Error(`net bench row ${size}/${batch}: run ended ${r.end}`);
  const ba = r.back.guest.backs.get(1)!;
  const bb = r.back.guest.backs.get(2)!;
  const fa = a!.dev!;
  const fb = b!.dev!;
  const frontNotes =
    (fa.txRing?.counters.notifications ?? 0) +
    (fa.rxRing?.counters.notifications ?? 0) +
    (fb.txRing?.counters.notifications ?? 0) +
    (fb.rxRing?.counters.notifications ?? 0);
  const backNotes = notifications(ba) + notifications(bb);
  const wallMs = a!.timing.wallMs;
  const cycles = a!.timing.cycles;
  return {
    frameBytes: size,
    batch,
    frames: ba.counters.txFrames,
    received: bb.counters.rxFrames,
    dropped: bb.counters.rxDropped,
    wallMs: Math.round(wallMs * 10) / 10,
    cycles,
    wallFramesPerSec: Math.round((FRAMES / wallMs) * 1000),
    simFramesPerSec: Math.round((FRAMES / cycles) * CPU_CLOCK_HZ),
    notificationsPerFrame: (frontNotes + backNotes) / FRAMES,
    notificationsFrontToBackPerFrame: frontNotes / FRAMES,
    notificationsBackToFrontPerFrame: backNotes / FRAMES,
    txBatchesPerFrame: ba.counters.txBatches / FRAMES,
    bytesCopied: ba.counters.bytesCopied + bb.counters.bytesCopied,
    copyHypercalls: ba.copyHypercalls.calls + bb.copyHypercalls.calls,
    copyOps: ba.copyHypercalls.ops + bb.copyHypercalls.ops,
  };
}

export async function benchNet() {
  const rows = [];
  for (const size of SIZES) for (const batch of BATCHES) rows.push(await row(size, batch));
  return {
    bench: "net",
    label: "modelled (TS guests)",
    framesPerRow: FRAMES,
    path: "netfront → netback → switch → netback → netfront (rx-copy, batched GNTTABOP_copy)",
    costTable: costTableHash(),
    rows,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchNet()));
}
