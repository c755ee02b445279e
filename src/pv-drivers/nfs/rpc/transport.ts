/**
 * Transport adapters around `RpcDispatcher.handleRecord`: TCP with record marking (what real
 * NFS clients use on loopback) and datagrams (one record per datagram, as over UDP; the
 * emulated-NIC path hands datagrams to `DatagramRpcAdapter` directly).
 */
import dgram from "node:dgram";
import net from "node:net";
import { RecordMarkingDecoder, singleFragmentHeader } from "./record-marking.js";
import type { RpcTransportContext } from "./rpc-msg.js";

/** Something that answers one RPC record. */
export interface RecordHandler {
  handleRecord(record: Uint8Array, context: RpcTransportContext): Promise<Uint8Array | null>;
}

/** Options of the stream adapter. */
export interface TcpRpcOptions {
  /** Largest record accepted; bigger ones close the connection. */
  readonly maxRecordBytes: number;
  /** Called with protocol problems (oversized record, socket errors) for --verbose. */
  readonly onEvent?: (line: string) => void;
}

/**
 * Serves records over TCP. Calls on one connection are answered in order, one at a time
 * (RPC allows any order; in-order keeps WRITE-then-COMMIT pipelines simple); connections
 * run concurrently.
 */
export class TcpRpcServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly handler: RecordHandler,
    private readonly options: TcpRpcOptions,
  ) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** Listens on host:port (port 0: ephemeral); resolves with the bound port. */
  listen(port: number, host = "127.0.0.1"): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        const addr = this.server.address();
        resolve(typeof addr === "object" && addr !== null ? addr.port : port);
      });
    });
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    // Replies are whole records written at once; do not let Nagle hold them for an ACK.
    socket.setNoDelay(true);
    const context: RpcTransportContext = {
      transport: "tcp",
      peer: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`,
    };
    const decoder = new RecordMarkingDecoder(this.options.maxRecordBytes);
    const queue: Uint8Array[] = [];
    let busy = false;
    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      while (queue.length > 0 && !socket.destroyed) {
        const record = queue.shift()!;
        let reply: Uint8Array | null;
        try {
          reply = await this.handler.handleRecord(record, context);
        } catch (err) {
          // Handlers answer SYSTEM_ERR themselves; reaching here is a server bug: drop the
          // connection, keep the server.
          this.options.onEvent?.(`[tcp ${context.peer}] internal error: ${(err as Error).message}`);
          socket.destroy();
          break;
        }
        if (reply !== null && !socket.destroyed) {
          socket.cork();
          socket.write(singleFragmentHeader(reply.length));
          socket.write(reply);
          socket.uncork();
        }
        if (queue.length < 16 && socket.isPaused()) socket.resume();
      }
      busy = false;
    };
    socket.on("data", (chunk: Buffer) => {
      const { records, error } = decoder.push(chunk);
      if (error !== undefined) {
        this.options.onEvent?.(`[tcp ${context.peer}] closing: ${error}`);
        socket.destroy();
        return;
      }
      if (records.length === 0) return;
      queue.push(...records);
      // Back-pressure: a client that pipelines faster than we answer is paused.
      if (queue.length >= 64) socket.pause();
      void pump();
    });
    socket.on("error", (err) => this.options.onEvent?.(`[tcp ${context.peer}] ${err.message}`));
    socket.on("close", () => this.sockets.delete(socket));
  }
}

/**
 * One record per datagram, no framing (RFC 5531 §11 applies to streams only). Datagram
 * clients retransmit on timeout, so a small duplicate-request cache answers a retransmitted
 * call (same peer, xid and bytes) with the reply already sent instead of running a
 * non-idempotent procedure (REMOVE, RENAME, CREATE GUARDED…) twice.
 */
export class DatagramRpcAdapter {
  private readonly replies = new Map<string, { request: Uint8Array; reply: Uint8Array | null }>();

  /**
   * @param maxDatagramBytes larger datagrams are dropped unanswered.
   * @param cacheEntries replies remembered for retransmissions (0 disables the cache).
   */
  constructor(
    private readonly handler: RecordHandler,
    private readonly maxDatagramBytes = 65507,
    private readonly cacheEntries = 256,
  ) {}

  /** Answers one datagram; null means send nothing. */
  async handle(datagram: Uint8Array, context: RpcTransportContext): Promise<Uint8Array | null> {
    if (datagram.length > this.maxDatagramBytes) return null;
    if (this.cacheEntries === 0 || datagram.length < 4) return this.handler.handleRecord(datagram, context);
    const xid = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength).getUint32(0, false);
    const key = `${context.peer}/${xid}`;
    const hit = this.replies.get(key);
    if (hit !== undefined && equalBytes(hit.request, datagram)) return hit.reply;
    const request = datagram.slice();
    const reply = await this.handler.handleRecord(request, context);
    this.replies.delete(key);
    this.replies.set(key, { request, reply });
    if (this.replies.size > this.cacheEntries) this.replies.delete(this.replies.keys().next().value!);
    return reply;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Binds a host UDP socket to a datagram adapter (optional second listener of `nfs-serve`). */
export function bindUdp(
  adapter: DatagramRpcAdapter,
  port: number,
  host = "127.0.0.1",
): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    sock.once("error", reject);
    sock.on("message", (msg, rinfo) => {
      const context: RpcTransportContext = { transport: "udp", peer: `${rinfo.address}:${rinfo.port}` };
      adapter.handle(msg, context).then(
        (reply) => {
          if (reply !== null) sock.send(reply, rinfo.port, rinfo.address);
        },
        () => {}, // a server bug on one datagram must not take the listener down
      );
    });
    sock.bind(port, host, () => {
      sock.off("error", reject);
      resolve(sock);
    });
  });
}
