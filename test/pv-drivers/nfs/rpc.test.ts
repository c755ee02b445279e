import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AcceptStat,
  AuthStat,
  encodeRecord,
  MOUNT_PROGRAM,
  NFS_MAX_RECORD_BYTES,
  NFS_PROGRAM,
  PMAP_PROGRAM,
  RecordMarkingDecoder,
  RejectStat,
  XdrReader,
  XdrWriter,
} from "../../../src/pv-drivers/index.js";
import { makeSandbox, type Running, type Sandbox, startServer } from "./helpers/fixture.js";
import { decodeReply, encodeCall, RpcClient } from "./helpers/rpc-client.js";

describe("XDR codec", () => {
  it("round-trips and pads", () => {
    const w = new XdrWriter(4);
    w.u32(0xdeadbeef)
      .i32(-2)
      .u64(2 ** 40 + 5)
      .u64(0xffffffffffffffffn)
      .bool(true)
      .string("héllo")
      .opaqueVar(new Uint8Array([1, 2, 3]));
    const b = w.toBytes();
    expect(b.length).toBe(4 + 4 + 8 + 8 + 4 + (4 + 8) + (4 + 4));
    const r = new XdrReader(b);
    expect(r.u32()).toBe(0xdeadbeef);
    expect(r.i32()).toBe(-2);
    expect(r.u64()).toBe(2 ** 40 + 5);
    expect(r.u64big()).toBe(0xffffffffffffffffn);
    expect(r.bool()).toBe(true);
    expect(r.string(255)).toBe("héllo");
    expect([...r.opaqueVar(8)]).toEqual([1, 2, 3]);
    expect(r.ok).toBe(true);
    expect(r.remaining).toBe(0);
  });

  it("fails softly on truncation, bad bools, over-long strings and bad UTF-8", () => {
    const okAfter = (bytes: Uint8Array, read: (r: XdrReader) => unknown): boolean => {
      const r = new XdrReader(bytes);
      read(r);
      return r.ok;
    };
    expect(okAfter(new Uint8Array(3), (r) => r.u32())).toBe(false);
    expect(okAfter(new Uint8Array([0, 0, 0, 2]), (r) => r.bool())).toBe(false);
    expect(okAfter(new XdrWriter().string("x".repeat(300)).toBytes(), (r) => r.string(255))).toBe(false);
    const badUtf = new XdrWriter().opaqueVar(new Uint8Array([0xff, 0xfe])).toBytes();
    expect(okAfter(badUtf, (r) => r.string(255))).toBe(false);
    // A huge declared length must not allocate or read past the end.
    expect(okAfter(new Uint8Array([0xff, 0xff, 0xff, 0xff]), (r) => r.opaqueVar(0xffffffff))).toBe(false);
    expect(
      okAfter(new Uint8Array([0xff, 0xff, 0xff, 0xfd, 1, 2, 3, 4]), (r) => r.opaqueVar(0xffffffff)),
    ).toBe(false);
  });
});

describe("record marking", () => {
  it("reassembles multi-fragment records split at arbitrary byte boundaries", () => {
    const rec = new Uint8Array(1000).map((_, i) => i & 0xff);
    const framed = new Uint8Array([...encodeRecord(rec, 97), ...encodeRecord(new Uint8Array([7, 7, 7, 7]))]);
    const d = new RecordMarkingDecoder(4096);
    const out: Uint8Array[] = [];
    for (let i = 0; i < framed.length; i += 13) out.push(...d.push(framed.subarray(i, i + 13)).records);
    expect(out.length).toBe(2);
    expect([...out[0]!]).toEqual([...rec]);
    expect([...out[1]!]).toEqual([7, 7, 7, 7]);
  });

  it("rejects a record above the limit, counting all fragments", () => {
    const d = new RecordMarkingDecoder(100);
    const res = d.push(encodeRecord(new Uint8Array(150), 60));
    expect(res.error).toMatch(/larger than 100/);
  });
});

