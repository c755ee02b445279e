/**
 * Runs a guest under `qemu-system-mipsel -M mipssim -kernel` (the reference for the MIPS
 * board) and returns its console output up to and including the end marker line. mipssim has
 * no exit device, so QEMU is killed once the marker appears (or at the timeout).
 */
import { spawn, spawnSync } from "node:child_process";

export const QEMU_MIPS = "qemu-system-mipsel";

/** True when qemu-system-mipsel is installed. */
export const hasQemuMips = (() => {
  try {
    return spawnSync(QEMU_MIPS, ["--version"], { stdio: "ignore" }).status === 0;
  } catch {
    return false;
  }
})();

/** True when the MIPS cross compiler is installed. */
export const hasMipsGcc = (() => {
  try {
    return spawnSync("mipsel-linux-gnu-gcc", ["--version"], { stdio: "ignore" }).status === 0;
  } catch {
    return false;
  }
})();

/** The samples print this as their last line. */
export const END_MARKER = /^DONE[^\n]*\n/m;

export function runQemuMips(
  elfPath: string,
  opts: { timeoutMs?: number; marker?: RegExp; input?: string } = {},
): Promise<string> {
  const marker = opts.marker ?? END_MARKER;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawn(
      QEMU_MIPS,
      ["-M", "mipssim", "-nographic", "-monitor", "none", "-serial", "stdio", "-kernel", elfPath],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    // Console input goes to QEMU's stdin (-serial stdio); stdin stays open so QEMU sees no EOF.
    if (opts.input !== undefined) child.stdin.write(opts.input);
    let out = "";
    let err = "";
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(new Error(`QEMU timed out after ${timeoutMs} ms; output so far:\n${out}\n${err}`)),
        ),
      timeoutMs,
    );
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (d: string) => {
      out += d;
      const m = marker.exec(out);
      if (m) finish(() => resolve(out.slice(0, m.index + m[0].length)));
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", (e) => finish(() => reject(e)));
    child.on("exit", (code) =>
      finish(() => reject(new Error(`QEMU exited (${code}) before the end marker:\n${out}\n${err}`))),
    );
  });
}
