/**
 * Device interrupts end to end against QEMU: irq-test.elf re-initialises the 8259A pair, installs
 * an IDT and waits with `sti; hlt` for IRQ14 (IDE) and IRQ9 (NE2000); the number of interrupts
 * per IDE command and the NE2000 ISR bits its handler saw must equal QEMU's.
 */
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { requires } from "../../setup/requires.js";
import { hasQemuI386, ideTestImage, runPvkitDevices, runQemuDevices } from "./run.js";

const ELF = "samples/guests/x86/devices/irq-test.elf";
const dir = mkdtempSync(join(tmpdir(), "pvkit-irq-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXPECTED = [
  "identify: 1 interrupts, last status 58, status now 50",
  "read sectors 1-3: 3 interrupts, last status 58, status now 50",
  "write sectors 400-401: 2 interrupts, last status 50, status now 50",
  "flush cache: 1 interrupts, last status 50, status now 50",
  "unknown command: 1 interrupts, last status 41, status now 41",
  "ne2000: isr bits seen 03, other interrupts 0",
  "DONE",
  "",
].join("\n");

describe("irq-test.elf on pvkit", () => {
  it("IRQ14 once per DRQ block / completion, IRQ9 for PTX and PRX, through the PIC pair and the IDT", () => {
    const img = join(dir, "pvkit-only.img");
    writeFileSync(img, ideTestImage());
    const p = runPvkitDevices(ELF, { disk: img, board: { nic: { loopback: true } } });
    expect(p.output).toBe(EXPECTED);
    expect(p.exit).toBe(0);
    expect(p.board.stats().interrupts).toEqual({ IRQ9: 2, IRQ14: 8 });
  });
});

describe.skipIf(!hasQemuI386)(
  requires("irq-test.elf: QEMU vs pvkit", hasQemuI386, "qemu-system-i386"),
  () => {
    it("same console output, exit value and final disk image", async () => {
      const s = createSocket("udp4");
      await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
      const { port } = s.address();
      await new Promise<void>((resolve) => s.close(() => resolve()));
      const qImg = join(dir, "qemu.img");
      const pImg = join(dir, "pvkit.img");
      writeFileSync(qImg, ideTestImage());
      writeFileSync(pImg, ideTestImage());
      const q = await runQemuDevices(ELF, {
        disk: qImg,
        extra: [
          "-netdev",
          `socket,id=n0,udp=127.0.0.1:${port},localaddr=127.0.0.1:${port}`,
          "-device",
          "ne2k_isa,iobase=0x300,irq=9,netdev=n0",
        ],
      });
      expect(q.output).toBe(EXPECTED);
      const p = runPvkitDevices(ELF, { disk: pImg, board: { nic: { loopback: true } } });
      expect(p.output).toBe(q.output);
      expect(p.exit).toBe(q.exit);
      expect(Buffer.compare(readFileSync(pImg), readFileSync(qImg))).toBe(0);
    }, 60_000);
  },
);
