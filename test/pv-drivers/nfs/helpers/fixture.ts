/** A sandbox (export inside a parent directory holding a file that must stay unreachable) and a live server. */
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NfsServer } from "../../../../src/pv-drivers/index.js";
import { Nfs3TestClient, RpcClient } from "./rpc-client.js";

export interface Sandbox {
  /** Temporary top directory (removed by cleanup). */
  readonly top: string;
  /** Parent of the export; holds outside.txt. */
  readonly parent: string;
  /** The exported directory. */
  readonly exportDir: string;
  /** Handle key state file (outside the parent). */
  readonly stateFile: string;
  cleanup(): Promise<void>;
}

/** tmpfs when the host has one (creating 5,000 files on a busy disk can take seconds), else the temp dir. */
async function sandboxBase(): Promise<string> {
  try {
    await access("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return tmpdir();
  }
}

export async function makeSandbox(): Promise<Sandbox> {
  const top = await mkdtemp(join(await sandboxBase(), "pvkit-nfs-"));
  const parent = join(top, "parent");
  const exportDir = join(parent, "export");
  await mkdir(exportDir, { recursive: true });
  await mkdir(join(top, "state"));
  await writeFile(join(parent, "outside.txt"), "secret outside the export\n");
  return {
    top,
    parent,
    exportDir,
    stateFile: join(top, "state", "nfs-state.json"),
    cleanup: () => rm(top, { recursive: true, force: true }),
  };
}

export interface Running {
  readonly server: NfsServer;
  readonly port: number;
  readonly rpc: RpcClient;
  readonly nfs: Nfs3TestClient;
  readonly root: Uint8Array;
  stop(): Promise<void>;
}

export async function startServer(sb: Sandbox, readOnly = false): Promise<Running> {
  const server = await NfsServer.create({ exportDir: sb.exportDir, readOnly, stateFile: sb.stateFile });
  const port = await server.listenTcp(0);
  const rpc = await RpcClient.connect(port);
  const nfs = new Nfs3TestClient(rpc);
  const m = await nfs.mount(server.exportPath);
  if (m.status !== 0 || m.fh === undefined) throw new Error(`mount failed: ${m.status}`);
  return {
    server,
    port,
    rpc,
    nfs,
    root: m.fh,
    stop: async () => {
      rpc.close();
      await server.close();
    },
  };
}
