import { mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Access3,
  Ftype3,
  Nfs3Proc,
  Nfs3Status,
  readPostOpAttr,
  writeSattr3,
} from "../../../src/pv-drivers/index.js";
import { makeSandbox, type Running, type Sandbox, startServer } from "./helpers/fixture.js";

const OUTSIDE = "secret outside the export\n";

describe("the export is a security boundary", () => {
  let sb: Sandbox;
  let srv: Running;
  beforeAll(async () => {
    sb = await makeSandbox();
    await writeFile(join(sb.exportDir, "in.txt"), "inside");
    await symlink("../outside.txt", join(sb.exportDir, "rel-out"));
    await symlink(join(sb.parent, "outside.txt"), join(sb.exportDir, "abs-out"));
    await symlink(sb.parent, join(sb.exportDir, "dir-out"));
    srv = await startServer(sb);
  });
  afterAll(async () => {
    await srv.stop();
    await sb.cleanup();
  });

  it("'..' from the root is the root; names with '/' or NUL are refused", async () => {
    const up = await srv.nfs.lookup(srv.root, "..");
    const upup = await srv.nfs.lookup(up.fh!, "..");
    expect([...upup.fh!]).toEqual([...srv.root]);
    expect((await srv.nfs.lookup(up.fh!, "outside.txt")).status).toBe(Nfs3Status.NoEnt);
    expect((await srv.nfs.lookup(srv.root, "../outside.txt")).status).toBe(Nfs3Status.Acces);
    expect((await srv.nfs.lookup(srv.root, "a\0b")).status).toBe(Nfs3Status.Acces);
    expect((await srv.nfs.lookup(srv.root, "")).status).toBe(Nfs3Status.Acces);
  });

  it("symlinks pointing out are data: READLINK gives the text, nothing follows them", async () => {
    for (const name of ["rel-out", "abs-out", "dir-out"]) {
      const l = await srv.nfs.lookup(srv.root, name);
      expect(l.status).toBe(0);
      expect(l.attrs!.type).toBe(Ftype3.Lnk);
      expect((await srv.nfs.read(l.fh!, 0, 100)).status).toBe(Nfs3Status.Inval);
      expect((await srv.nfs.write(l.fh!, 0, new Uint8Array([1]), 2)).status).toBe(Nfs3Status.Inval);
      expect((await srv.nfs.lookup(l.fh!, "outside.txt")).status).toBe(Nfs3Status.NotDir);
      const setMode = await srv.nfs.status(Nfs3Proc.Setattr, (w) => {
        w.opaqueVar(l.fh!);
        writeSattr3(w, { mode: 0o777, size: 0 });
        w.bool(false);
      });
      expect(setMode.status).not.toBe(0);
    }
    const rl = await srv.nfs.status(Nfs3Proc.Readlink, (w) => w.opaqueVar(srv.root));
    expect(rl.status).toBe(Nfs3Status.Inval);
    const l = await srv.nfs.lookup(srv.root, "rel-out");
    const text = await srv.nfs.status(Nfs3Proc.Readlink, (w) => w.opaqueVar(l.fh!));
    readPostOpAttr(text.r);
    expect(text.r.string(4096)).toBe("../outside.txt");
    // CREATE UNCHECKED over a link (which would truncate its target if followed) fails.
    const c = await srv.nfs.create(srv.root, "abs-out", { mode: 0, sattr: { size: 0 } });
    expect(c.status).not.toBe(0);
    // RENAME/REMOVE act on the link itself.
    const rm = await srv.nfs.status(Nfs3Proc.Remove, (w) => w.opaqueVar(srv.root).string("rel-out"));
    expect(rm.status).toBe(0);
    expect(await readFile(join(sb.parent, "outside.txt"), "utf8")).toBe(OUTSIDE);
    expect((await stat(join(sb.parent, "outside.txt"))).size).toBe(OUTSIDE.length);
  });

  it("LINK and RENAME never take a path out of the export", async () => {
    const dirOut = await srv.nfs.lookup(srv.root, "dir-out");
    const inTxt = await srv.nfs.lookup(srv.root, "in.txt");
    const link = await srv.nfs.status(Nfs3Proc.Link, (w) =>
      w.opaqueVar(inTxt.fh!).opaqueVar(dirOut.fh!).string("x"),
    );
    expect(link.status).toBe(Nfs3Status.NotDir);
    const ren = await srv.nfs.status(Nfs3Proc.Rename, (w) =>
      w.opaqueVar(srv.root).string("in.txt").opaqueVar(dirOut.fh!).string("stolen"),
    );
    expect(ren.status).toBe(Nfs3Status.NotDir);
    const ren2 = await srv.nfs.status(Nfs3Proc.Rename, (w) =>
      w.opaqueVar(srv.root).string("in.txt").opaqueVar(srv.root).string("../stolen"),
    );
    expect(ren2.status).toBe(Nfs3Status.Acces);
    const mk = await srv.nfs.status(Nfs3Proc.Mkdir, (w) => {
      w.opaqueVar(srv.root).string("..");
      writeSattr3(w, {});
    });
    expect(mk.status).toBe(Nfs3Status.Exist);
    expect((await readdir(sb.parent)).sort()).toEqual(["export", "outside.txt"]);
  });

  it("MOUNT of any other path is refused", async () => {
    expect((await srv.nfs.mount(sb.parent)).status).toBe(2);
    expect((await srv.nfs.mount(join(srv.server.exportPath, "dir-out"))).status).toBe(13);
    expect((await srv.nfs.mount(`${srv.server.exportPath}/../export`)).status).toBe(13);
    expect((await srv.nfs.mount("/etc")).status).toBe(2);
  });
});

