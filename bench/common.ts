/** What every benchmark shares: the commit it measured and QEMU timing on the same ELF. */
import { execFileSync, spawn } from "node:child_process";

/** Short hash of HEAD, or "unknown" outside a git checkout. */
export function commit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/**
 * Wall seconds QEMU needs to print `expected` on its serial console (it is killed then: mipssim
 * has no exit device), or null if QEMU is absent, fails or times out. Measured in the same run
 * as pvkit so the ratio survives a noisy machine.
 */
export function timeQemu(
  command: string,
  args: readonly string[],
  expected: string,
  timeoutMs = 120_000,
): Promise<number | null> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "ignore"] });
    let got = "";
    let done = false;
    const finish = (value: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve(value);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    child.on("error", () => finish(null));
    child.stdout?.on("data", (d: Buffer) => {
      got += d.toString("latin1").replace(/\r/g, "");
      if (got.length >= expected.length && got.includes(expected.trimEnd())) {
        finish(Number(process.hrtime.bigint() - t0) / 1e9);
      }
    });
    child.on("exit", () => finish(null));
  });
}
