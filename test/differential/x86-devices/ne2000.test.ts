/**
 * NE2000 against QEMU: samples/guests/x86/devices/ne2000-test.elf reads the PROM, sets up the
 * ring and sends 74 frames that come back to it — under QEMU through a UDP socket netdev that
 * sends to its own address (QEMU's ne2000 has no internal loopback), under pvkit through the
 * NIC's host loopback — and prints each received header and checksum. Outputs must be equal.
 */
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { requires } from "../../setup/requires.js";
import { hasQemuI386, runPvkitDevices, runQemuDevices } from "./run.js";

const ELF = "samples/guests/x86/devices/ne2000-test.elf";

/** A UDP port nobody holds right now, for QEMU's socket netdev. */
async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe("ne2000-test.elf on pvkit", () => {
  it("reads QEMU's PROM layout and gets every frame back but the one to another station", () => {
    const p = runPvkitDevices(ELF, { board: { nic: { loopback: true } } });
    expect(p.exit).toBe(0);
    expect(p.output).toContain(
      "prom 52 52 54 54 00 00 12 12 34 34 56 56 12 12 12 12 34 34 34 34 56 56 56 56 00 00 00 00 57 57 57 57\n",
    );
    expect(p.output).toContain("received at page 47: status 21 next 48 length 64"); // padded broadcast
    expect(p.output).not.toContain("no frame");
    expect(p.board.nic?.txFrames).toBe(74);
    expect(p.board.nic?.rxFrames).toBe(73);
    // Some frame's data runs past PSTOP (0x80) and continues at PSTART.
    const straddles = p.output
      .split("\n")
      .map((l) => /received at page (\w+): status \w+ next \w+ length (\d+)/.exec(l))
      .filter((m) => m !== null && Number.parseInt(m[1]!, 16) * 256 + Number(m[2]) > 0x8000);
    expect(straddles.length).toBeGreaterThan(0);
  });
});

describe.skipIf(!hasQemuI386)(
  requires("ne2000-test.elf: QEMU vs pvkit", hasQemuI386, "qemu-system-i386"),
  () => {
    it("same console output and exit value", async () => {
      const port = await freeUdpPort();
      const q = await runQemuDevices(ELF, {
        extra: [
          "-netdev",
          `socket,id=n0,udp=127.0.0.1:${port},localaddr=127.0.0.1:${port}`,
          "-device",
          "ne2k_isa,iobase=0x300,irq=9,netdev=n0",
        ],
      });
      expect(q.output).toContain("mac 52:54:00:12:34:56");
      expect(q.exit).toBe(0);
      const p = runPvkitDevices(ELF, { board: { nic: { loopback: true } } });
      expect(p.output).toBe(q.output);
      expect(p.exit).toBe(q.exit);
    }, 60_000);
  },
);
