/**
 * IDE PIO against QEMU: samples/guests/x86/devices/ide-test.elf prints the IDENTIFY words, the
 * task file after every command and checksums of the sectors it reads, and writes sectors 100,
 * 101 and 200–204; pvkit's output and the disk image afterwards must equal QEMU's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { requires } from "../../setup/requires.js";
import { hasQemuI386, ideTestImage, runPvkitDevices, runQemuDevices } from "./run.js";

const ELF = "samples/guests/x86/devices/ide-test.elf";
const dir = mkdtempSync(join(tmpdir(), "pvkit-ide-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ide-test.elf on pvkit", () => {
  it("prints QEMU's identification strings and leaves the written sectors in the image file", () => {
    const img = join(dir, "pvkit-only.img");
    writeFileSync(img, ideTestImage());
    const p = runPvkitDevices(ELF, { disk: img });
    expect(p.exit).toBe(0);
    expect(p.output).toContain('model "QEMU HARDDISK                           "');
    expect(p.output).toContain('serial "QM00001             "');
    expect(p.output).toContain("read past the end: status 41 error 04 nsect 01 lba 000800 device e0");
    expect(p.output.endsWith("DONE\n")).toBe(true);
    const after = readFileSync(img);
    const before = ideTestImage();
    // Only sectors 100, 101 and 200-204 changed.
    const changed: number[] = [];
    for (let s = 0; s < 2048; s++) {
      if (
        Buffer.compare(after.subarray(s * 512, s * 512 + 512), before.subarray(s * 512, s * 512 + 512)) !== 0
      ) {
        changed.push(s);
      }
    }
    expect(changed).toEqual([100, 101, 200, 201, 202, 203, 204]);
    expect(p.board.ide?.sectorsWritten).toBe(7);
  });
});

describe.skipIf(!hasQemuI386)(
  requires("ide-test.elf: QEMU vs pvkit", hasQemuI386, "qemu-system-i386"),
  () => {
    it("same console output, exit value and final disk image", async () => {
      const qImg = join(dir, "qemu.img");
      const pImg = join(dir, "pvkit.img");
      writeFileSync(qImg, ideTestImage());
      writeFileSync(pImg, ideTestImage());
      const q = await runQemuDevices(ELF, { disk: qImg });
      expect(q.output).toContain("identify status 58");
      expect(q.exit).toBe(0);
      const p = runPvkitDevices(ELF, { disk: pImg });
      expect(p.output).toBe(q.output);
      expect(p.exit).toBe(q.exit);
      expect(Buffer.compare(readFileSync(pImg), readFileSync(qImg))).toBe(0);
    }, 60_000);
  },
);
