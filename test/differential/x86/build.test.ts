/**
 * Reproducibility of the committed x86 guest ELFs: where clang and ld.lld are installed, a
 * rebuild of samples/guests/x86 (in a temporary copy, so the tree is untouched) must give
 * byte-identical files, and the same C (common/compute.c) must give the same checksums on both
 * architectures.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { requires } from "../../setup/requires.js";
import { hasClang } from "./qemu.js";

const ELFS = ["hello.elf", "hello-aout.elf", "compute.elf", "mbinfo.elf", "harness.elf", "kernel/kernel.elf"];

describe.skipIf(!hasClang)(requires("x86 guests rebuild byte for byte", hasClang, "clang/ld.lld"), () => {
  const dir = mkdtempSync(join(tmpdir(), "pvkit-x86-build-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("samples/guests/x86/build.sh reproduces every committed ELF", () => {
    for (const sub of ["common", "x86"]) {
      cpSync(join("samples/guests", sub), join(dir, sub), {
        recursive: true,
        filter: (src) => !src.endsWith(".elf") && !/\/build(\/|$)/.test(src),
      });
    }
    const r = spawnSync("bash", [join(dir, "x86/build.sh")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    for (const elf of ELFS) {
      const rebuilt = readFileSync(join(dir, "x86", elf));
      const committed = readFileSync(join("samples/guests/x86", elf));
      expect(Buffer.compare(rebuilt, committed), `${elf} differs from its rebuild`).toBe(0);
    }
  });
});
