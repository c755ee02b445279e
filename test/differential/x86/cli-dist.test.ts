/**
 * `pvkit run --arch x86` from the built package: the project's tsup build (same config and
 * entries as `npm run build`) into a private directory, so it cannot race with other suites that
 * rebuild dist/, then run with plain node as `node dist/cli.js run --arch x86 …` would be.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Inside node_modules so the bundle's bare imports (commander, tsyringe, …) resolve.
const OUT = join("node_modules", ".cache", `pvkit-x86-dist-${process.pid}`);
const CLI = join(OUT, "cli.js");

describe("pvkit run --arch x86 from the built package", () => {
  beforeAll(() => {
    mkdirSync(OUT, { recursive: true });
    execFileSync("npx", ["tsup", "--out-dir", OUT, "--no-dts", "--no-sourcemap"], {
      stdio: "pipe",
      timeout: 300_000,
    });
  }, 300_000);
  afterAll(() => rmSync(OUT, { recursive: true, force: true }));

  it("runs hello.elf: the console on stdout, status 0", () => {
    const r = spawnSync(process.execPath, [CLI, "run", "--arch", "x86", "samples/guests/x86/hello.elf"], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("Hello from a pvkit guest (x86)\nDONE\n");
    expect(r.status).toBe(0);
  });

  it("--stats reports the PC board's counters on stderr", () => {
    const r = spawnSync(
      process.execPath,
      [CLI, "run", "--arch", "x86", "--stats", "samples/guests/x86/mbinfo.elf"],
      {
        encoding: "utf8",
      },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^eax 2badb002\nebx 00009500\n/);
    expect(r.stderr).toMatch(/x86 board/);
    expect(r.stderr).toMatch(/instructions\s+\d+/);
    expect(r.stderr).toMatch(/devices\.uartTxBytes\s+\d+/);
  });

  it("a MIPS image given --arch x86 fails with status 1 and the loader's message", () => {
    const r = spawnSync(process.execPath, [CLI, "run", "--arch", "x86", "samples/guests/mips/hello.elf"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/samples\/guests\/mips\/hello\.elf: not a multiboot kernel/);
  });
});
