/**
 * Runs a guest under `qemu-system-i386 -M pc -kernel` with the exit device at 0x501 (the
 * reference for the PC board) and on pvkit's PcBoard, returning console output and exit status
 * in the same terms: QEMU's isa-debug-exit exits with (v << 1) | 1, which `qemuExitValue` undoes.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { PcBoard } from "../../../src/machine/boards/pc.js";
import { StopReason } from "../../../src/machine/cpu.js";

export const QEMU_I386 = "qemu-system-i386";

function works(cmd: string, args: string[]): boolean {
  try {
    return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
  } catch {
    return false;
  }
}

/** True when qemu-system-i386 is installed. */
export const hasQemuI386 = works(QEMU_I386, ["--version"]);
/** True when clang and ld.lld (the x86 guest toolchain) are installed. */
export const hasClang = works("clang", ["--version"]) && works("ld.lld", ["--version"]);

export interface GuestRun {
  output: string;
  /** The value the guest wrote to port 0x501, or null if it never did. */
  exit: number | null;
}

/** The value written to isa-debug-exit, from QEMU's process status ((v << 1) | 1). */
export function qemuExitValue(status: number | null): number | null {
  if (status === null || (status & 1) === 0) return null;
  return status >> 1;
}

/**
 * Boots `elfPath` under QEMU. `file` is the path QEMU gets (it becomes the start of the multiboot
 * command line, so pass the same string to pvkit).
 */
export function runQemuI386(
  elfPath: string,
  opts: {
    append?: string;
    /** More QEMU arguments (drives, NICs). */
    extra?: readonly string[];
    timeoutMs?: number;
    /** Append QEMU's stderr (device warnings) to the output. */
    stderrInOutput?: boolean;
  } = {},
): Promise<GuestRun> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const args = ["-M", "pc", "-display", "none", "-monitor", "none", "-serial", "stdio", "-device"];
  args.push("isa-debug-exit,iobase=0x501,iosize=2", "-kernel", elfPath);
  if (opts.append !== undefined) args.push("-append", opts.append);
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
      if (opts.stderrInOutput && err.trim() !== "") out += `\n[qemu stderr] ${err}`;
      resolve({ output: out, exit: qemuExitValue(code) });
    });
  });
}

/** Runs an image on pvkit's PC board (bytes, or a path read from disk) up to `maxInstructions`. */
export function runPvkitPc(
  image: string | Uint8Array,
  opts: { file?: string; append?: string; maxInstructions?: number } = {},
): GuestRun & { board: PcBoard; stop: StopReason } {
  const bytes = typeof image === "string" ? new Uint8Array(readFileSync(image)) : image;
  const file = opts.file ?? (typeof image === "string" ? image : "guest.elf");
  const chunks: number[] = [];
  const board = new PcBoard({ console: (b) => chunks.push(b), cmdline: opts.append ?? "" });
  board.loadGuest(bytes, file);
  const stop = board.runToEnd(opts.maxInstructions ?? 2e9);
  const output = Buffer.from(chunks).toString("latin1");
  return { output, exit: stop === StopReason.Exit ? board.stop.exitCode : null, board, stop };
}
