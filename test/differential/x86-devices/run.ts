/**
 * Runs the device test guests under `qemu-system-i386 -M pc` with an IDE disk and/or an NE2000
 * and on pvkit's PC board with the same devices; output and exit value in the same terms.
 */
import { readFileSync } from "node:fs";
import { PcBoard, type PcBoardOptions } from "../../../src/machine/boards/pc.js";
import { StopReason } from "../../../src/machine/cpu.js";
import { FileDiskImage } from "../../../src/machine/devices/ata-disk.js";
import { type GuestRun, runQemuI386 } from "../x86/qemu.js";

export { hasClang, hasQemuI386 } from "../x86/qemu.js";

export function runQemuDevices(
  elfPath: string,
  opts: { disk?: string; extra?: string[]; timeoutMs?: number } = {},
): Promise<GuestRun> {
  const extra = opts.disk ? ["-drive", `file=${opts.disk},format=raw,if=ide,index=0`] : [];
  if (opts.extra) extra.push(...opts.extra);
  return runQemuI386(elfPath, {
    extra,
    stderrInOutput: true,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
}

export function runPvkitDevices(
  elfPath: string,
  opts: { disk?: string; board?: PcBoardOptions; maxInstructions?: number } = {},
): GuestRun & { board: PcBoard; stop: StopReason } {
  const chunks: number[] = [];
  const disk = opts.disk ? new FileDiskImage(opts.disk) : undefined;
  const board = new PcBoard({ console: (b) => chunks.push(b), ...(disk ? { disk } : {}), ...opts.board });
  try {
    board.loadGuest(new Uint8Array(readFileSync(elfPath)), elfPath);
    const stop = board.runToEnd(opts.maxInstructions ?? 200_000_000);
    const output = Buffer.from(chunks).toString("latin1");
    return { output, exit: stop === StopReason.Exit ? board.stop.exitCode : null, board, stop };
  } finally {
    disk?.close();
  }
}

/** The IDE test image: 2048 sectors, sector 0 zero, sector s ≥ 1 byte j = (s * 31 + j * 7) & 0xFF. */
export function ideTestImage(): Uint8Array {
  const b = new Uint8Array(2048 * 512);
  for (let s = 1; s < 2048; s++) for (let j = 0; j < 512; j++) b[s * 512 + j] = (s * 31 + j * 7) & 0xff;
  return b;
}
