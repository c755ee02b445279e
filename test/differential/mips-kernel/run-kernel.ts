/**
 * Runs the MIPS kernel sample (samples/guests/mips/kernel) on pvkit's mipssim board and under
 * QEMU, for the differential test beside this file.
 */
import type { BoardStats } from "../../../src/machine/board.js";
import { EM_MIPS, parseElf32 } from "../../../src/machine/loader/elf.js";
import { END_MARKER_TEXT } from "./marker.js";

export const KERNEL_DIR = "samples/guests/mips/kernel";
/** The two builds of the same sources (README.md in KERNEL_DIR). */
export const KERNEL_BUILDS = ["kernel.elf", "kernel-ksseg.elf"] as const;
/** The kernel stops within ~200 M instructions; this bound only catches a hang. */
const MAX_INSTRUCTIONS = 2_000_000_000;

export interface PvkitRun {
  output: string;
  stop: number;
  exitCode: number;
  stats: BoardStats;
  diagnostic: string;
}

type CreateBoard = typeof import("../../../src/machine/boards/index.js").createBoard;

/** The board factory, or why pvkit's MIPS board cannot be used (not written yet, broken). */
export async function loadMipsBoard(): Promise<{ createBoard: CreateBoard } | { missing: string }> {
  try {
    const mod = await import("../../../src/machine/boards/index.js");
    mod.createBoard("mips");
    return { createBoard: mod.createBoard };
  } catch (e) {
    return { missing: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * A copy of a kernel ELF with its `timer_interval` variable (trap.c, Count ticks per quantum)
 * set to `ticks`, to show the output does not depend on the timer.
 */
export function withTimerInterval(elf: Uint8Array, file: string, ticks: number): Uint8Array {
  const img = parseElf32(elf, { file, machine: EM_MIPS });
  const sym = img.symbols.find((s) => s.name === "timer_interval");
  if (!sym) throw new Error(`${file}: no timer_interval symbol`);
  const seg = img.loadSegments.find((p) => sym.value >= p.vaddr && sym.value + 4 <= p.vaddr + p.filesz);
  if (!seg) throw new Error(`${file}: timer_interval is not in the file image`);
  const out = elf.slice();
  new DataView(out.buffer).setUint32(seg.offset + (sym.value - seg.vaddr), ticks, true);
  return out;
}

/** Runs one kernel ELF image on a fresh mipssim board until the exit port (or the budget). */
export function runOnPvkit(createBoard: CreateBoard, elf: Uint8Array, file: string): PvkitRun {
  let output = "";
  const board = createBoard("mips", {
    console: (b) => {
      output += String.fromCharCode(b);
    },
  });
  board.loadGuest(elf, file);
  const stop = board.run(MAX_INSTRUCTIONS);
  return {
    output,
    stop,
    exitCode: board.stop.exitCode,
    stats: board.stats(),
    diagnostic: output.includes(END_MARKER_TEXT) ? "" : board.diagnostic(),
  };
}
