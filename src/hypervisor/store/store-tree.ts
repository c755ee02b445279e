/**
 * The store's data: a tree of nodes, each with a value (bytes), Xen permissions, children and
 * a generation number bumped on every change of the node or of its children list. Generations
 * are what transactions compare at commit to detect a conflict.
 */
import type { StorePerm } from "../../hypercalls/index.js";

export interface StoreNode {
  value: Uint8Array;
  perms: StorePerm[];
  children: Map<string, StoreNode>;
  /** Generation of the last change of this node (value, perms, children list). */
  gen: number;
}

export function newNode(perms: StorePerm[], gen: number, value: Uint8Array = new Uint8Array(0)): StoreNode {
  return { value, perms: perms.map((p) => ({ ...p })), children: new Map(), gen };
}

/** Deep copy (a transaction's private snapshot). Values are immutable and shared. */
export function cloneTree(n: StoreNode): StoreNode {
  const c: StoreNode = {
    value: n.value,
    perms: n.perms.map((p) => ({ ...p })),
    children: new Map(),
    gen: n.gen,
  };
  for (const [k, v] of n.children) c.children.set(k, cloneTree(v));
  return c;
}

/** Path components of a canonical absolute path ("/" → []). */
export function components(path: string): string[] {
  return path === "/" ? [] : path.slice(1).split("/");
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

export function lookup(root: StoreNode, path: string): StoreNode | undefined {
  let n: StoreNode | undefined = root;
  for (const c of components(path)) {
    n = n.children.get(c);
    if (!n) return undefined;
  }
  return n;
}

/** Calls `fn` for the node and every descendant, depth first, with their absolute paths. */
export function walk(n: StoreNode, path: string, fn: (node: StoreNode, path: string) => void): void {
  fn(n, path);
  for (const [k, v] of [...n.children].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    walk(v, path === "/" ? `/${k}` : `${path}/${k}`, fn);
  }
}

/** Is `path` equal to `base` or below it? */
export function isUnder(path: string, base: string): boolean {
  return base === "/" || path === base || path.startsWith(`${base}/`);
}
