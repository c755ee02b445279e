import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Access3,
  FsfProps,
  Ftype3,
  MOUNT_PROGRAM,
  Nfs3Proc,
  Nfs3Status,
  readFattr3,
  readPostOpAttr,
  readWccData,
  StableHow,
  writeSattr3,
} from "../../../src/pv-drivers/index.js";
import { makeSandbox, type Running, type Sandbox, startServer } from "./helpers/fixture.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("NFSv3 procedures", () => {
  let sb: Sandbox;
  let srv: Running;
  beforeAll(async () => {
    sb = await makeSandbox();
    await writeFile(join(sb.exportDir, "hello.txt"), "hello, world\n");
    await mkdir(join(sb.exportDir, "dir1/nested"), { recursive: true });
    await writeFile(join(sb.exportDir, "dir1/nested/deep.txt"), "deep");
    await symlink("hello.txt", join(sb.exportDir, "link"));
    srv = await startServer(sb);
  });
  afterAll(async () => {
    await srv.stop();
    await sb.cleanup();
  });

  it("MNT returns the root handle and AUTH_SYS/AUTH_NONE; GETATTR on it matches the host", async () => {
    const m = await srv.nfs.mount(`${srv.server.exportPath}/`);
    expect(m.status).toBe(0);
    expect(m.flavors).toEqual([1, 0]);
    const { status, attrs } = await srv.nfs.getattr(m.fh!);
    expect(status).toBe(0);
    const st = await stat(sb.exportDir, { bigint: true });
    expect(attrs!.type).toBe(Ftype3.Dir);
    expect(attrs!.fileid).toBe(st.ino);
    expect(attrs!.fsid).toBe(st.dev);
    expect(attrs!.mode).toBe(Number(st.mode) & 0o7777);
    expect(attrs!.mtime.seconds).toBe(Number(st.mtimeNs / 1_000_000_000n));
  });

  it("LOOKUP finds files, '.' is the directory, '..' at the root stays at the root, missing is NOENT", async () => {
    const h = await srv.nfs.lookup(srv.root, "hello.txt");
    expect(h.status).toBe(0);
    expect(h.attrs!.size).toBe(13n);
    expect(h.attrs!.type).toBe(Ftype3.Reg);
    const dot = await srv.nfs.lookup(srv.root, ".");
    expect(dot.attrs!.fileid).toBe((await stat(sb.exportDir, { bigint: true })).ino);
    const up = await srv.nfs.lookup(srv.root, "..");
    expect(up.attrs!.fileid).toBe((await stat(sb.exportDir, { bigint: true })).ino);
    const d = await srv.nfs.lookup(srv.root, "dir1");
    const nested = await srv.nfs.lookup(d.fh!, "nested");
    const back = await srv.nfs.lookup(nested.fh!, "..");
    expect(back.attrs!.fileid).toBe(d.attrs!.fileid);
    expect((await srv.nfs.lookup(srv.root, "nope")).status).toBe(Nfs3Status.NoEnt);
    expect((await srv.nfs.lookup(h.fh!, "x")).status).toBe(Nfs3Status.NotDir);
  });

  it("ACCESS grants what the mode allows", async () => {
    const h = await srv.nfs.lookup(srv.root, "hello.txt");
    const { status, r } = await srv.nfs.status(Nfs3Proc.Access, (w) => w.opaqueVar(h.fh!).u32(0x3f));
    expect(status).toBe(0);
    expect(readPostOpAttr(r)!.type).toBe(Ftype3.Reg);
    const bits = r.u32();
    expect(bits & Access3.Read).toBe(Access3.Read);
    expect(bits & Access3.Modify).toBe(Access3.Modify);
    expect(bits & (Access3.Lookup | Access3.Delete)).toBe(0); // not meaningful for files
    const dirBits = await srv.nfs.status(Nfs3Proc.Access, (w) => w.opaqueVar(srv.root).u32(Access3.Lookup));
    readPostOpAttr(dirBits.r);
    expect(dirBits.r.u32()).toBe(Access3.Lookup);
  });

  it("READLINK returns the link text; READ of a symlink is INVAL", async () => {
    const l = await srv.nfs.lookup(srv.root, "link");
    expect(l.attrs!.type).toBe(Ftype3.Lnk);
    const { status, r } = await srv.nfs.status(Nfs3Proc.Readlink, (w) => w.opaqueVar(l.fh!));
    expect(status).toBe(0);
    readPostOpAttr(r);
    expect(r.string(4096)).toBe("hello.txt");
    expect((await srv.nfs.read(l.fh!, 0, 10)).status).toBe(Nfs3Status.Inval);
    const notLink = await srv.nfs.status(Nfs3Proc.Readlink, (w) => w.opaqueVar(srv.root));
    expect(notLink.status).toBe(Nfs3Status.Inval);
  });

  it("READ returns data and eof; READ of a directory is ISDIR", async () => {
    const h = await srv.nfs.lookup(srv.root, "hello.txt");
    const a = await srv.nfs.read(h.fh!, 0, 5);
    expect(new TextDecoder().decode(a.data)).toBe("hello");
    expect(a.eof).toBe(false);
    const b = await srv.nfs.read(h.fh!, 7, 100);
    expect(new TextDecoder().decode(b.data)).toBe("world\n");
    expect(b.eof).toBe(true);
    const c = await srv.nfs.read(h.fh!, 1000, 10);
    expect([c.data!.length, c.eof]).toEqual([0, true]);
    expect((await srv.nfs.read(srv.root, 0, 10)).status).toBe(Nfs3Status.IsDir);
  });

  it("WRITE at all stability levels, COMMIT returns the same verifier", async () => {
    const c = await srv.nfs.create(srv.root, "w.bin", { mode: 0, sattr: { mode: 0o640 } });
    expect(c.status).toBe(0);
    expect(c.attrs!.mode).toBe(0o640);
    expect((await stat(join(sb.exportDir, "w.bin"))).mode & 0o777).toBe(0o640);
    const u = await srv.nfs.write(c.fh!, 0, enc("AAAA"), StableHow.Unstable);
    expect([u.status, u.count, u.committed]).toEqual([0, 4, StableHow.Unstable]);
    const d = await srv.nfs.write(c.fh!, 4, enc("BBBB"), StableHow.DataSync);
    expect(d.committed).toBe(StableHow.DataSync);
    const f = await srv.nfs.write(c.fh!, 10, enc("CC"), StableHow.FileSync);
    expect(f.committed).toBe(StableHow.FileSync);
    expect(f.after!.size).toBe(12n);
    const cm = await srv.nfs.commit(c.fh!);
    expect(cm.status).toBe(0);
    expect([...cm.verf!]).toEqual([...u.verf!]);
    expect([...d.verf!]).toEqual([...u.verf!]);
    expect(await readFile(join(sb.exportDir, "w.bin"), "latin1")).toBe("AAAABBBB\0\0CC");
    expect((await srv.nfs.write(srv.root, 0, enc("x"), 0)).status).toBe(Nfs3Status.IsDir);
  });

  it("SETATTR changes mode, size and times; honours the ctime guard; refuses a chown", async () => {
    const h = await srv.nfs.lookup(srv.root, "w.bin");
    const set = await srv.nfs.status(Nfs3Proc.Setattr, (w) => {
      w.opaqueVar(h.fh!);
      writeSattr3(w, { mode: 0o600, size: 3, mtime: { seconds: 1_000_000_000, nseconds: 5000 } });
      w.bool(false);
    });
    expect(set.status).toBe(0);
    const wcc = readWccData(set.r);
    expect(wcc.before!.size).toBe(12n);
    expect(wcc.after!.size).toBe(3n);
    expect(wcc.after!.mtime).toEqual({ seconds: 1_000_000_000, nseconds: 5000 });
    const st = await stat(join(sb.exportDir, "w.bin"));
    expect([st.mode & 0o777, st.size, Math.floor(st.mtimeMs / 1000)]).toEqual([0o600, 3, 1_000_000_000]);
    // Guard with a wrong ctime → NOT_SYNC and nothing changes.
    const guarded = await srv.nfs.status(Nfs3Proc.Setattr, (w) => {
      w.opaqueVar(h.fh!);
      writeSattr3(w, { mode: 0o644 });
      w.bool(true).u32(1).u32(2);
    });
    expect(guarded.status).toBe(Nfs3Status.NotSync);
    expect((await stat(join(sb.exportDir, "w.bin"))).mode & 0o777).toBe(0o600);
    // Guard with the right ctime → applied.
    const cur = (await srv.nfs.getattr(h.fh!)).attrs!;
    const ok = await srv.nfs.status(Nfs3Proc.Setattr, (w) => {
      w.opaqueVar(h.fh!);
      writeSattr3(w, { mode: 0o644 });
      w.bool(true).u32(cur.ctime.seconds).u32(cur.ctime.nseconds);
    });
    expect(ok.status).toBe(0);
    // chmod 000 and back (the owner must be able to undo it).
    for (const mode of [0o000, 0o644]) {
      const c = await srv.nfs.status(Nfs3Proc.Setattr, (w) => {
        w.opaqueVar(h.fh!);
        writeSattr3(w, { mode });
        w.bool(false);
      });
      expect(c.status).toBe(0);
      expect((await stat(join(sb.exportDir, "w.bin"))).mode & 0o777).toBe(mode);
    }
    const chown = await srv.nfs.status(Nfs3Proc.Setattr, (w) => {
      w.opaqueVar(h.fh!);
      writeSattr3(w, { uid: 4321 });
      w.bool(false);
    });
    expect(chown.status).toBe(Nfs3Status.Perm);
    expect((await stat(join(sb.exportDir, "w.bin"))).uid).toBe(process.getuid!());
  });

  it("CREATE GUARDED refuses an existing name; EXCLUSIVE replays with the same verifier only", async () => {
    expect((await srv.nfs.create(srv.root, "hello.txt", { mode: 1 })).status).toBe(Nfs3Status.Exist);
    expect(await readFile(join(sb.exportDir, "hello.txt"), "utf8")).toBe("hello, world\n");
    const verf = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const a = await srv.nfs.create(srv.root, "excl", { mode: 2, verf });
    expect(a.status).toBe(0);
    const again = await srv.nfs.create(srv.root, "excl", { mode: 2, verf });
    expect(again.status).toBe(0);
    expect([...again.fh!]).toEqual([...a.fh!]);
    const other = await srv.nfs.create(srv.root, "excl", { mode: 2, verf: new Uint8Array(8).fill(9) });
    expect(other.status).toBe(Nfs3Status.Exist);
    // UNCHECKED on an existing file applies the size (truncation), as RFC 1813 describes.
    await writeFile(join(sb.exportDir, "unc"), "123456");
    const u = await srv.nfs.create(srv.root, "unc", { mode: 0, sattr: { size: 2 } });
    expect(u.status).toBe(0);
    expect(await readFile(join(sb.exportDir, "unc"), "utf8")).toBe("12");
    expect((await srv.nfs.create(srv.root, "bad/name", { mode: 0 })).status).toBe(Nfs3Status.Acces);
    expect((await srv.nfs.create(srv.root, "x".repeat(256), { mode: 0 })).status).toBe(
      Nfs3Status.NameTooLong,
    );
  });

  it("MKDIR, SYMLINK, MKNOD (NOTSUPP), LINK", async () => {
    const d = await srv.nfs.mkdir(srv.root, "made", 0o750);
    expect(d.status).toBe(0);
    expect(d.attrs!.type).toBe(Ftype3.Dir);
    expect((await stat(join(sb.exportDir, "made"))).mode & 0o777).toBe(0o750);
    expect((await srv.nfs.mkdir(srv.root, "made")).status).toBe(Nfs3Status.Exist);
    const s = await srv.nfs.status(Nfs3Proc.Symlink, (w) => {
      w.opaqueVar(d.fh!).string("sl");
      writeSattr3(w, {});
      w.string("../hello.txt");
    });
    expect(s.status).toBe(0);
    expect(await readlink(join(sb.exportDir, "made/sl"))).toBe("../hello.txt");
    const mk = await srv.nfs.status(Nfs3Proc.Mknod, (w) => {
      w.opaqueVar(d.fh!).string("fifo").u32(Ftype3.Fifo);
      writeSattr3(w, {});
    });
    expect(mk.status).toBe(Nfs3Status.NotSupp);
    const h = await srv.nfs.lookup(srv.root, "hello.txt");
    const l = await srv.nfs.status(Nfs3Proc.Link, (w) => w.opaqueVar(h.fh!).opaqueVar(d.fh!).string("hard"));
    expect(l.status).toBe(0);
    expect(readPostOpAttr(l.r)!.nlink).toBe(2);
    expect((await stat(join(sb.exportDir, "made/hard"))).ino).toBe(
      (await stat(join(sb.exportDir, "hello.txt"))).ino,
    );
  });

  it("REMOVE and RMDIR with their errors", async () => {
    await writeFile(join(sb.exportDir, "gone.txt"), "x");
    await mkdir(join(sb.exportDir, "full/sub"), { recursive: true });
    const rm = await srv.nfs.status(Nfs3Proc.Remove, (w) => w.opaqueVar(srv.root).string("gone.txt"));
    expect(rm.status).toBe(0);
    const wcc = readWccData(rm.r);
    expect(wcc.before).toBeDefined();
    expect(wcc.after!.type).toBe(Ftype3.Dir);
    await expect(lstat(join(sb.exportDir, "gone.txt"))).rejects.toThrow();
    expect(
      (await srv.nfs.status(Nfs3Proc.Remove, (w) => w.opaqueVar(srv.root).string("gone.txt"))).status,
    ).toBe(Nfs3Status.NoEnt);
    expect((await srv.nfs.status(Nfs3Proc.Rmdir, (w) => w.opaqueVar(srv.root).string("full"))).status).toBe(
      Nfs3Status.NotEmpty,
    );
    expect(
      (await srv.nfs.status(Nfs3Proc.Rmdir, (w) => w.opaqueVar(srv.root).string("hello.txt"))).status,
    ).toBe(Nfs3Status.NotDir);
    expect((await srv.nfs.status(Nfs3Proc.Rmdir, (w) => w.opaqueVar(srv.root).string("."))).status).toBe(
      Nfs3Status.Inval,
    );
    const full = await srv.nfs.lookup(srv.root, "full");
    expect((await srv.nfs.status(Nfs3Proc.Rmdir, (w) => w.opaqueVar(full.fh!).string("sub"))).status).toBe(0);
    expect((await srv.nfs.status(Nfs3Proc.Rmdir, (w) => w.opaqueVar(srv.root).string("full"))).status).toBe(
      0,
    );
  });

  it("RENAME across directories keeps handles (of the file and of a moved directory's children) valid", async () => {
    const dir1 = await srv.nfs.lookup(srv.root, "dir1");
    const made = await srv.nfs.lookup(srv.root, "made");
    const nested = await srv.nfs.lookup(dir1.fh!, "nested");
    const deep = await srv.nfs.lookup(nested.fh!, "deep.txt");
    const r = await srv.nfs.status(Nfs3Proc.Rename, (w) =>
      w.opaqueVar(dir1.fh!).string("nested").opaqueVar(made.fh!).string("moved"),
    );
    expect(r.status).toBe(0);
    const fromWcc = readWccData(r.r);
    const toWcc = readWccData(r.r);
    expect(fromWcc.after!.fileid).toBe(dir1.attrs!.fileid);
    expect(toWcc.after!.fileid).toBe(made.attrs!.fileid);
    expect(await readFile(join(sb.exportDir, "made/moved/deep.txt"), "utf8")).toBe("deep");
    expect([...(await srv.nfs.read(deep.fh!, 0, 10)).data!]).toEqual([...enc("deep")]);
    expect((await srv.nfs.lookup(nested.fh!, "deep.txt")).status).toBe(0);
    expect((await srv.nfs.lookup(dir1.fh!, "nested")).status).toBe(Nfs3Status.NoEnt);
    // Rename onto an existing file replaces it.
    await writeFile(join(sb.exportDir, "a1"), "one");
    await writeFile(join(sb.exportDir, "a2"), "two");
    const rr = await srv.nfs.status(Nfs3Proc.Rename, (w) =>
      w.opaqueVar(srv.root).string("a1").opaqueVar(srv.root).string("a2"),
    );
    expect(rr.status).toBe(0);
    expect(await readFile(join(sb.exportDir, "a2"), "utf8")).toBe("one");
    // A directory into its own subtree is refused by the host.
    const loop = await srv.nfs.status(Nfs3Proc.Rename, (w) =>
      w.opaqueVar(srv.root).string("made").opaqueVar(made.fh!).string("inside"),
    );
    expect(loop.status).toBe(Nfs3Status.Inval);
  });

  it("FSSTAT, FSINFO and PATHCONF", async () => {
    const fs = await srv.nfs.status(Nfs3Proc.Fsstat, (w) => w.opaqueVar(srv.root));
    expect(fs.status).toBe(0);
    readPostOpAttr(fs.r);
    const tbytes = fs.r.u64big();
    const fbytes = fs.r.u64big();
    expect(tbytes).toBeGreaterThan(0n);
    expect(fbytes).toBeLessThanOrEqual(tbytes);
    const fi = await srv.nfs.status(Nfs3Proc.Fsinfo, (w) => w.opaqueVar(srv.root));
    expect(fi.status).toBe(0);
    readPostOpAttr(fi.r);
    const [rtmax, , , wtmax] = [fi.r.u32(), fi.r.u32(), fi.r.u32(), fi.r.u32()];
    expect([rtmax, wtmax]).toEqual([1048576, 1048576]);
    fi.r.u32();
    fi.r.u32();
    fi.r.u32();
    fi.r.u64big();
    fi.r.u32();
    fi.r.u32();
    expect(fi.r.u32()).toBe(FsfProps.Link | FsfProps.Symlink | FsfProps.Homogeneous | FsfProps.CanSetTime);
    const pc = await srv.nfs.status(Nfs3Proc.Pathconf, (w) => w.opaqueVar(srv.root));
    readPostOpAttr(pc.r);
    expect([pc.r.u32(), pc.r.u32(), pc.r.bool()]).toEqual([65000, 255, true]);
  });

  it("READDIR of a small directory lists '.', '..' and every entry once", async () => {
    const all = await srv.nfs.readdirAll(srv.root, false, 4096);
    expect(all.status).toBe(0);
    const names = all.names.filter((n) => n !== "." && n !== "..");
    expect(all.names.slice(0, 2)).toEqual([".", ".."]);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(["a2", "dir1", "excl", "hello.txt", "link", "made", "unc", "w.bin"].sort());
    const tiny = await srv.nfs.status(Nfs3Proc.Readdir, (w) =>
      w.opaqueVar(srv.root).u64(0).opaqueFixed(new Uint8Array(8)).u32(60),
    );
    expect(tiny.status).toBe(Nfs3Status.TooSmall);
  });

  it("MOUNT: other paths refused, DUMP/UMNT/UMNTALL/EXPORT", async () => {
    expect((await srv.nfs.mount("/")).status).toBe(2); // MNT3ERR_NOENT
    expect((await srv.nfs.mount(`${srv.server.exportPath}/dir1`)).status).toBe(13); // MNT3ERR_ACCES
    expect((await srv.nfs.mount(`${srv.server.exportPath}/../..`)).status).toBe(13);
    const dump = await srv.rpc.call(MOUNT_PROGRAM, 3, 2);
    expect(dump.r.bool()).toBe(true);
    expect(dump.r.string(255)).toBe("testhost");
    expect(dump.r.string(1024)).toBe(srv.server.exportPath);
    await srv.rpc.call(MOUNT_PROGRAM, 3, 3, (w) => w.string(srv.server.exportPath));
    expect(srv.server.mount.mountList.length).toBe(0);
    await srv.nfs.mount(srv.server.exportPath);
    await srv.rpc.call(MOUNT_PROGRAM, 3, 4);
    expect(srv.server.mount.mountList.length).toBe(0);
    const ex = await srv.rpc.call(MOUNT_PROGRAM, 3, 5);
    expect(ex.r.bool()).toBe(true);
    expect(ex.r.string(1024)).toBe(srv.server.exportPath);
    expect(ex.r.bool()).toBe(false); // no group restriction
    expect(ex.r.bool()).toBe(false); // one export
  });

  it("GETATTR decodes exactly one fattr3", async () => {
    const { r } = await srv.nfs.nfs(Nfs3Proc.Getattr, (w) => w.opaqueVar(srv.root));
    expect(r.u32()).toBe(0);
    readFattr3(r);
    expect([r.ok, r.remaining]).toEqual([true, 0]);
  });
});
