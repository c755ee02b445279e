/**
 * `pvkit nfs-serve` with only that command registered: the interop test runs the real
 * command code without depending on every other command's module graph.
 */
import { Command } from "commander";
import { registerNfsServe } from "../../../../src/cli/commands/nfs-serve.js";

const program = new Command().name("pvkit").exitOverride();
registerNfsServe(program);
await program.parseAsync(process.argv);
