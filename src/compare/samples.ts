/** Finding the sample guests from source (src/compare) or from the built package (dist/). */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | null = null;

/** Absolute path of `samples/guests/<rel>`, searched upward from this module (src/ or dist/). */
export function samplePath(rel: string): string {
  if (root === null) {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (;;) {
      if (existsSync(join(dir, "samples", "guests"))) break;
      const up = dirname(dir);
      if (up === dir)
        throw new Error("samples/guests not found above the pvkit package: run from a pvkit checkout");
      dir = up;
    }
    root = join(dir, "samples", "guests");
  }
  return join(root, rel);
}
