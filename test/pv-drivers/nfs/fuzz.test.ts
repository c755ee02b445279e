/**
 * Fuzzing a live server with fast-check: random records, mutated valid calls and raw stream
 * garbage. The server must answer each record with a well-formed reply for its xid (or stay
 * silent / close the connection), keep serving, and never touch anything outside the export.
 */
import { lstat, readdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  encodeRecord,
  MOUNT_PROGRAM,
  NFS_PROGRAM,
  PMAP_PROGRAM,
  RecordMarkingDecoder,
  writeSattr3,
  type XdrWriter,
} from "../../../src/pv-drivers/index.js";
import { makeSandbox, type Running, type Sandbox, startServer } from "./helpers/fixture.js";
import { encodeCall } from "./helpers/rpc-client.js";

/** path → "type size mtime mode" for everything under dir, skipping `skip`. */
async function snapshot(
  dir: string,
  skip: string,
  out = new Map<string, string>(),
): Promise<Map<string, string>> {
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    if (p === skip) continue;
    const st = await lstat(p);
    out.set(p, `${st.isDirectory() ? "d" : "f"} ${st.size} ${st.mtimeMs} ${st.mode}`);
    if (st.isDirectory()) await snapshot(p, skip, out);
  }
  return out;
}

/** A connection that records every reply and can wait for one xid. */
class FuzzConnection {
  readonly replies: Uint8Array[] = [];
  closed = false;
  private readonly decoder = new RecordMarkingDecoder(8 * 1024 * 1024);
  private waiter: ((ok: boolean) => void) | undefined;
  private waitXid = -1;

  private constructor(readonly socket: net.Socket) {
    // The fuzz record and the ping are two small writes: without this, Nagle waits for
    // the (delayed) ACK of a record the server drops silently.
    socket.setNoDelay(true);
    socket.on("data", (chunk) => {
      for (const rec of this.decoder.push(chunk).records) {
        const xid = new DataView(rec.buffer, rec.byteOffset).getUint32(0);
        if (xid === this.waitXid && this.waiter !== undefined) {
          const w = this.waiter;
          this.waiter = undefined;
          w(true);
        } else this.replies.push(rec);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.waiter?.(false);
    });
  }

  static open(port: number): Promise<FuzzConnection> {
    return new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(new FuzzConnection(s)));
    });
  }

  /** Sends a NULL call and resolves true when its reply arrives (false: connection closed). */
  ping(xid: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(false);
      this.waitXid = xid;
      this.waiter = resolve;
      this.socket.write(encodeRecord(encodeCall(xid, NFS_PROGRAM, 3, 0, () => {})));
    });
  }
}

