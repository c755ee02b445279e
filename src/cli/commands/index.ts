import type { Command } from "commander";
import { registerCompare } from "./compare.js";
import { registerDisasm } from "./disasm.js";
import { registerNfsServe } from "./nfs-serve.js";
import { registerRun } from "./run.js";
import { registerRunTs } from "./run-ts.js";
import { registerStoreLs } from "./store-ls.js";

/** Every subcommand registers itself here; one line per command file. */
export function registerCommands(program: Command): void {
  registerDisasm(program);
  registerRun(program);
  registerRunTs(program);
  registerNfsServe(program);
  registerStoreLs(program);
  registerCompare(program);
}
