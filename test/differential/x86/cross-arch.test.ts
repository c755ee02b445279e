/**
 * The same C (samples/guests/common/compute.c) built for i386 and for MIPS32 prints the same
 * checksums: both compute.elf images under their QEMU boards, and the x86 one on pvkit's PC
 * board when PVKIT_SLOW_TESTS=1 (the full workload is ~250 M x86 instructions).
 */
import { describe, expect, it } from "vitest";
import { requires } from "../../setup/requires.js";
import { hasQemuMips, runQemuMips } from "../mips/qemu.js";
import { hasQemuI386, runPvkitPc, runQemuI386 } from "./qemu.js";

const checksums = (out: string) =>
  out
    .split("\n")
    .filter((l) => l.startsWith("compute: "))
    .join("\n");

describe.skipIf(!hasQemuI386 || !hasQemuMips)(
  requires(
    "compute checksums agree across architectures",
    hasQemuI386 && hasQemuMips,
    "qemu-system-i386 or qemu-system-mipsel",
  ),
  () => {
    it("x86 compute.elf under QEMU pc = MIPS compute.elf under QEMU mipssim", async () => {
      const [x86, mips] = await Promise.all([
        runQemuI386("samples/guests/x86/compute.elf", { timeoutMs: 60_000 }),
        runQemuMips("samples/guests/mips/compute.elf", { timeoutMs: 60_000 }),
      ]);
      expect(x86.exit).toBe(0);
      expect(checksums(x86.output)).toMatch(
        /^compute: crc32 [0-9a-f]{8}\n(.|\n)*compute: total [0-9a-f]{8}$/,
      );
      expect(checksums(x86.output)).toBe(checksums(mips));
    });

    it.runIf(process.env.PVKIT_SLOW_TESTS === "1")(
      "x86 compute.elf on pvkit prints what QEMU prints",
      async () => {
        const q = await runQemuI386("samples/guests/x86/compute.elf", { timeoutMs: 60_000 });
        const p = runPvkitPc("samples/guests/x86/compute.elf", { maxInstructions: 1e9 });
        expect(p.output).toBe(q.output);
        expect(p.exit).toBe(q.exit);
      },
      600_000,
    );
  },
);
