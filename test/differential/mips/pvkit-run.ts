/** Runs a guest image on pvkit's mipssim board in-process and returns its console output. */
import { createBoard, StopReason } from "../../../src/machine/index.js";

export interface PvkitResult {
  output: string;
  stop: StopReason;
  exitCode: number;
  instructions: number;
  diagnostic: string;
}

export function runPvkitMips(
  bytes: Uint8Array,
  file: string,
  maxInstructions = 2_000_000_000,
  input?: string,
): PvkitResult {
  let output = "";
  const board = createBoard("mips", {
    ...(input !== undefined ? { input } : {}),
    console: (b) => {
      output += String.fromCharCode(b);
    },
  });
  board.loadGuest(bytes, file);
  const stop = board.run(maxInstructions);
  const n = board.stats().instructions;
  return {
    output,
    stop,
    exitCode: board.stop.exitCode,
    instructions: typeof n === "number" ? n : 0,
    diagnostic: stop === StopReason.Exit ? "" : board.diagnostic(),
  };
}
