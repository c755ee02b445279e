/**
 * Interop with a real NFS client: libnfs's nfs-ls / nfs-cat / nfs-cp (Debian libnfs-utils)
 * against `pvkit nfs-serve` run as a separate process, the way a user runs it.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requires } from "../../setup/requires.js";
import { makeSandbox, type Sandbox } from "./helpers/fixture.js";

const run = promisify(execFile);
const hasLibnfs = ["/usr/bin/nfs-ls", "/usr/bin/nfs-cat", "/usr/bin/nfs-cp"].every((p) => existsSync(p));
const repo = join(import.meta.dirname, "../../..");

describe.skipIf(!hasLibnfs)(
  requires("libnfs clients against pvkit nfs-serve", hasLibnfs, "libnfs-utils"),
  () => {
    let sb: Sandbox;
    let child: ChildProcess;
    let port = 0;
    let stderr = "";
    let exportPath = "";
    const url = (path: string): string =>
      `nfs://127.0.0.1${exportPath}${path}?nfsport=${port}&mountport=${port}&version=3`;

    beforeAll(async () => {
      sb = await makeSandbox();
      await writeFile(join(sb.exportDir, "readme.txt"), "read me over NFS\n");
      await mkdir(join(sb.exportDir, "sub"));
      await writeFile(join(sb.exportDir, "sub", "inner.txt"), "inner");
      child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          join(repo, "src/cli/main.ts"),
          "nfs-serve",
          "--export",
          sb.exportDir,
          "--port",
          "0",
          "--verbose",
          "--state-file",
          sb.stateFile,
        ],
        { cwd: repo, stdio: ["ignore", "ignore", "pipe"] },
      );
      port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nfs-serve did not start: ${stderr}`)), 20_000);
        child.stderr!.on("data", (b: Buffer) => {
          stderr += b.toString();
          const m = /port=(\d+)/.exec(stderr);
          const e = /exporting (\S+)/.exec(stderr);
          if (m && e) {
            clearTimeout(timer);
            exportPath = e[1]!;
            resolve(Number(m[1]));
          }
        });
        child.once("exit", (code) => reject(new Error(`nfs-serve exited ${code}: ${stderr}`)));
      });
    });
    afterAll(async () => {
      child?.kill("SIGTERM");
      await sb.cleanup();
    });

    it("nfs-ls lists the export (recursively)", async () => {
      const { stdout } = await run("nfs-ls", ["-R", url("")], { timeout: 10_000 });
      expect(stdout).toMatch(/\s17 readme\.txt\n/);
      expect(stdout).toMatch(/^d.* sub$/m);
      expect(stdout).toMatch(/\s5 sub\/inner\.txt\n/);
    });

    it("nfs-cat reads a file", async () => {
      const { stdout } = await run("nfs-cat", [url("/readme.txt")], { timeout: 10_000 });
      expect(stdout).toBe("read me over NFS\n");
    });

    it("nfs-cp writes a 3 MB file and reads it back byte for byte", async () => {
      const data = randomBytes(3 * 1024 * 1024 + 123);
      const local = join(sb.top, "upload.bin");
      await writeFile(local, data);
      await run("nfs-cp", [local, url("/uploaded.bin")], { timeout: 20_000 });
      expect(Buffer.compare(await readFile(join(sb.exportDir, "uploaded.bin")), data)).toBe(0);
      const back = join(sb.top, "download.bin");
      await run("nfs-cp", [url("/uploaded.bin"), back], { timeout: 20_000 });
      expect(Buffer.compare(await readFile(back), data)).toBe(0);
      // --verbose shows each request with the AUTH_SYS credentials libnfs sent.
      expect(stderr).toMatch(
        /NFS3\.WRITE\(@\d+\+\d+ (UNSTABLE|DATA_SYNC|FILE_SYNC)\) cred=sys\(uid=\d+,gid=\d+.*-> NFS3_OK/,
      );
      expect(stderr).toMatch(/MOUNT3\.MNT .*MNT3_OK/);
    });

    it("mounting another path fails cleanly", async () => {
      const bad = `nfs://127.0.0.1${sb.parent}?nfsport=${port}&mountport=${port}&version=3`;
      await expect(run("nfs-ls", [bad], { timeout: 10_000 })).rejects.toThrow();
    });
  },
);
