#!/usr/bin/env node
import "reflect-metadata";
import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/index.js";

/** Entry of the `pvkit` command. Each subcommand lives in its own file under commands/. */
const program = new Command()
  .name("pvkit")
  .description("Simulated MIPS32 and i386 machines, full virtualization and Xen-style paravirtualization")
  .version("0.1.0")
  .showHelpAfterError()
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`pvkit: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
