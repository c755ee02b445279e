import type { Command } from "commander";
import { dumpLookup, formatStoreTree, readStoreDump } from "../../hypervisor/store/index.js";

/**
 * `pvkit store-ls FILE [PATH]`: prints the XenStore tree of a run. A run is identified by the
 * dump file it wrote (`pvkit run --store-dump FILE`, or `writeStoreDump` in-process).
 */
export function registerStoreLs(program: Command): void {
  program
    .command("store-ls")
    .description("print the XenStore tree of a run from its --store-dump file")
    .argument("<file>", "store dump written by `pvkit run --store-dump FILE`")
    .argument("[path]", "subtree to print", "/")
    .option("-p, --perms", "show each node's permissions (Xen notation: n0, r1, w2, b3)")
    .action((file: string, path: string, opts: { perms?: boolean }) => {
      const node = dumpLookup(readStoreDump(file), path);
      if (!node) {
        process.stderr.write(`pvkit store-ls: ${path}: no such node in ${file}\n`);
        process.exitCode = 1;
        return;
      }
      const text = formatStoreTree(node, { perms: opts.perms });
      if (text) process.stdout.write(`${text}\n`);
    });
}