describe("read-only export", () => {
  let sb: Sandbox;
  let srv: Running;
  beforeAll(async () => {
    sb = await makeSandbox();
    await writeFile(join(sb.exportDir, "f.txt"), "keep");
    await mkdir(join(sb.exportDir, "d"));
    srv = await startServer(sb, true);
  });
  afterAll(async () => {
    await srv.stop();
    await sb.cleanup();
  });

  it("refuses every modification with NFS3ERR_ROFS and changes nothing", async () => {
    const f = await srv.nfs.lookup(srv.root, "f.txt");
    const d = await srv.nfs.lookup(srv.root, "d");
    expect((await srv.nfs.write(f.fh!, 0, new Uint8Array([65]), 2)).status).toBe(Nfs3Status.Rofs);
    expect((await srv.nfs.create(srv.root, "new", { mode: 0 })).status).toBe(Nfs3Status.Rofs);
    expect((await srv.nfs.mkdir(srv.root, "nd")).status).toBe(Nfs3Status.Rofs);
    const calls: [number, (w: import("../../../src/pv-drivers/index.js").XdrWriter) => void][] = [
      [
        Nfs3Proc.Setattr,
        (w) => {
          w.opaqueVar(f.fh!);
          writeSattr3(w, { size: 0 });
          w.bool(false);
        },
      ],
      [
        Nfs3Proc.Symlink,
        (w) => {
          w.opaqueVar(srv.root).string("s");
          writeSattr3(w, {});
          w.string("f.txt");
        },
      ],
      [Nfs3Proc.Remove, (w) => w.opaqueVar(srv.root).string("f.txt")],
      [Nfs3Proc.Rmdir, (w) => w.opaqueVar(srv.root).string("d")],
      [Nfs3Proc.Rename, (w) => w.opaqueVar(srv.root).string("f.txt").opaqueVar(d.fh!).string("g")],
      [Nfs3Proc.Link, (w) => w.opaqueVar(f.fh!).opaqueVar(srv.root).string("h")],
    ];
    for (const [proc, args] of calls) expect((await srv.nfs.status(proc, args)).status).toBe(Nfs3Status.Rofs);
    expect(await readFile(join(sb.exportDir, "f.txt"), "utf8")).toBe("keep");
    expect((await readdir(sb.exportDir)).sort()).toEqual(["d", "f.txt"]);
    // Reads still work; ACCESS grants no modify bits.
    expect(new TextDecoder().decode((await srv.nfs.read(f.fh!, 0, 10)).data)).toBe("keep");
    const acc = await srv.nfs.status(Nfs3Proc.Access, (w) => w.opaqueVar(srv.root).u32(0x3f));
    readPostOpAttr(acc.r);
    expect(acc.r.u32() & (Access3.Modify | Access3.Extend | Access3.Delete)).toBe(0);
  });
});

describe("namespace races from a client", () => {
  it("RwLock: writers exclude readers and each other; readers share", async () => {
    const { RwLock } = await import("../../../src/pv-drivers/nfs/server/rw-lock.js");
    const lock = new RwLock();
    const log: string[] = [];
    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 2));
    const reader = (n: string) =>
      lock.run(false, async () => {
        log.push(`${n}+`);
        await tick();
        log.push(`${n}-`);
      });
    const writer = (n: string) =>
      lock.run(true, async () => {
        log.push(`${n}+`);
        await tick();
        log.push(`${n}-`);
      });
    await Promise.all([reader("r1"), reader("r2"), writer("w1"), reader("r3"), writer("w2")]);
    expect(log.slice(0, 4).sort()).toEqual(["r1+", "r1-", "r2+", "r2-"]);
    expect(log.slice(4)).toEqual(["w1+", "w1-", "r3+", "r3-", "w2+", "w2-"]);
  });

  it("a directory swapped for an outward symlink by another connection never receives a CREATE", async () => {
    const sb = await makeSandbox();
    await mkdir(join(sb.exportDir, "d"));
    const a = await startServer(sb);
    const { Nfs3TestClient, RpcClient } = await import("./helpers/rpc-client.js");
    const b = new Nfs3TestClient(await RpcClient.connect(a.port));
    try {
      const d = (await a.nfs.lookup(a.root, "d")).fh!;
      for (let i = 0; i < 40; i++) {
        const swap = (async () => {
          await a.nfs.status(Nfs3Proc.Rename, (w) =>
            w.opaqueVar(a.root).string("d").opaqueVar(a.root).string("d2"),
          );
          await a.nfs.status(Nfs3Proc.Symlink, (w) => {
            w.opaqueVar(a.root).string("d");
            writeSattr3(w, {});
            w.string(sb.parent);
          });
          await a.nfs.status(Nfs3Proc.Remove, (w) => w.opaqueVar(a.root).string("d"));
          await a.nfs.status(Nfs3Proc.Rename, (w) =>
            w.opaqueVar(a.root).string("d2").opaqueVar(a.root).string("d"),
          );
        })();
        const creates = Promise.all([0, 1, 2].map((k) => b.create(d, `f${i}-${k}`, { mode: 0 })));
        await Promise.all([swap, creates]);
      }
      expect((await readdir(sb.parent)).sort()).toEqual(["export", "outside.txt"]);
      expect((await readdir(join(sb.exportDir, "d"))).length).toBe(120);
    } finally {
      b.rpc.close();
      await a.stop();
      await sb.cleanup();
    }
  });
});
