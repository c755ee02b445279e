import type { Command } from "commander";
import { registerNfsServe } from "./nfs-serve.js";
import { registerStoreLs } from "./store-ls.js";

/** Every subcommand registers itself here; one line per command file. */
export function registerCommands(program: Command): void {
  registerNfsServe(program);
  registerStoreLs(program);
}
