/**
 * Hostile front ends against the NFS back end: bad grant refs, oversized records, reused ids,
 * garbage XDR (fast-check), a stale mapping of a dropped cache page, a write to a read-only
 * cache page. Each gets a precise answer (or, for the write, the crash of the offender) while
 * an honest guest keeps reading correct data from the same back end.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { yieldUntil } from "../../../samples/ts-guests/nfs/nfs-frontend.js";
import { runNfs } from "../../../samples/ts-guests/nfs/run-nfs.js";
import { GrantError } from "../../../src/guest-sdk/index.js";
import {
  AcceptStat,
  authSysBody,
  NFS_PROGRAM,
  NFS_V3,
  NFSIF_MAX_RECORD,
  Nfs3Proc,
  type NfsFrontend,
  NfsifOp,
  type NfsifRequest,
  NfsifStatus,
  readReplyHeader,
  writeCallHeader,
  XdrWriter,
} from "../../../src/pv-drivers/index.js";
import { type PvSandbox, pattern, startPvSandbox } from "./helpers.js";

let sb: PvSandbox;
beforeAll(async () => {
  sb = await startPvSandbox();
  writeFileSync(join(sb.exportDir, "honest.bin"), pattern(20_000, 7));
});
afterAll(async () => {
  await sb?.cleanup();
});

/** A raw request with ids the front end never uses itself (its own count up from 1). */
function rawReq(over: Partial<NfsifRequest>): NfsifRequest {
  return {
    id: 0x40000000,
    operation: NfsifOp.Call,
    nrSegs: 0,
    nrReplySegs: 0,
    flags: 0,
    recordLen: 0,
    replyMax: 4096,
    inline: new Uint8Array(0),
    grefs: [],
    ...over,
  };
}

function getattrRecord(fh: Uint8Array, xid: number): Uint8Array {
  const w = new XdrWriter();
  writeCallHeader(
    w,
    xid,
    NFS_PROGRAM,
    NFS_V3,
    Nfs3Proc.Getattr,
    authSysBody({ uid: 0, gid: 0, machineName: "h" }),
  );
  w.opaqueVar(fh);
  return w.toBytes();
}

/** An honest guest: reads honest.bin `rounds` times, yielding in between; records each verdict. */
function honest(rounds: number, verdicts: boolean[]) {
  const want = pattern(20_000, 7);
  return async (nfs: NfsFrontend) => {
    const { fh } = await nfs.lookup(nfs.root!, "honest.bin");
    for (let i = 0; i < rounds; i++) {
      const got = await nfs.readFile(fh);
      verdicts.push(got.length === want.length && got.every((b, j) => b === want[j]));
      for (let y = 0; y < 5; y++) await nfs.env.hypercalls.schedYield();
    }
  };
}

