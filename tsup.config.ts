import { defineConfig } from "tsup";

// One entry per layer so each subpath of the package (pvkit/machine, pvkit/guest-sdk, …) is its own
// module; splitting stays on so DI tokens (Symbols) exist once across subpaths (TOOLCHAIN.md).
export default defineConfig({
  entry: {
    index: "src/index.ts",
    cli: "src/cli/main.ts",
    "machine/index": "src/machine/index.ts",
    "full-virt/index": "src/full-virt/index.ts",
    "hypervisor/index": "src/hypervisor/index.ts",
    "hypercalls/index": "src/hypercalls/index.ts",
    "guest-sdk/index": "src/guest-sdk/index.ts",
    "pv-drivers/index": "src/pv-drivers/index.ts",
    "compare/index": "src/compare/index.ts",
    // The NFS server's worker thread (SyncNfsExport starts it by file name).
    "pv-drivers/nfs-export-worker": "src/pv-drivers/nfs/pv/export-worker.ts",
  },
  format: ["esm"],
  target: "node20",
  dts: true,
  splitting: true,
  sourcemap: true,
  clean: true,
});