describe("ONC RPC over TCP", () => {
  let sb: Sandbox;
  let srv: Running;
  beforeAll(async () => {
    sb = await makeSandbox();
    srv = await startServer(sb);
  });
  afterAll(async () => {
    await srv.stop();
    await sb.cleanup();
  });

  it("answers NULL with AUTH_NONE and AUTH_SYS", async () => {
    const a = await srv.rpc.call(NFS_PROGRAM, 3, 0, undefined, { kind: "none" });
    expect([a.replyStat, a.acceptStat]).toEqual([0, AcceptStat.Success]);
    const b = await srv.rpc.call(NFS_PROGRAM, 3, 0);
    expect([b.replyStat, b.acceptStat]).toEqual([0, AcceptStat.Success]);
    expect(b.r.remaining).toBe(0);
  });

  it("RPC_MISMATCH for rpcvers != 2 with the supported range", async () => {
    const xid = srv.rpc.nextXid();
    const rep = decodeReply(
      await srv.rpc.sendRecord(
        encodeCall(xid, NFS_PROGRAM, 3, 0, () => {}, undefined, 3),
        xid,
      ),
    );
    expect([rep.xid, rep.replyStat, rep.rejectStat]).toEqual([xid, 1, RejectStat.RpcMismatch]);
    expect([rep.r.u32(), rep.r.u32()]).toEqual([2, 2]);
  });

  it("PROG_UNAVAIL, PROG_MISMATCH (with range) and PROC_UNAVAIL", async () => {
    expect((await srv.rpc.call(100099, 1, 0)).acceptStat).toBe(AcceptStat.ProgUnavail);
    const mm = await srv.rpc.call(NFS_PROGRAM, 4, 0);
    expect(mm.acceptStat).toBe(AcceptStat.ProgMismatch);
    expect([mm.r.u32(), mm.r.u32()]).toEqual([3, 3]);
    const mm2 = await srv.rpc.call(MOUNT_PROGRAM, 1, 0);
    expect(mm2.acceptStat).toBe(AcceptStat.ProgMismatch);
    expect([mm2.r.u32(), mm2.r.u32()]).toEqual([3, 3]);
    expect((await srv.rpc.call(NFS_PROGRAM, 3, 22)).acceptStat).toBe(AcceptStat.ProcUnavail);
    expect((await srv.rpc.call(MOUNT_PROGRAM, 3, 6)).acceptStat).toBe(AcceptStat.ProcUnavail);
  });

  it("GARBAGE_ARGS for truncated or malformed arguments", async () => {
    expect((await srv.rpc.call(NFS_PROGRAM, 3, 1, (w) => w.u32(100))).acceptStat).toBe(
      AcceptStat.GarbageArgs,
    );
    expect((await srv.rpc.call(NFS_PROGRAM, 3, 3, (w) => w.opaqueVar(srv.root))).acceptStat).toBe(
      AcceptStat.GarbageArgs,
    );
    // WRITE with stable_how = 7
    const bad = await srv.rpc.call(NFS_PROGRAM, 3, 7, (w) =>
      w.opaqueVar(srv.root).u64(0).u32(1).u32(7).opaqueVar(new Uint8Array(1)),
    );
    expect(bad.acceptStat).toBe(AcceptStat.GarbageArgs);
    expect((await srv.rpc.call(MOUNT_PROGRAM, 3, 1, (w) => w.u32(5000))).acceptStat).toBe(
      AcceptStat.GarbageArgs,
    );
  });

  it("AUTH_ERROR for unsupported flavours and malformed AUTH_SYS", async () => {
    const gss = await srv.rpc.call(NFS_PROGRAM, 3, 0, undefined, {
      kind: "raw",
      flavor: 6,
      body: new Uint8Array(8),
    });
    expect([gss.replyStat, gss.rejectStat, gss.r.u32()]).toEqual([1, RejectStat.AuthError, AuthStat.BadCred]);
    const shortSys = await srv.rpc.call(NFS_PROGRAM, 3, 0, undefined, {
      kind: "raw",
      flavor: 1,
      body: new Uint8Array([0, 0, 0, 1]),
    });
    expect([shortSys.replyStat, shortSys.rejectStat, shortSys.r.u32()]).toEqual([1, 1, AuthStat.BadCred]);
  });

  it("records AUTH_SYS credentials without acting on them", async () => {
    await srv.rpc.call(NFS_PROGRAM, 3, 0, undefined, { kind: "sys", uid: 4242, gid: 77, machine: "guest7" });
    const seen = srv.server.seenCredentials.find((c) => c.uid === 4242);
    expect(seen).toMatchObject({ uid: 4242, gid: 77, machineName: "guest7" });
  });

  it("accepts a call split into many fragments", async () => {
    const xid = srv.rpc.nextXid();
    const rec = encodeCall(xid, NFS_PROGRAM, 3, 1, (w) => w.opaqueVar(srv.root));
    const rep = decodeReply(await srv.rpc.sendRecord(rec, xid, 5));
    expect(rep.acceptStat).toBe(0);
    expect(rep.r.u32()).toBe(0); // NFS3_OK
    expect(rep.r.u32()).toBe(2); // NF3DIR
  });

  it("closes the connection on a record above the limit", async () => {
    const c = await RpcClient.connect(srv.port);
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 0x80000000 | (NFS_MAX_RECORD_BYTES + 1));
    expect(await c.sendRaw(header, 2000)).toBeNull();
    expect(c.closed).toBe(true);
    // The server still serves others.
    expect((await srv.rpc.call(NFS_PROGRAM, 3, 0)).acceptStat).toBe(0);
  });

  it("drops records that are not calls without answering", async () => {
    const c = await RpcClient.connect(srv.port);
    const reply = new XdrWriter().u32(99).u32(1).u32(0).toBytes();
    expect(await c.sendRaw(encodeRecord(reply), 300)).toBeNull();
    c.close();
  });

  it("portmapper GETPORT answers this port for NFS and MOUNT over TCP, 0 otherwise", async () => {
    const q = async (prog: number, vers: number, prot: number): Promise<number> =>
      (await srv.rpc.call(PMAP_PROGRAM, 2, 3, (w) => w.u32(prog).u32(vers).u32(prot).u32(0))).r.u32();
    expect(await q(NFS_PROGRAM, 3, 6)).toBe(srv.port);
    expect(await q(MOUNT_PROGRAM, 3, 6)).toBe(srv.port);
    expect(await q(NFS_PROGRAM, 4, 6)).toBe(0);
    expect(await q(NFS_PROGRAM, 3, 17)).toBe(0);
  });
});

