/**
 * IDE bus-master DMA against QEMU: ide-dma-test.elf finds the PIIX3 IDE function through PCI
 * configuration space, takes BAR4 and runs READ/WRITE DMA with two-entry PRD tables; output and
 * the disk image afterwards must equal QEMU's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { requires } from "../../setup/requires.js";
import { hasQemuI386, ideTestImage, runPvkitDevices, runQemuDevices } from "./run.js";

const ELF = "samples/guests/x86/devices/ide-dma-test.elf";
const dir = mkdtempSync(join(tmpdir(), "pvkit-ide-dma-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ide-dma-test.elf on pvkit", () => {
  it("finds 8086:7010 with BAR4 0xC041 and reads by DMA what PIO reads", () => {
    const img = join(dir, "pvkit-only.img");
    writeFileSync(img, ideTestImage());
    const p = runPvkitDevices(ELF, { disk: img });
    expect(p.exit).toBe(0);
    expect(p.output).toContain("00:01.1 id 70108086 class 01018000 bar4 0000c041\n");
    // Sectors 1-3 have the checksums ide-test.elf prints for them (read by PIO).
    expect(p.output).toContain("checksums aa1785c5 55f441c5 5acd09c5 ");
    expect(p.output).toContain("read dma past the end: bmis 04 status 41 error 04");
  });
});

describe.skipIf(!hasQemuI386)(
  requires("ide-dma-test.elf: QEMU vs pvkit", hasQemuI386, "qemu-system-i386"),
  () => {
    it("same console output, exit value and final disk image", async () => {
      const qImg = join(dir, "qemu.img");
      const pImg = join(dir, "pvkit.img");
      writeFileSync(qImg, ideTestImage());
      writeFileSync(pImg, ideTestImage());
      const q = await runQemuDevices(ELF, { disk: qImg });
      expect(q.output).toContain("write dma 300-301: bmis 04 status 50");
      const p = runPvkitDevices(ELF, { disk: pImg });
      expect(p.output).toBe(q.output);
      expect(p.exit).toBe(q.exit);
      expect(Buffer.compare(readFileSync(pImg), readFileSync(qImg))).toBe(0);
    }, 60_000);
  },
);