describe("nfs PV back end against hostile front ends", () => {
  it("bad grant, oversized record, bad segment counts, unknown op, reply too big: precise statuses; the back end goes on", async () => {
    const statuses: Record<string, number> = {};
    let afterwards = false;
    const verdicts: boolean[] = [];
    const r = await runNfs({
      server: sb.server,
      guests: [
        {
          workload: async (nfs) => {
            const rec = getattrRecord(nfs.root!, 1);
            statuses.badGrant = (
              await nfs.raw(rawReq({ id: 0x40000001, nrSegs: 1, recordLen: rec.length, grefs: [4000] }))
            ).status;
            statuses.inlineTooBig = (await nfs.raw(rawReq({ id: 0x40000002, recordLen: 100_000 }))).status;
            statuses.pagesTooSmall = (
              await nfs.raw(rawReq({ id: 0x40000003, nrSegs: 1, recordLen: 5000, grefs: [4000] }))
            ).status;
            statuses.overLimit = (
              await nfs.raw(
                rawReq({
                  id: 0x40000004,
                  nrSegs: 17,
                  recordLen: NFSIF_MAX_RECORD + 1,
                  grefs: Array(17).fill(9),
                }),
              )
            ).status;
            statuses.tooManySegs = (
              await nfs.raw(rawReq({ id: 0x40000005, nrSegs: 40, recordLen: 5000, grefs: Array(40).fill(9) }))
            ).status;
            statuses.unknownOp = (
              await nfs.raw(rawReq({ id: 0x40000006, operation: 9, recordLen: 4 }))
            ).status;
            statuses.empty = (await nfs.raw(rawReq({ id: 0x40000007, recordLen: 0 }))).status;
            // A LOOKUP reply (> 164 bytes) with no reply pages and reply_max 164.
            const w = new XdrWriter();
            writeCallHeader(
              w,
              2,
              NFS_PROGRAM,
              NFS_V3,
              Nfs3Proc.Lookup,
              authSysBody({ uid: 0, gid: 0, machineName: "h" }),
            );
            w.opaqueVar(nfs.root!).string("honest.bin");
            const lk = w.toBytes();
            statuses.replyTooBig = (
              await nfs.raw(rawReq({ id: 0x40000008, recordLen: lk.length, inline: lk, replyMax: 164 }))
            ).status;
            // Still served.
            afterwards = (await nfs.getattr(nfs.root!)).type === 2;
          },
        },
        { workload: honest(3, verdicts) },
      ],
    });
    expect(r.end).toBe("all-halted");
    expect(statuses).toEqual({
      badGrant: NfsifStatus.BadGrant,
      inlineTooBig: NfsifStatus.TooBig,
      pagesTooSmall: NfsifStatus.TooBig,
      overLimit: NfsifStatus.TooBig,
      tooManySegs: NfsifStatus.Invalid,
      unknownOp: NfsifStatus.NotSupported,
      empty: NfsifStatus.Invalid,
      replyTooBig: NfsifStatus.ReplyTooBig,
    });
    expect(afterwards).toBe(true);
    expect(verdicts).toEqual([true, true, true]);
    for (const b of r.back.guest.backs.values()) expect(b.error).toBeNull();
  });

  it("garbage records (fast-check): an RPC reply or NFSIF_RSP_ENODATA, never a broken back end", async () => {
    const outcomes = { replies: 0, dropped: 0, garbageArgs: 0, other: [] as string[] };
    const verdicts: boolean[] = [];
    const r = await runNfs({
      server: sb.server,
      guests: [
        {
          workload: async (nfs) => {
            // Any bytes, inline or in pages.
            await fc.assert(
              fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 600 }), async (bytes) => {
                const { status, reply } = await nfs.sendRecord(bytes, 1);
                if (status === NfsifStatus.NoReply) outcomes.dropped++;
                else if (status === NfsifStatus.Okay && reply !== null) {
                  const h = readReplyHeader(reply);
                  if (h.kind === "malformed") outcomes.other.push("malformed reply");
                  else if (h.xid !== new DataView(bytes.buffer).getUint32(0, false))
                    outcomes.other.push("xid");
                  else outcomes.replies++;
                } else outcomes.other.push(`status ${status}`);
              }),
              { numRuns: 60 },
            );
            // Well-formed NFS GETATTR headers with garbage arguments.
            const body = authSysBody({ uid: 0, gid: 0, machineName: "h" });
            await fc.assert(
              fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (args) => {
                const w = new XdrWriter();
                writeCallHeader(w, 77, NFS_PROGRAM, NFS_V3, Nfs3Proc.Getattr, body);
                w.opaqueFixed(args);
                const { status, reply } = await nfs.sendRecord(
                  w.toBytes().subarray(0, w.length - ((4 - (args.length % 4)) % 4)),
                  1,
                );
                const h = status === NfsifStatus.Okay && reply ? readReplyHeader(reply) : null;
                if (h?.kind === "accepted" && h.acceptStat === AcceptStat.GarbageArgs) outcomes.garbageArgs++;
                else if (h?.kind === "accepted" && h.acceptStat === AcceptStat.Success) outcomes.replies++;
                else outcomes.other.push(`garbage args: status ${status} ${h?.kind}`);
              }),
              { numRuns: 40 },
            );
            verdicts.push((await nfs.getattr(nfs.root!)).type === 2);
          },
        },
        { workload: honest(3, verdicts) },
      ],
    });
    expect(r.end).toBe("all-halted");
    expect(outcomes.other).toEqual([]);
    expect(outcomes.replies + outcomes.dropped).toBeGreaterThanOrEqual(60);
    expect(outcomes.garbageArgs).toBeGreaterThan(0);
    expect(verdicts).toEqual([true, true, true, true]);
  });

  it("random request headers (fast-check): every one is answered with OKAY or a precise NFSIF_RSP_* status", async () => {
    const allowed = new Set<number>(Object.values(NfsifStatus));
    const bad: string[] = [];
    let answered = 0;
    const verdicts: boolean[] = [];
    const r = await runNfs({
      server: sb.server,
      guests: [
        {
          workload: async (nfs) => {
            const rec = getattrRecord(nfs.root!, 9);
            let id = 0x50000000;
            await fc.assert(
              fc.asyncProperty(
                fc.record({
                  operation: fc.oneof(fc.constant(NfsifOp.Call), fc.nat({ max: 255 })),
                  nrSegs: fc.nat({ max: 255 }),
                  nrReplySegs: fc.nat({ max: 255 }),
                  flags: fc.oneof(fc.constant(0), fc.nat({ max: 255 })),
                  recordLen: fc.oneof(fc.constant(rec.length), fc.nat({ max: 0xffffffff })),
                  replyMax: fc.nat({ max: 0xffffffff }),
                  grefs: fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 58 }),
                  inline: fc.boolean(),
                }),
                async (h) => {
                  const req = rawReq({ ...h, id: id++, inline: h.inline ? rec : new Uint8Array(0) });
                  const rsp = await nfs.raw(req);
                  answered++;
                  if (!allowed.has(rsp.status)) bad.push(`status ${rsp.status}`);
                },
              ),
              { numRuns: 80 },
            );
            verdicts.push((await nfs.getattr(nfs.root!)).type === 2);
          },
        },
        { workload: honest(2, verdicts) },
      ],
    });
    expect(r.end).toBe("all-halted");
    expect(bad).toEqual([]);
    expect(answered).toBeGreaterThanOrEqual(80);
    expect(verdicts).toEqual([true, true, true]);
    for (const b of r.back.guest.backs.values()) expect(b.error).toBeNull();
  });

  it("a reused request id gets NFSIF_RSP_EBUSY while the first request is answered normally", async () => {
    const statuses: number[] = [];
    const verdicts: boolean[] = [];
    await runNfs({
      server: sb.server,
      guests: [
        {
          workload: async (nfs) => {
            const async = nfs.ring!;
            async.shutdown(); // drive the synchronous ring by hand from here on
            const ring = async.ring;
            const rec = getattrRecord(nfs.root!, 5);
            const req = rawReq({ id: 0x40000010, recordLen: rec.length, inline: rec });
            ring.writeRequest(req);
            ring.writeRequest(req);
            if (ring.pushRequestsAndCheckNotify()) nfs.channel!.notify();
            await yieldUntil(nfs, () => ring.unconsumedResponses() >= 2);
            statuses.push(ring.takeResponse().status, ring.takeResponse().status);
          },
        },
        { workload: honest(2, verdicts) },
      ],
    });
    expect(statuses.sort((a, b) => a - b)).toEqual([NfsifStatus.IdInUse, NfsifStatus.Okay]);
    expect(verdicts).toEqual([true, true]);
  });

  it("a mapping kept after invalidation shows the old bytes, never newer ones; the grant is read-only (remap refused, a write crashes the writer)", async () => {
    const oldData = pattern(4096, 8);
    const newData = pattern(4096, 9);
    writeFileSync(join(sb.exportDir, "stale.bin"), oldData);
    let phase = 0;
    const seen: Record<string, unknown> = {};
    const r = await runNfs({
      server: sb.server,
      guests: [
        {
          workload: async (nfs) => {
            const { fh } = await nfs.lookup(nfs.root!, "stale.bin");
            await nfs.readFile(fh);
            const [entry] = [...nfs.pageCache.values()];
            if (entry?.kind !== "map") throw new Error("expected a mapped cache page");
            phase = 1;
            await yieldUntil(nfs, () => phase === 2);
            // B rewrote the file: our old mapping still shows the old bytes.
            const mem = nfs.env.ctx.mem;
            seen.staleView = mem.readBytes(entry.mapping.pfn * 4096, 4096);
            seen.writableMap = await nfs.env.grants.map(nfs.backendId, entry.ref, false).then(
              () => "mapped",
              (e) => (e instanceof GrantError ? `GrantError ${e.status}` : String(e)),
            );
            seen.reread = await nfs.readFile(fh);
            const [fresh] = [...nfs.pageCache.values()];
            if (fresh?.kind !== "map") throw new Error("expected a mapped cache page");
            seen.remapped = fresh.ref !== entry.ref;
            phase = 3;
            mem.write8(fresh.mapping.pfn * 4096, 0xff); // crashes this domain
            seen.wrote = true;
          },
        },
        {
          workload: async (nfs) => {
            await yieldUntil(nfs, () => phase === 1);
            const { fh } = await nfs.lookup(nfs.root!, "stale.bin");
            await nfs.write(fh, 0, newData);
            phase = 2;
            await yieldUntil(nfs, () => phase === 3);
            for (let y = 0; y < 10; y++) await nfs.env.hypercalls.schedYield();
            seen.afterCrash = await nfs.readFile(fh);
          },
        },
      ],
    });
    expect(seen.staleView).toEqual(oldData);
    expect(seen.writableMap).toBe("GrantError -1"); // GNTST_general_error: write pin of a read-only grant
    expect(seen.reread).toEqual(newData);
    expect(seen.remapped).toBe(true);
    expect(seen.wrote).toBeUndefined();
    const a = r.fronts[0]!.domain;
    expect(a.state).toBe("crashed");
    expect(a.crashDiagnostic).toMatch(/write to read-only pfn/);
    expect(seen.afterCrash).toEqual(newData);
    expect(r.fronts[1]!.guest.failure).toBeNull();
  });
});
