/**
 * Runs the MIPS kernel sample (samples/guests/mips/kernel) on pvkit's mipssim board and under
 * QEMU, for the differential test beside this file.
 */
import { readFileSync } from "node:fs";
import type { BoardStats } from "../../../src/machine/board.js";
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

/** Runs one kernel ELF on a fresh mipssim board until the exit port (or the budget). */
export function runOnPvkit(createBoard: CreateBoard, elfPath: string): PvkitRun {
  let output = "";
  const board = createBoard("mips", {
    console: (b) => {
      output += String.fromCharCode(b);
    },
  });
  board.loadGuest(new Uint8Array(readFileSync(elfPath)), elfPath);
  const stop = board.run(MAX_INSTRUCTIONS);
  return {
    output,
    stop,
    exitCode: board.stop.exitCode,
    stats: board.stats(),
    diagnostic: output.includes(END_MARKER_TEXT) ? "" : board.diagnostic(),
  };
}
