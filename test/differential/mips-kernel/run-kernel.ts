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

/** A copy of a kernel ELF with consecutive 32-bit words at `symbol` replaced by `words`. */
export function patchWords(
  elf: Uint8Array,
  file: string,
  symbol: string,
  words: readonly number[],
): Uint8Array {
  const img = parseElf32(elf, { file, machine: EM_MIPS });
  const sym = img.symbols.find((s) => s.name === symbol);
  if (!sym) throw new Error(`${file}: no ${symbol} symbol`);
  const size = 4 * words.length;
  const seg = img.loadSegments.find((p) => sym.value >= p.vaddr && sym.value + size <= p.vaddr + p.filesz);
  if (!seg) throw new Error(`${file}: ${symbol} is not in the file image`);
  const out = elf.slice();
  const view = new DataView(out.buffer);
  words.forEach((w, i) => {
    view.setUint32(seg.offset + (sym.value - seg.vaddr) + 4 * i, w >>> 0, true);
  });
  return out;
}

/**
 * A copy with `timer_interval` (trap.c, Count ticks per quantum) set to `ticks`, to show the
 * output does not depend on the timer.
 */
export function withTimerInterval(elf: Uint8Array, file: string, ticks: number): Uint8Array {
  return patchWords(elf, file, "timer_interval", [ticks]);
}

/** Programs for `proc_config` (main.c): {program, argument} per pid. */
export const Program = { None: 0, Compute: 1, Kbench: 2 } as const;
/** kbench's argument bits (include/syscalls.h KB_*). */
export const Kbench = {
  Syscalls: 0x01,
  PageFaults: 0x02,
  TlbSweep: 0x04,
  Yields: 0x08,
  UserFaults: 0x10,
  All: 0x1f,
} as const;

/** A copy with `proc_config` set: what pid 1 and pid 2 run, and their arguments. */
export function withProcs(
  elf: Uint8Array,
  file: string,
  pid1: readonly [number, number],
  pid2: readonly [number, number],
): Uint8Array {
  return patchWords(elf, file, "proc_config", [...pid1, ...pid2]);
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
