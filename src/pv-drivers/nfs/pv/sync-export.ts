/**
 * A synchronous face on the real NFS server, for the driver domain's back end.
 *
 * Why: pvkit runs in simulated time and host I/O must complete at cost-model times (DESIGN.md
 * "Time and cost"; BlockStore is synchronous for the same reason). `NfsServer` does its host
 * I/O with node:fs/promises; awaited inside a TS guest, those continuations would run outside
 * the driver domain's slice, at host speed, and the scheduler would see every domain blocked
 * and end the run. So the server runs unchanged in a worker thread and the back end waits for
 * each answer with `Atomics.wait`: simulated time stands still while the host works, and the
 * back end charges the cost model instead. The worker can also listen on loopback TCP, so
 * real NFS clients reach the very server instance the guests use.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { PvkitError } from "../../../machine/index.js";
import type { RpcTransportContext } from "../rpc/rpc-msg.js";
import { NFS_MAX_RECORD_BYTES } from "../server/nfs-server.js";
import type { NfsExport } from "../tokens.js";

/** Something that answers one RPC record synchronously (null: no reply). */
export interface SyncRecordHandler {
  handleRecordSync(record: Uint8Array, context: RpcTransportContext): Uint8Array | null;
}

/** What the worker is started with. */
export interface ExportWorkerData {
  readonly shared: SharedArrayBuffer;
  readonly exportDir: string;
  readonly readOnly: boolean;
  readonly stateFile?: string;
  readonly tcpPort?: number;
}

/** Options of `SyncNfsExport.start`. */
export interface SyncNfsExportOptions {
  readonly exportDir: string;
  readonly readOnly?: boolean;
  /** Handle-key state file (outside the export); default the server's default. */
  readonly stateFile?: string;
  /** Also listen on loopback TCP (0: an ephemeral port) for real NFS clients. */
  readonly tcpPort?: number;
  /** Longest wait for one answer before giving up (ms). Default 30 000. */
  readonly timeoutMs?: number;
}

/** The worker thread died or did not answer in time. */
export class NfsExportError extends PvkitError {}

/** Reply buffer: the largest record the server answers (a maximal READ) plus headers. */
const SHARED_BYTES = 16 + NFS_MAX_RECORD_BYTES + 4096;

/** The worker script: its .ts source under tsx/vitest, the built .js in dist. */
function workerScript(): { code: string; eval: boolean } {
  const here = import.meta.url;
  if (here.endsWith(".ts")) {
    const url = new URL("./export-worker.ts", here).href;
    // Node 20 does not apply `--import tsx` to a worker's entry: register tsx inside it.
    return {
      code: `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(url)}); })`,
      eval: true,
    };
  }
  // Built: this code sits in dist/ (a shared chunk) or dist/pv-drivers/; tsup.config.ts names
  // the worker entry pv-drivers/nfs-export-worker.
  for (const rel of [
    "./pv-drivers/nfs-export-worker.js",
    "./nfs-export-worker.js",
    "../pv-drivers/nfs-export-worker.js",
  ]) {
    const u = new URL(rel, here);
    if (existsSync(fileURLToPath(u))) return { code: fileURLToPath(u), eval: false };
  }
  throw new NfsExportError("nfs-export-worker.js is missing from the build: rebuild pvkit (npm run build)");
}

/**
 * The real server behind a synchronous call; also fills the `NfsExport` DI role (its async
 * `handleRecord` is the same call).
 */
export class SyncNfsExport implements SyncRecordHandler, NfsExport {
  /** Records answered (statistics). */
  calls = 0;
  private readonly ctl: Int32Array;
  private readonly bytes: Uint8Array;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    shared: SharedArrayBuffer,
    /** Bound TCP port, 0 when not listening. */
    readonly tcpPort: number,
    /** The export's real host path (what MOUNT expects). */
    readonly exportPath: string,
    private readonly timeoutMs: number,
  ) {
    this.ctl = new Int32Array(shared, 0, 4);
    this.bytes = new Uint8Array(shared, 16);
  }

  /** Starts the worker and the server in it; resolves once it serves. */
  static async start(o: SyncNfsExportOptions): Promise<SyncNfsExport> {
    const shared = new SharedArrayBuffer(SHARED_BYTES);
    const wd: ExportWorkerData = {
      shared,
      exportDir: o.exportDir,
      readOnly: o.readOnly ?? false,
      ...(o.stateFile !== undefined ? { stateFile: o.stateFile } : {}),
      ...(o.tcpPort !== undefined ? { tcpPort: o.tcpPort } : {}),
    };
    const s = workerScript();
    const worker = new Worker(s.code, { eval: s.eval, workerData: wd });
    const ready = await new Promise<{
      kind: string;
      tcpPort?: number;
      exportPath?: string;
      message?: string;
    }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    if (ready.kind !== "ready") {
      await worker.terminate();
      throw new NfsExportError(`NFS export worker failed to start: ${ready.message ?? "unknown error"}`);
    }
    worker.unref();
    return new SyncNfsExport(
      worker,
      shared,
      ready.tcpPort ?? 0,
      ready.exportPath ?? o.exportDir,
      o.timeoutMs ?? 30_000,
    );
  }

  /** Answers one record, blocking this thread until the server has (simulated time stands still). */
  handleRecordSync(record: Uint8Array, context: RpcTransportContext): Uint8Array | null {
    if (this.closed) throw new NfsExportError("the NFS export was closed");
    Atomics.store(this.ctl, 0, 0);
    this.worker.postMessage({ record, transport: context.transport, peer: context.peer });
    if (Atomics.wait(this.ctl, 0, 0, this.timeoutMs) === "timed-out")
      throw new NfsExportError(`the NFS export worker did not answer within ${this.timeoutMs} ms`);
    this.calls++;
    const n = this.ctl[1]!;
    if (n < 0) return null;
    return this.bytes.slice(0, n);
  }

  /** The NfsExport role's form of `handleRecordSync`. */
  handleRecord(record: Uint8Array, context: RpcTransportContext): Promise<Uint8Array | null> {
    try {
      return Promise.resolve(this.handleRecordSync(record, context));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Stops the worker (and its TCP listener). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }
}
