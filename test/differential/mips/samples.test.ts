/**
 * Every MIPS sample prints the same under qemu-system-mipsel -M mipssim and pvkit's board, and
 * what it prints is right: hello's line, compute's checksums from a host reference
 * implementation, entry-state's registers as documented in DEVELOPERS.md.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseElf32, StopReason } from "../../../src/machine/index.js";
import { computeReferenceOutput } from "./compute-reference.js";
import { runPvkitMips } from "./pvkit-run.js";
import { hasQemuMips, runQemuMips } from "./qemu.js";

const DIR = "samples/guests/mips";

async function both(name: string, qemuTimeoutMs = 30_000, input?: string) {
  const file = `${DIR}/${name}`;
  // QEMU runs in its own process while pvkit runs here.
  const qemu = hasQemuMips
    ? runQemuMips(file, { timeoutMs: qemuTimeoutMs, ...(input !== undefined ? { input } : {}) })
    : null;
  const mine = runPvkitMips(new Uint8Array(readFileSync(file)), file, undefined, input);
  expect(mine.stop, mine.diagnostic).toBe(StopReason.Exit);
  return { mine, qemuOutput: qemu ? await qemu : null };
}

describe(`MIPS samples on pvkit${hasQemuMips ? " and QEMU" : " (QEMU comparison skipped: qemu-system-mipsel not installed)"}`, () => {
  it("hello prints its line and exits 0", async () => {
    const { mine, qemuOutput } = await both("hello.elf");
    expect(mine.output).toBe("Hello from a pvkit guest (mips)\nDONE\n");
    expect(mine.exitCode).toBe(0);
    if (qemuOutput !== null) expect(qemuOutput).toBe(mine.output);
  });

  it("entry-state sees the documented registers at entry (all zero, Status = BEV|ERL, PC = e_entry)", async () => {
    const { mine, qemuOutput } = await both("entry-state.elf");
    const entry = parseElf32(new Uint8Array(readFileSync(`${DIR}/entry-state.elf`)), {
      file: "entry-state.elf",
    }).entry;
    expect(mine.output).toBe(
      `gpr:${" 00000000".repeat(32)}\nhi=00000000 lo=00000000 status=00400004 cause=00000000 wired=00000000 pc=${entry.toString(16)} \nDONE\n`,
    );
    if (qemuOutput !== null) expect(qemuOutput).toBe(mine.output);
  });

  it("uart-echo receives its input by UART interrupt (IP4) and echoes it", async () => {
    const { mine, qemuOutput } = await both("uart-echo.elf", 30_000, "Hello, pvkit!\n");
    expect(mine.output).toBe(
      "uart-echo: send a line\nHELLO, PVKIT!\nuart-echo: 14 bytes, received by interrupt\nDONE\n",
    );
    if (qemuOutput !== null) expect(qemuOutput).toBe(mine.output);
  });

  it("compute prints the checksums of the host reference, with a few hundred million instructions", async () => {
    const { mine, qemuOutput } = await both("compute.elf", 60_000);
    expect(mine.output).toBe(computeReferenceOutput());
    expect(mine.exitCode).toBe(0);
    expect(mine.instructions).toBeGreaterThan(200_000_000);
    expect(mine.instructions).toBeLessThan(500_000_000);
    if (qemuOutput !== null) expect(qemuOutput).toBe(mine.output);
  });
});
