import { mkdir, readFile, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  FileHandleCodec,
  Nfs3Proc,
  Nfs3Status,
  NfsServer,
  NfsServerError,
  StableHow,
  writeSattr3,
} from "../../../src/pv-drivers/index.js";
import { makeSandbox, type Running, type Sandbox, startServer } from "./helpers/fixture.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("file handles", () => {
  let sb: Sandbox;
  let srv: Running;
  beforeEach(async () => {
    sb = await makeSandbox();
    await mkdir(join(sb.exportDir, "d/e"), { recursive: true });
    await writeFile(join(sb.exportDir, "d/e/f.txt"), "persistent");
    await writeFile(join(sb.exportDir, "victim.txt"), "v");
    srv = await startServer(sb);
  });
  afterEach(async () => {
    await srv.stop();
    await sb.cleanup();
  });

  async function fhOf(path: string[]): Promise<Uint8Array> {
    let fh = srv.root;
    for (const p of path) fh = (await srv.nfs.lookup(fh, p)).fh!;
    return fh;
  }

  it("survive a server restart (same state file); the root handle is the same", async () => {
    const f = await fhOf(["d", "e", "f.txt"]);
    const oldRoot = srv.root;
    await srv.stop();
    srv = await startServer(sb);
    expect([...srv.root]).toEqual([...oldRoot]);
    const a = await srv.nfs.getattr(f);
    expect(a.status).toBe(0);
    expect(new TextDecoder().decode((await srv.nfs.read(f, 0, 100)).data)).toBe("persistent");
  });

  it("WRITE+COMMIT: the verifier changes across a restart, so clients resend", async () => {
    const f = await fhOf(["victim.txt"]);
    const w1 = await srv.nfs.write(f, 0, enc("unstable"), StableHow.Unstable);
    const c1 = await srv.nfs.commit(f);
    expect([...c1.verf!]).toEqual([...w1.verf!]);
    await srv.stop();
    srv = await startServer(sb);
    const c2 = await srv.nfs.commit(f);
    expect(c2.status).toBe(0);
    expect([...c2.verf!]).not.toEqual([...w1.verf!]);
    const w2 = await srv.nfs.write(f, 0, enc("again"), StableHow.FileSync);
    expect([...w2.verf!]).toEqual([...c2.verf!]);
    // Changing the verifier (as after a failed fsync) is visible to the next COMMIT.
    srv.server.nfs.changeWriteVerifier();
    expect([...(await srv.nfs.commit(f)).verf!]).not.toEqual([...c2.verf!]);
  });

  it("go stale when the file is deleted, and after a restart for a deleted file", async () => {
    const v = await fhOf(["victim.txt"]);
    const f = await fhOf(["d", "e", "f.txt"]);
    await unlink(join(sb.exportDir, "victim.txt"));
    expect((await srv.nfs.getattr(v)).status).toBe(Nfs3Status.Stale);
    await srv.stop();
    await rm(join(sb.exportDir, "d"), { recursive: true });
    srv = await startServer(sb);
    expect((await srv.nfs.getattr(f)).status).toBe(Nfs3Status.Stale);
    expect((await srv.nfs.read(f, 0, 10)).status).toBe(Nfs3Status.Stale);
  });

  it("go stale when the file is replaced by a new one under the same name", async () => {
    const v = await fhOf(["victim.txt"]);
    await unlink(join(sb.exportDir, "victim.txt"));
    await writeFile(join(sb.exportDir, "victim.txt"), "new file");
    expect((await srv.nfs.getattr(v)).status).toBe(Nfs3Status.Stale);
  });

  it("follow a file renamed on the host (found again by walking the export)", async () => {
    const f = await fhOf(["d", "e", "f.txt"]);
    await rename(join(sb.exportDir, "d/e"), join(sb.exportDir, "e-moved"));
    expect(new TextDecoder().decode((await srv.nfs.read(f, 0, 100)).data)).toBe("persistent");
  });

  it("crafted handles are NFS3ERR_BADHANDLE; a forged-but-authentic handle outside the export is STALE", async () => {
    const f = await fhOf(["victim.txt"]);
    const flipped = f.slice();
    flipped[40]! ^= 1;
    expect((await srv.nfs.getattr(flipped)).status).toBe(Nfs3Status.BadHandle);
    const idFlip = f.slice();
    idFlip[20]! ^= 1; // another inode, MAC no longer matches
    expect((await srv.nfs.getattr(idFlip)).status).toBe(Nfs3Status.BadHandle);
    expect((await srv.nfs.getattr(f.subarray(0, 20))).status).toBe(Nfs3Status.BadHandle);
    expect((await srv.nfs.getattr(new Uint8Array(0))).status).toBe(Nfs3Status.BadHandle);
    // Even with the key, a handle naming a file outside the export does not resolve.
    const state = JSON.parse(await readFile(sb.stateFile, "utf8")) as { secret: string };
    const codec = new FileHandleCodec(Buffer.from(state.secret, "hex"), srv.server.exportPath);
    const { lstat } = await import("node:fs/promises");
    const out = await lstat(join(sb.parent, "outside.txt"), { bigint: true });
    const forged = codec.encode({ dev: out.dev, ino: out.ino, generation: out.birthtimeNs });
    expect((await srv.nfs.getattr(forged)).status).toBe(Nfs3Status.Stale);
    const parentSt = await lstat(sb.parent, { bigint: true });
    const forgedDir = codec.encode({
      dev: parentSt.dev,
      ino: parentSt.ino,
      generation: parentSt.birthtimeNs,
    });
    expect((await srv.nfs.lookup(forgedDir, "outside.txt")).status).toBe(Nfs3Status.Stale);
  });

  it("a directory swapped for a symlink pointing out is not followed", async () => {
    const e = await fhOf(["d", "e"]);
    await rename(join(sb.exportDir, "d"), join(sb.exportDir, "d2"));
    await symlink(sb.parent, join(sb.exportDir, "d"));
    // The handle still names the real directory (now d2/e), never parent/e.
    const c = await srv.nfs.status(Nfs3Proc.Create, (w) => {
      w.opaqueVar(e).string("made-here").u32(0);
      writeSattr3(w, { mode: 0o644 });
    });
    expect(c.status).toBe(0);
    expect(await readFile(join(sb.exportDir, "d2/e/made-here"), "utf8")).toBe("");
    const { readdir } = await import("node:fs/promises");
    expect((await readdir(sb.parent)).sort()).toEqual(["export", "outside.txt"]);
  });

  it("a state file inside the export is refused", async () => {
    await expect(
      NfsServer.create({ exportDir: sb.exportDir, stateFile: join(sb.exportDir, "state.json") }),
    ).rejects.toBeInstanceOf(NfsServerError);
  });
});

