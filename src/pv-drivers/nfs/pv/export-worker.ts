/**
 * Worker-thread side of `SyncNfsExport`: runs the real `NfsServer` (the same code TCP clients
 * reach) on its own event loop and answers one record at a time into a shared buffer.
 * Messages in: `{ record, transport, peer }`; each answer is written to the shared buffer
 * (`ctl[1]` = reply length, −1 = no reply, −2 = reply larger than the buffer) before `ctl[0]`
 * is set to 1 and notified.
 */
import { parentPort, workerData } from "node:worker_threads";
import { NfsServer } from "../server/nfs-server.js";
import type { ExportWorkerData } from "./sync-export.js";

const data = workerData as ExportWorkerData;
const ctl = new Int32Array(data.shared, 0, 4);
const bytes = new Uint8Array(data.shared, 16);

function answer(reply: Uint8Array | null): void {
  if (reply === null) ctl[1] = -1;
  else if (reply.length > bytes.length) ctl[1] = -2;
  else {
    bytes.set(reply);
    ctl[1] = reply.length;
  }
  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 0);
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  let server: NfsServer;
  let tcpPort = 0;
  try {
    server = await NfsServer.create({
      exportDir: data.exportDir,
      readOnly: data.readOnly,
      ...(data.stateFile !== undefined ? { stateFile: data.stateFile } : {}),
    });
    if (data.tcpPort !== undefined) tcpPort = await server.listenTcp(data.tcpPort);
  } catch (err) {
    port.postMessage({ kind: "error", message: err instanceof Error ? err.message : String(err) });
    return;
  }
  port.on("message", (m: { record: Uint8Array; transport: string; peer: string }) => {
    server.handleRecord(m.record, { transport: m.transport, peer: m.peer }).then(answer, () => answer(null));
  });
  port.postMessage({ kind: "ready", tcpPort, exportPath: server.exportPath });
}

void main();
