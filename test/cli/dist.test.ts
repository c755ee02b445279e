/**
 * The built package, not the sources: `pvkit run` through the `bin` of package.json
 * (dist/cli.js, run with plain node). The package is rebuilt with `npm run build` when dist is
 * missing or older than a source file (CI builds it just before the tests).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exit42Elf } from "./guest-images.js";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { bin: Record<string, string> };
const BIN = pkg.bin.pvkit!;

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

const dir = mkdtempSync(join(tmpdir(), "pvkit-dist-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the built package (dist) through its bin", () => {
  beforeAll(() => {
    if (!existsSync(BIN) || statSync(BIN).mtimeMs < newestMtime("src")) {
      execFileSync("npm", ["run", "build"], { stdio: "pipe", timeout: 300_000 });
    }
  }, 300_000);

  it(`node ${BIN} run samples/guests/mips/hello.elf prints the console only and exits 0`, () => {
    const r = spawnSync(process.execPath, [BIN, "run", "samples/guests/mips/hello.elf"], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("Hello from a pvkit guest (mips)\nDONE\n");
    expect(r.status).toBe(0);
  });

  it("exits with the guest's exit-port value and reports stats on stderr", () => {
    const f = join(dir, "exit42.elf");
    writeFileSync(f, exit42Elf);
    const r = spawnSync(process.execPath, [BIN, "run", "--stats", f], { encoding: "utf8" });
    expect(r.status).toBe(42);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/instructions\s+\d+/);
  });

  it("a bad image fails with status 1 and a message naming the file", () => {
    const f = join(dir, "bad.elf");
    writeFileSync(f, exit42Elf.subarray(0, 60));
    const r = spawnSync(process.execPath, [BIN, "run", "--arch", "mips", f], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.elf: truncated/);
  });
});
