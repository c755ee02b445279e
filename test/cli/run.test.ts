import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { disassembleElf } from "../../src/cli/commands/disasm.js";
import { type RunOptions, runGuest } from "../../src/cli/commands/run.js";
import { runMipsCli } from "../../src/cli/commands/run-full.js";
import { adelLoopElf, breakElf, exit42Elf } from "./guest-images.js";

const dir = mkdtempSync(join(tmpdir(), "pvkit-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

async function run(path: string, opts: RunOptions = {}) {
  const out: number[] = [];
  let err = "";
  const status = await runGuest(path, opts, {
    stdout: (d) => out.push(...d),
    stderr: (t) => {
      err += t;
    },
  });
  return { status, stdout: Buffer.from(out).toString("latin1"), stderr: err };
}

describe("pvkit run --mode / several guests: board-only flags", () => {
  it("refuse --disk, --nic, --stdin and --max-instructions instead of ignoring them", async () => {
    await expect(
      runMipsCli(["samples/guests/mips/hello.elf"], { mode: "full", disk: "/tmp/none.img", nic: "loopback" }),
    ).rejects.toThrow(/^--disk, --nic: only for one guest on its own board/);
    await expect(
      runMipsCli(["samples/guests/mips/hello.elf", "samples/guests/mips/hello.elf"], {
        maxInstructions: "10",
      }),
    ).rejects.toThrow(/^--max-instructions: only for one guest/);
  });
});

describe("pvkit run (mips)", () => {
  it("prints only the guest console on stdout and exits with the exit-port value", async () => {
    const r = await run("samples/guests/mips/hello.elf");
    expect(r.stdout).toBe("Hello from a pvkit guest (mips)\nDONE\n");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("exit status is the value written to port 0x501", async () => {
    const r = await run(file("exit42.elf", exit42Elf));
    expect(r.status).toBe(42);
    expect(r.stdout).toBe("");
  });

  it("--stats reports instructions, cycles and exceptions by cause on stderr", async () => {
    const r = await run("samples/guests/mips/hello.elf", { stats: true });
    expect(r.stdout).toBe("Hello from a pvkit guest (mips)\nDONE\n");
    const instr = Number(/instructions\s+(\d+)/.exec(r.stderr)?.[1]);
    const cycles = Number(/cycles\s+(\d+)/.exec(r.stderr)?.[1]);
    expect(instr).toBeGreaterThan(300);
    expect(instr).toBeLessThan(2000);
    expect(cycles).toBeGreaterThan(instr); // device registers cost more than an instruction
    expect(r.stderr).toMatch(/exceptions\s+none/);
    expect(r.stderr).toMatch(/devices\.uartTxBytes\s+37/);
  });

  it("--max-instructions stops with status 124 and a diagnostic with disassembly", async () => {
    const r = await run("samples/guests/mips/compute.elf", { maxInstructions: "5000" });
    expect(r.status).toBe(124);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/stopped after 5000 instructions/);
    expect(r.stderr).toMatch(/pc 0x801[0-9a-f]{5}/);
    expect(r.stderr).toMatch(/last instructions:\n {3}801[0-9a-f]{5}: {2}[0-9a-f]{8} {2}\w+/);
  });

  it("an exception with no handler stops with status 125, PC, cause and code at EPC", async () => {
    const r = await run(file("break.elf", breakElf), { stats: true });
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/unhandled Bp exception at 0x80001004: no handler at vector 0xbfc00380/);
    expect(r.stderr).toMatch(/fault: Bp {2}EPC 0x80001004 {2}BadVAddr 0x00000000/);
    expect(r.stderr).toMatch(/=> 80001004: {2}0000000d {2}break/);
    expect(r.stderr).toMatch(/exceptions\.Bp\s+1/);
  });

  it("a handler that never fixes its fault is an exception loop: status 125 with BadVAddr", async () => {
    const r = await run(file("adel.elf", adelLoopElf));
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/exception loop: AdEL at EPC 0x8000100c/);
    expect(r.stderr).toMatch(/BadVAddr 0x80000001/);
    expect(r.stderr).toMatch(/=> 8000100c: {2}8c620001 {2}lw v0,1\(v1\)/);
  });

  it("--input and --stdin feed the guest's UART", async () => {
    const expected = "uart-echo: send a line\nABC\nuart-echo: 4 bytes, received by interrupt\nDONE\n";
    const a = await run("samples/guests/mips/uart-echo.elf", { input: "abc\n" });
    expect(a.stdout).toBe(expected);
    expect(a.status).toBe(0);
    let err = "";
    const out: number[] = [];
    const status = await runGuest(
      "samples/guests/mips/uart-echo.elf",
      { stdin: true },
      {
        stdout: (d) => out.push(...d),
        stderr: (t) => {
          err += t;
        },
        readStdin: () => new TextEncoder().encode("abc\n"),
      },
    );
    expect(Buffer.from(out).toString("latin1")).toBe(expected);
    expect(status).toBe(0);
    expect(err).toBe("");
  });

  it("rejects a file that is not a guest ELF with a message naming it", async () => {
    const p = file("junk.elf", new Uint8Array([1, 2, 3]));
    await expect(run(p)).rejects.toThrow(/junk\.elf: not an EM_MIPS or EM_386 ELF file/);
    await expect(run(p, { arch: "mips" })).rejects.toThrow(/junk\.elf: not an ELF file/);
  });
});

describe("pvkit disasm (mips)", () => {
  it("disassembles the text with symbol labels, like objdump -d", () => {
    const text = disassembleElf(new Uint8Array(readFileSync("samples/guests/mips/hello.elf")), "hello.elf");
    expect(text).toMatch(/^80100000 <_start>:$/m);
    expect(text).toMatch(/^80100000:\t3c1d8011 \tlui sp,0x8011$/m);
    expect(text).toMatch(/<arch_putc>:/);
    expect(text).toMatch(/\tjal 0x[0-9a-f]{8}$/m);
  });
});