describe("fuzzing the live server", () => {
  let sb: Sandbox;
  let srv: Running;
  let before: Map<string, string>;
  let corpus: Uint8Array[];
  let conn: FuzzConnection;
  let pingXid = 0x7f000000;

  beforeAll(async () => {
    sb = await makeSandbox();
    await writeFile(join(sb.exportDir, "f"), "data");
    srv = await startServer(sb);
    before = await snapshot(sb.top, sb.exportDir);
    const root = srv.root;
    const f = (await srv.nfs.lookup(root, "f")).fh!;
    const verf = new Uint8Array(8);
    const nfsArgs: ((w: XdrWriter) => void)[] = [
      () => {},
      (w) => w.opaqueVar(f),
      (w) => {
        w.opaqueVar(f);
        writeSattr3(w, { mode: 0o644, mtime: "server" });
        w.bool(false);
      },
      (w) => w.opaqueVar(root).string("f"),
      (w) => w.opaqueVar(f).u32(0x3f),
      (w) => w.opaqueVar(f),
      (w) => w.opaqueVar(f).u64(0).u32(100),
      (w) =>
        w
          .opaqueVar(f)
          .u64(2)
          .u32(3)
          .u32(1)
          .opaqueVar(new Uint8Array([1, 2, 3])),
      (w) => {
        w.opaqueVar(root).string("c").u32(0);
        writeSattr3(w, { mode: 0o600 });
      },
      (w) => {
        w.opaqueVar(root).string("m");
        writeSattr3(w, {});
      },
      (w) => {
        w.opaqueVar(root).string("s");
        writeSattr3(w, {});
        w.string("../../etc/passwd");
      },
      (w) => {
        w.opaqueVar(root).string("n").u32(7);
        writeSattr3(w, {});
      },
      (w) => w.opaqueVar(root).string("c"),
      (w) => w.opaqueVar(root).string("m"),
      (w) => w.opaqueVar(root).string("c").opaqueVar(root).string("c2"),
      (w) => w.opaqueVar(f).opaqueVar(root).string("l"),
      (w) => w.opaqueVar(root).u64(0).opaqueFixed(verf).u32(1024),
      (w) => w.opaqueVar(root).u64(0).opaqueFixed(verf).u32(512).u32(4096),
      (w) => w.opaqueVar(root),
      (w) => w.opaqueVar(root),
      (w) => w.opaqueVar(root),
      (w) => w.opaqueVar(f).u64(0).u32(0),
    ];
    corpus = nfsArgs.map((args, proc) => encodeCall(0x100 + proc, NFS_PROGRAM, 3, proc, args));
    corpus.push(encodeCall(0x200, MOUNT_PROGRAM, 3, 1, (w) => w.string(srv.server.exportPath)));
    corpus.push(encodeCall(0x201, MOUNT_PROGRAM, 3, 3, (w) => w.string(srv.server.exportPath)));
    corpus.push(encodeCall(0x202, MOUNT_PROGRAM, 3, 5, () => {}));
    corpus.push(encodeCall(0x203, PMAP_PROGRAM, 2, 3, (w) => w.u32(NFS_PROGRAM).u32(3).u32(6).u32(0)));
    conn = await FuzzConnection.open(srv.port);
  });
  afterAll(async () => {
    conn.socket.destroy();
    await srv.stop();
    await sb.cleanup();
  });

  /** Sends one record; checks any reply; makes sure the server still answers. */
  async function exercise(record: Uint8Array): Promise<void> {
    if (conn.closed) conn = await FuzzConnection.open(srv.port);
    conn.replies.length = 0;
    conn.socket.write(encodeRecord(record));
    let alive = await conn.ping(pingXid++);
    if (!alive) {
      conn = await FuzzConnection.open(srv.port);
      alive = await conn.ping(pingXid++);
    } else {
      expect(conn.replies.length).toBeLessThanOrEqual(1);
      const reply = conn.replies[0];
      if (reply !== undefined) {
        const v = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
        expect(v.getUint32(0)).toBe(new DataView(record.buffer, record.byteOffset).getUint32(0));
        expect(v.getUint32(4)).toBe(1); // REPLY
        expect(v.getUint32(8)).toBeLessThanOrEqual(1);
      }
    }
    expect(alive).toBe(true);
  }

  it("answers random records or drops them, and keeps serving", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), async (bytes) => exercise(bytes)),
      { numRuns: 300 },
    );
  });

  it("survives mutated valid calls (flipped bytes, truncation, appended junk)", async () => {
    const mutation = fc.record({
      which: fc.nat(),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      tail: fc.uint8Array({ maxLength: 16 }),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ which, flips, cut, tail }) => {
        const base = corpus[which % corpus.length]!;
        let rec = base.slice();
        // Keep the first 8 bytes (xid, CALL) mostly intact so the mutation reaches the decoders.
        for (const [pos, byte] of flips) rec[8 + (pos % Math.max(1, rec.length - 8))] = byte;
        if (cut !== undefined) rec = rec.subarray(0, cut % (rec.length + 1));
        rec = new Uint8Array([...rec, ...tail]);
        await exercise(rec);
      }),
      { numRuns: 1000 },
    );
  });

  it("survives raw stream garbage (bad framing) on fresh connections", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), async (bytes) => {
        const c = await FuzzConnection.open(srv.port);
        c.socket.write(bytes);
        await new Promise((r) => setTimeout(r, 5));
        c.socket.destroy();
      }),
      { numRuns: 30 },
    );
    const fresh = await FuzzConnection.open(srv.port);
    expect(await fresh.ping(pingXid++)).toBe(true);
    fresh.socket.destroy();
  });

  it("touched nothing outside the export", async () => {
    const after = await snapshot(sb.top, sb.exportDir);
    expect([...after.entries()]).toEqual([...before.entries()]);
    expect(await readFile(join(sb.parent, "outside.txt"), "utf8")).toBe("secret outside the export\n");
  });
});