describe("--verbose request log", () => {
  it("shows program, procedure with its arguments, AUTH_SYS credentials and the status", async () => {
    const sb = await makeSandbox();
    const lines: string[] = [];
    const { NfsServer } = await import("../../../src/pv-drivers/index.js");
    const server = await NfsServer.create({
      exportDir: sb.exportDir,
      stateFile: sb.stateFile,
      verbose: true,
      log: (l) => lines.push(l),
    });
    try {
      const ctx = { transport: "test", peer: "dom3" };
      const mnt = await server.handleRecord(
        encodeCall(1, MOUNT_PROGRAM, 3, 1, (w) => w.string(server.exportPath)),
        ctx,
      );
      const root = decodeReply(mnt!).r;
      root.u32();
      const fh = root.opaqueVar(64).slice();
      await server.handleRecord(
        encodeCall(2, NFS_PROGRAM, 3, 3, (w) => w.opaqueVar(fh).string("missing"), {
          kind: "sys",
          uid: 501,
          gid: 20,
        }),
        ctx,
      );
      expect(lines.some((l) => /MOUNT3\.MNT .*MNT3_OK/.test(l))).toBe(true);
      const lookup = lines.find((l) => l.includes("NFS3.LOOKUP"));
      expect(lookup).toMatch(
        /^\[test dom3\] xid=2 NFS3\.LOOKUP\("missing"\) cred=sys\(uid=501,gid=20,.*\) -> NFS3ERR_NOENT/,
      );
    } finally {
      await server.close();
      await sb.cleanup();
    }
  });
});
