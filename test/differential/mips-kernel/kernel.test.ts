/**
 * The MIPS kernel sample (issue 4; its ksseg build is issue 8's Disco guest):
 *  - both builds (kseg0 and ksseg + boot stub) print exactly expected-output.txt under QEMU
 *    mipssim and on pvkit's mipssim board, and pvkit stops with exit code 0;
 *  - under QEMU, so do copies with the timer quantum patched far smaller or larger (output independent of
 *    the timer);
 *  - two kbench processes yielding to each other (same VAs, two ASIDs, per-pid data) print the
 *    same under QEMU and pvkit;
 *  - where the cross compiler exists, a rebuild gives byte-identical ELFs.
 * expected-output.txt was produced under QEMU; it holds no timing-dependent text (the kernel
 * prints results at the end in pid order, never interleavings or tick counts).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requires } from "../../setup/requires.js";
import { hasMipsGcc, hasQemuMips, runQemuMips } from "../mips/qemu.js";
import { END_MARKER } from "./marker.js";
import {
  Kbench,
  KERNEL_BUILDS,
  KERNEL_DIR,
  loadMipsBoard,
  Program,
  runOnPvkit,
  withProcs,
  withTimerInterval,
} from "./run-kernel.js";

const EXPECTED = readFileSync(new URL("./expected-output.txt", import.meta.url), "latin1");
const elfBytes = (elf: string) => new Uint8Array(readFileSync(join(KERNEL_DIR, elf)));
const board = await loadMipsBoard();
const boardMissing = "missing" in board ? board.missing : "";

describe("kernel sample: expected output is meaningful", () => {
  it("covers both processes, the faults, the timer and the end marker", () => {
    expect(EXPECTED).toMatch(/^compute: total [0-9a-f]{8}\n/m);
    expect(EXPECTED).toContain(
      "[kernel] pid 1 exit status 0, syscalls 8, page faults 63, resumed faults 0\n",
    );
    expect(EXPECTED).toContain("kbench: null syscalls 4000, all returned the pid\n");
    expect(EXPECTED).toContain("kbench: page faults: touched 128 fresh pages, all zero-filled\n");
    expect(EXPECTED).toContain("unaligned access, instruction skipped: address error (load) at 0x00402001");
    expect(EXPECTED).toContain("segmentation fault, killed: TLB store at 0x00000000");
    expect(EXPECTED).toContain(
      "[kernel] pid 2 exit status -11, syscalls 4208, page faults 131, resumed faults 1\n",
    );
    expect(EXPECTED).toContain("[kernel] timer preemption: seen\n");
    expect(EXPECTED.endsWith("*** PVKIT KERNEL DONE ***\n")).toBe(true);
  });
});

describe.skipIf(!hasQemuMips)(
  requires("kernel sample under QEMU mipssim", hasQemuMips, "qemu-system-mipsel"),
  () => {
    for (const elf of KERNEL_BUILDS) {
      it(`${elf} prints the expected output`, async () => {
        const out = await runQemuMips(join(KERNEL_DIR, elf), { marker: END_MARKER, timeoutMs: 30_000 });
        expect(out).toBe(EXPECTED);
      });
    }
    it("its compute process prints what samples/guests/mips/compute.elf prints", async () => {
      const standalone = await runQemuMips("samples/guests/mips/compute.elf", { timeoutMs: 30_000 });
      const lines = standalone.split("\n").filter((l) => l.startsWith("compute: "));
      expect(lines.length).toBeGreaterThanOrEqual(5);
      const inKernel = EXPECTED.split("\n").filter(
        (l) => l.startsWith("compute: ") && !l.includes("running as pid"),
      );
      expect(inKernel).toEqual(lines);
    });
    // Default quantum 40000 Count ticks (~7 ms of QEMU's 6 MHz Count): try ~80 us and ~33 ms.
    for (const ticks of [500, 200_000]) {
      it(`kernel-ksseg.elf with a ${ticks}-tick quantum prints the same`, async () => {
        const dir = mkdtempSync(join(tmpdir(), "pvkit-mips-kernel-"));
        try {
          const path = join(dir, "kernel.elf");
          writeFileSync(path, withTimerInterval(elfBytes("kernel-ksseg.elf"), path, ticks));
          expect(await runQemuMips(path, { marker: END_MARKER, timeoutMs: 30_000 })).toBe(EXPECTED);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  },
);

describe.skipIf(boardMissing !== "")(
  `kernel sample on pvkit's mipssim board${boardMissing ? ` (skipped: pvkit MIPS board unavailable: ${boardMissing})` : ""}`,
  () => {
    for (const elf of KERNEL_BUILDS) {
      it(`${elf} prints the expected output and exits with 0`, () => {
        if (!("createBoard" in board)) return;
        const run = runOnPvkit(board.createBoard, elfBytes(elf), elf);
        expect(run.diagnostic).toBe("");
        expect(run.output).toBe(EXPECTED);
        expect(run.exitCode).toBe(0);
        // The kernel path really ran: syscalls, TLB refills/invalids, the timer.
        const exc = run.stats.exceptions as Record<string, number>;
        expect(exc.Sys).toBe(4216);
        expect(exc.Int).toBeGreaterThan(0);
        expect((exc.TLBL ?? 0) + (exc.TLBS ?? 0)).toBeGreaterThan(128 * 4);
      }, 120_000);
    }
  },
);

/** kernel-ksseg.elf running kbench twice (no user faults), with a short quantum. */
function pingPongKernel(): Uint8Array {
  const tests = Kbench.All & ~Kbench.UserFaults;
  const elf = withProcs(
    elfBytes("kernel-ksseg.elf"),
    "kernel-ksseg.elf",
    [Program.Kbench, tests],
    [Program.Kbench, tests],
  );
  return withTimerInterval(elf, "kernel-ksseg.elf", 500);
}

