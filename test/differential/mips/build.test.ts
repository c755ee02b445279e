/**
 * The committed MIPS sample ELFs are exactly what their sources build to: rebuild a copy of
 * samples/guests/{common,mips} in a temporary directory and compare byte for byte.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hasMipsGcc } from "./qemu.js";

const ELFS = ["hello.elf", "compute.elf", "harness.elf", "entry-state.elf", "uart-echo.elf"];

describe.skipIf(!hasMipsGcc)(
  "MIPS samples rebuild byte-identical (skipped without mipsel-linux-gnu-gcc)",
  () => {
    it("samples/guests/mips/build.sh reproduces the committed ELFs", () => {
      const dir = mkdtempSync(join(tmpdir(), "pvkit-build-"));
      try {
        cpSync("samples/guests/common", join(dir, "common"), { recursive: true });
        cpSync("samples/guests/mips", join(dir, "mips"), {
          recursive: true,
          filter: (src) => !src.endsWith(".elf") && !src.includes("/kernel") && !src.includes("/build/"),
        });
        execFileSync("bash", [join(dir, "mips/build.sh")], { stdio: "pipe", timeout: 120_000 });
        for (const elf of ELFS) {
          const rebuilt = readFileSync(join(dir, "mips", elf));
          const committed = readFileSync(join("samples/guests/mips", elf));
          expect(Buffer.compare(rebuilt, committed), `${elf} differs from its rebuild`).toBe(0);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