describe("write verifier after a failed sync", () => {
  it("a failing fsync answers NFS3ERR_IO and changes the verifier", async () => {
    const sb = await makeSandbox();
    await writeFile(join(sb.exportDir, "f"), "");
    let failNext = false;
    const server = await NfsServer.create({
      exportDir: sb.exportDir,
      stateFile: sb.stateFile,
      syncFile: async (file, dataOnly) => {
        if (failNext) {
          failNext = false;
          throw Object.assign(new Error("simulated EIO"), { code: "EIO" });
        }
        await (dataOnly ? file.datasync() : file.sync());
      },
    });
    const port = await server.listenTcp(0);
    const { Nfs3TestClient, RpcClient } = await import("./helpers/rpc-client.js");
    const rpc = await RpcClient.connect(port);
    try {
      const nfs = new Nfs3TestClient(rpc);
      const root = (await nfs.mount(server.exportPath)).fh!;
      const f = (await nfs.lookup(root, "f")).fh!;
      const w1 = await nfs.write(f, 0, enc("abc"), StableHow.Unstable);
      failNext = true;
      expect((await nfs.commit(f)).status).toBe(Nfs3Status.Io);
      const c = await nfs.commit(f);
      expect(c.status).toBe(0);
      expect([...c.verf!]).not.toEqual([...w1.verf!]);
      failNext = true;
      expect((await nfs.write(f, 0, enc("x"), StableHow.FileSync)).status).toBe(Nfs3Status.Io);
      expect([...(await nfs.commit(f)).verf!]).not.toEqual([...c.verf!]);
    } finally {
      rpc.close();
      await server.close();
      await sb.cleanup();
    }
  });
});