describe.skipIf(!hasQemuMips || boardMissing !== "")(
  "kernel sample, two kbench processes: QEMU and pvkit agree (skipped: needs qemu-system-mipsel and the pvkit MIPS board)",
  () => {
    it("prints the same, with per-pid checksums and both processes' yields", async () => {
      if (!("createBoard" in board)) return;
      const dir = mkdtempSync(join(tmpdir(), "pvkit-mips-kernel-"));
      try {
        const path = join(dir, "kernel.elf");
        const elf = pingPongKernel();
        writeFileSync(path, elf);
        const qemu = await runQemuMips(path, { marker: END_MARKER, timeoutMs: 30_000 });
        const pv = runOnPvkit(board.createBoard, elf, path);
        expect(pv.diagnostic).toBe("");
        expect(pv.output).toBe(qemu);
        expect(qemu.match(/kbench: yields: 200 done\n/g)).toHaveLength(2);
        // Both processes sweep the same VAs; their data differ by pid (host-computed checksums).
        expect(qemu).toContain("kbench: tlb sweep: 128 pages x 40 rounds, checksum 4ae14b00\n");
        expect(qemu).toContain("kbench: tlb sweep: 128 pages x 40 rounds, checksum 0aa3d000\n");
        expect(qemu).toContain("[kernel] timer preemption: seen\n");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  },
);

describe.skipIf(!hasMipsGcc)(requires("kernel sample build", hasMipsGcc, "mipsel-linux-gnu-gcc"), () => {
  it("rebuilds byte-identical ELFs", () => {
    // Build a copy of samples/guests so the committed files are never touched by the test.
    const dir = mkdtempSync(join(tmpdir(), "pvkit-mips-kernel-"));
    try {
      cpSync("samples/guests", dir, { recursive: true });
      const r = spawnSync("bash", [join(dir, "mips/kernel/build.sh")], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      for (const elf of KERNEL_BUILDS) {
        const rebuilt = readFileSync(join(dir, "mips/kernel", elf));
        const committed = readFileSync(join(KERNEL_DIR, elf));
        expect(Buffer.compare(rebuilt, committed), `${elf} differs from its rebuild`).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
