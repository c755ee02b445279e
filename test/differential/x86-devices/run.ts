/**
 * Runs the device test guests under `qemu-system-i386 -M pc` with an IDE disk and/or an NE2000
 * and on pvkit's PC board with the same devices; output and exit value in the same terms.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { PcBoard, type PcBoardOptions } from "../../../src/machine/boards/pc.js";
import { StopReason } from "../../../src/machine/cpu.js";
import { FileDiskImage } from "../../../src/machine/devices/ata-disk.js";
import { type GuestRun, QEMU_I386, qemuExitValue } from "../x86/qemu.js";

export { hasClang, hasQemuI386 } from "../x86/qemu.js";

export function runQemuDevices(
  elfPath: string,
  opts: { disk?: string; extra?: string[]; timeoutMs?: number } = {},
): Promise<GuestRun> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const args = ["-M", "pc", "-display", "none", "-monitor", "none", "-serial", "stdio", "-device"];
  args.push("isa-debug-exit,iobase=0x501,iosize=2", "-kernel", elfPath);
  if (opts.disk) args.push("-drive", `file=${opts.disk},format=raw,if=ide,index=0`);
  if (opts.extra) args.push(...opts.extra);
  return new Promise((resolve, reject) => {
    const child = spawn(QEMU_I386, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`QEMU timed out after ${timeoutMs} ms on ${elfPath}; output so far:\n${out}\n${err}`));
    }, timeoutMs);
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (d: string) => {
      out += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (err.trim() !== "") out += `\n[qemu stderr] ${err}`;
      resolve({ output: out, exit: qemuExitValue(code) });
    });
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
