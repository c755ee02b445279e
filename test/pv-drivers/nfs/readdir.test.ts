import { execFileSync } from "node:child_process";
import { unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Nfs3Proc, Nfs3Status, readPostOpAttr } from "../../../src/pv-drivers/index.js";
import { makeSandbox, type Running, type Sandbox, startServer } from "./helpers/fixture.js";

const N = 5000;
const nameOf = (i: number): string => `file-${i.toString().padStart(5, "0")}${"x".repeat(i % 23)}`;

describe("READDIR / READDIRPLUS over 5,000 entries", () => {
  let sb: Sandbox;
  let srv: Running;
  let big: Uint8Array;
  beforeAll(async () => {
    sb = await makeSandbox();
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(sb.exportDir, "big"));
    // One `xargs touch` creates the 5,000 files far faster than 5,000 async opens.
    execFileSync("xargs", ["touch"], {
      cwd: join(sb.exportDir, "big"),
      input: Array.from({ length: N }, (_, i) => nameOf(i)).join("\n"),
    });
    srv = await startServer(sb);
    big = (await srv.nfs.lookup(srv.root, "big")).fh!;
  });
  afterAll(async () => {
    await srv.stop();
    await sb.cleanup();
  });

  const expected = (): string[] => Array.from({ length: N }, (_, i) => nameOf(i)).sort();

  it("READDIR pages with cookies return every name exactly once", async () => {
    const all = await srv.nfs.readdirAll(big, false, 4096);
    expect(all.status).toBe(0);
    expect(all.pages).toBeGreaterThan(40);
    const names = all.names.filter((n) => n !== "." && n !== "..");
    expect(names.length).toBe(N);
    expect([...names].sort()).toEqual(expected());
  });

  it("READDIRPLUS pages honour dircount/maxcount and carry a handle per entry", async () => {
    const all = await srv.nfs.readdirAll(big, true, 1024); // dircount 1024, maxcount 4096
    expect(all.status).toBe(0);
    const names = all.names.filter((n) => n !== "." && n !== "..");
    expect([...names].sort()).toEqual(expected());
    expect(all.handles).toBe(N + 2);
    expect(all.pages).toBeGreaterThan(N / 30);
    // Each reply stays within maxcount.
    const { r } = await srv.nfs.nfs(Nfs3Proc.Readdirplus, (w) =>
      w.opaqueVar(big).u64(0).opaqueFixed(new Uint8Array(8)).u32(100000).u32(4096),
    );
    expect(r.offset - 24 /* RPC reply header */).toBeLessThanOrEqual(4096);
  });

  it("cookies stay valid while the directory changes between pages", async () => {
    let cookie = 0n;
    let verf = new Uint8Array(8);
    const seen: string[] = [];
    let pages = 0;
    const removed = new Set<string>();
    const added: string[] = [];
    for (;;) {
      const { r } = await srv.nfs.nfs(Nfs3Proc.Readdir, (w) =>
        w.opaqueVar(big).u64(cookie).opaqueFixed(verf).u32(8192),
      );
      expect(r.u32()).toBe(0);
      readPostOpAttr(r);
      verf = r.opaqueFixed(8).slice();
      while (r.bool()) {
        r.u64big();
        seen.push(r.string(300));
        cookie = r.u64big();
      }
      const eof = r.bool();
      pages++;
      if (pages === 3) {
        // Remove 100 names and add 100 new ones behind the client's back.
        for (let i = 0; i < 100; i++) {
          const victim = nameOf(i * 37);
          if (!seen.includes(victim)) {
            await unlink(join(sb.exportDir, "big", victim));
            removed.add(victim);
          }
          const fresh = `new-${i}`;
          await writeFile(join(sb.exportDir, "big", fresh), "");
          added.push(fresh);
        }
      }
      if (eof) break;
    }
    const names = seen.filter((n) => n !== "." && n !== "..");
    expect(new Set(names).size).toBe(names.length); // nothing twice
    const seenSet = new Set(names);
    for (const n of expected()) if (!removed.has(n)) expect(seenSet.has(n)).toBe(true);
    for (const n of removed) expect(names).not.toContain(n);
  });

  it("a foreign cookie verifier is NFS3ERR_BAD_COOKIE", async () => {
    const { r } = await srv.nfs.nfs(Nfs3Proc.Readdir, (w) =>
      w
        .opaqueVar(big)
        .u64(12345)
        .opaqueFixed(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))
        .u32(4096),
    );
    expect(r.u32()).toBe(Nfs3Status.BadCookie);
  });
});
