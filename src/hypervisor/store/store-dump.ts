/**
 * How a run's store is kept and shown: a run writes its final store as JSON
 * (`{ "format": "pvkit-store-dump/1", "tree": … }`, e.g. under `pvkit run --store-dump FILE`),
 * and `pvkit store-ls FILE [PATH]` prints it in the style of xenstore-ls. In-process, call
 * `formatStoreTree(store.dump())` on a live XenStore.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { PvkitError } from "../../machine/errors.js";
import type { StoreDumpNode, XenStore } from "./xenstored.js";

export const STORE_DUMP_FORMAT = "pvkit-store-dump/1";

export interface StoreDumpFile {
  format: typeof STORE_DUMP_FORMAT;
  tree: StoreDumpNode;
}

/** Writes the store's current tree to `file`. */
export function writeStoreDump(store: XenStore, file: string): void {
  const out: StoreDumpFile = { format: STORE_DUMP_FORMAT, tree: store.dump()! };
  writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
}

/** Reads a dump written by `writeStoreDump`; throws a PvkitError saying what is wrong. */
export function readStoreDump(file: string): StoreDumpNode {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new PvkitError(`cannot read store dump ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const f = parsed as Partial<StoreDumpFile>;
  if (f.format !== STORE_DUMP_FORMAT || typeof f.tree !== "object" || f.tree === null) {
    throw new PvkitError(`${file} is not a pvkit store dump (expected "format": "${STORE_DUMP_FORMAT}")`);
  }
  return f.tree;
}

/** Finds the node at `path` in a dump. */
export function dumpLookup(root: StoreDumpNode, path: string): StoreDumpNode | undefined {
  let n: StoreDumpNode | undefined = root;
  for (const c of path === "/" ? [] : path.replace(/^\//, "").split("/")) {
    n = n?.children[c];
  }
  return n;
}

/**
 * xenstore-ls style: one line per node, `name = "value"`, children indented by one space;
 * with `perms`, the permission list in parentheses.
 */
export function formatStoreTree(root: StoreDumpNode, opts: { perms?: boolean } = {}): string {
  const lines: string[] = [];
  const rec = (n: StoreDumpNode, depth: number) => {
    for (const [name, c] of Object.entries(n.children)) {
      const perms = opts.perms ? `  (${c.perms.join(",")})` : "";
      lines.push(`${" ".repeat(depth)}${name} = ${JSON.stringify(c.value)}${perms}`);
      rec(c, depth + 1);
    }
  };
  rec(root, 0);
  return lines.join("\n");
}
