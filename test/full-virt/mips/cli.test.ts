/** `pvkit run --arch mips --mode native|full guest.elf [more…]` (runMipsMode, the command's body). */
import { describe, expect, it } from "vitest";
import { runMipsMode } from "../../../src/cli/commands/run-full.js";

const HELLO = "samples/guests/mips/hello.elf";

async function run(files: string[], opts: Parameters<typeof runMipsMode>[1]) {
  let out = "";
  let err = "";
  const status = await runMipsMode(files, opts, {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
  });
  return { status, out, err };
}

describe("pvkit run --mode", () => {
  it("full and native print the same prefixed console lines for several guests", async () => {
    const full = await run([HELLO, HELLO], { mode: "full", stats: true });
    const native = await run([HELLO, HELLO], { mode: "native" });
    expect(full.status).toBe(0);
    expect(native.status).toBe(0);
    expect(full.out).toBe(native.out);
    expect(full.out).toContain("[hello.elf#1] Hello from a pvkit guest (mips)\n");
    expect(full.out).toContain("[hello.elf#2] DONE\n");
    // The Table 2-style breakdown, per domain.
    for (const row of [
      "guest kernel (direct)",
      "guest kernel (interpreted kseg0)",
      "TLB-write emulation",
      "other privileged instructions",
      "TLB misses handled by monitor",
      "TLB misses reflected",
      "monitor calls",
      "idle",
    ]) {
      expect(full.err).toContain(row);
    }
    expect(full.err).toMatch(/domain hello\.elf#2 \(shutdown\)/);
  });

  it("one guest: no prefix; a bad mode is an error", async () => {
    const one = await run([HELLO], { mode: "full" });
    expect(one.out.startsWith("Hello from a pvkit guest (mips)\n")).toBe(true);
    await expect(run([HELLO], { mode: "paravirt" })).rejects.toThrow(/--mode must be native or full/);
  });
});
