import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  formatStoreTree,
  readStoreDump,
  StoreToolstack,
  writeStoreDump,
  XenStore,
} from "../../../src/hypervisor/store/index.js";

describe("store dump and store-ls", () => {
  it("round-trips a toolstack tree and prints it xenstore-ls style", () => {
    const store = new XenStore();
    const ts = new StoreToolstack(store);
    ts.createDomain(1, "front");
    ts.addDevice({ type: "echo", frontend: 1, backend: 0, devid: 0 });
    const file = join(mkdtempSync(join(tmpdir(), "pvkit-store-")), "store.json");
    writeStoreDump(store, file);
    const text = formatStoreTree(readStoreDump(file), { perms: true });
    expect(text).toContain('     0 = ""  (n1,r0)');
    expect(text).toContain('      backend = "/local/domain/0/backend/echo/1/0"  (n1,r0)');
    expect(text).toContain('      state = "1"  (n1,r0)');
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", "store-ls", file, "/local/domain/1"],
      {
        encoding: "utf8",
      },
    );
    expect(out.split("\n")[0]).toBe('data = ""');
    expect(out).toContain('name = "front"');
    expect(out).toContain('\n  0 = ""');
  });
});
