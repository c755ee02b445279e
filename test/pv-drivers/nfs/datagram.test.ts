import dgram from "node:dgram";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DatagramRpcAdapter,
  MOUNT_PROGRAM,
  NFS_PROGRAM,
  Nfs3Proc,
  PMAP_PROGRAM,
  readPostOpAttr,
} from "../../../src/pv-drivers/index.js";
import { makeSandbox, type Running, type Sandbox, startServer } from "./helpers/fixture.js";
import { decodeReply, encodeCall } from "./helpers/rpc-client.js";

/** The datagram path later carried by the emulated NE2000: one record per datagram, no framing. */
describe("datagram transport", () => {
  let sb: Sandbox;
  let srv: Running;
  let udpPort = 0;
  beforeAll(async () => {
    sb = await makeSandbox();
    await writeFile(join(sb.exportDir, "u.txt"), "over udp");
    srv = await startServer(sb);
    udpPort = await srv.server.listenUdp(0);
  });
  afterAll(async () => {
    await srv.stop();
    await sb.cleanup();
  });

  it("DatagramRpcAdapter answers in-process and drops oversized datagrams", async () => {
    const adapter = new DatagramRpcAdapter(srv.server, 1000);
    const ctx = { transport: "test", peer: "guest0" };
    const reply = await adapter.handle(
      encodeCall(7, NFS_PROGRAM, 3, Nfs3Proc.Getattr, (w) => w.opaqueVar(srv.root)),
      ctx,
    );
    const rep = decodeReply(reply!);
    expect([rep.xid, rep.acceptStat, rep.r.u32(), rep.r.u32()]).toEqual([7, 0, 0, 2]);
    expect(await adapter.handle(new Uint8Array(1001), ctx)).toBeNull();
  });

  it("answers a retransmitted REMOVE from the duplicate-request cache instead of removing twice", async () => {
    await writeFile(join(sb.exportDir, "once.txt"), "x");
    const adapter = new DatagramRpcAdapter(srv.server);
    const ctx = { transport: "udp", peer: "10.0.0.2:800" };
    const call = encodeCall(99, NFS_PROGRAM, 3, Nfs3Proc.Remove, (w) =>
      w.opaqueVar(srv.root).string("once.txt"),
    );
    const first = decodeReply((await adapter.handle(call, ctx))!);
    const again = decodeReply((await adapter.handle(call, ctx))!);
    expect([first.r.u32(), again.r.u32()]).toEqual([0, 0]);
    // Without the cache the second REMOVE would see NFS3ERR_NOENT.
    const fresh = new DatagramRpcAdapter(srv.server, 65507, 0);
    expect(decodeReply((await fresh.handle(call, ctx))!).r.u32()).toBe(2);
  });

  it("serves MOUNT and READ over a real UDP socket; the portmapper reports the UDP port", async () => {
    const sock = dgram.createSocket("udp4");
    const ask = (rec: Uint8Array): Promise<Uint8Array> =>
      new Promise((resolve) => {
        sock.once("message", (m) => resolve(new Uint8Array(m)));
        sock.send(rec, udpPort, "127.0.0.1");
      });
    try {
      const mnt = decodeReply(
        await ask(encodeCall(1, MOUNT_PROGRAM, 3, 1, (w) => w.string(srv.server.exportPath))),
      );
      expect(mnt.r.u32()).toBe(0);
      const root = mnt.r.opaqueVar(64).slice();
      const lk = decodeReply(
        await ask(encodeCall(2, NFS_PROGRAM, 3, Nfs3Proc.Lookup, (w) => w.opaqueVar(root).string("u.txt"))),
      );
      expect(lk.r.u32()).toBe(0);
      const fh = lk.r.opaqueVar(64).slice();
      const rd = decodeReply(
        await ask(encodeCall(3, NFS_PROGRAM, 3, Nfs3Proc.Read, (w) => w.opaqueVar(fh).u64(0).u32(100))),
      );
      expect(rd.r.u32()).toBe(0);
      readPostOpAttr(rd.r);
      rd.r.u32();
      expect(rd.r.bool()).toBe(true);
      expect(new TextDecoder().decode(rd.r.opaqueVar(100))).toBe("over udp");
      const gp = decodeReply(
        await ask(encodeCall(4, PMAP_PROGRAM, 2, 3, (w) => w.u32(NFS_PROGRAM).u32(3).u32(17).u32(0))),
      );
      expect(gp.r.u32()).toBe(udpPort);
    } finally {
      sock.close();
    }
  });
});
