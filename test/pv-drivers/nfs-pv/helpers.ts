/** Sandbox export + the real server in its worker (also on loopback TCP) for the nfs-pv tests. */
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SyncNfsExport } from "../../../src/pv-drivers/index.js";

export interface PvSandbox {
  readonly exportDir: string;
  readonly server: SyncNfsExport;
  cleanup(): Promise<void>;
}

export async function startPvSandbox(): Promise<PvSandbox> {
  let base = tmpdir();
  try {
    await access("/dev/shm", constants.W_OK);
    base = "/dev/shm";
  } catch {}
  const top = await mkdtemp(join(base, "pvkit-nfs-pv-"));
  const exportDir = join(top, "export");
  await mkdir(exportDir);
  const server = await SyncNfsExport.start({ exportDir, stateFile: join(top, "state.json"), tcpPort: 0 });
  return {
    exportDir,
    server,
    cleanup: async () => {
      await server.close();
      await rm(top, { recursive: true, force: true });
    },
  };
}

/** Deterministic bytes: `seed` selects the pattern. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
