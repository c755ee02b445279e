/**
 * The NFSv3 server of the driver domain: MOUNT v3, NFS v3 and a minimal portmapper behind
 * one transport-independent `handleRecord(record, context) → reply`. `listenTcp` adds the
 * loopback TCP listener real clients use (both programs on one port); datagram and PV-ring
 * transports call `handleRecord` (or `DatagramRpcAdapter`) themselves.
 */

import type { Socket } from "node:dgram";
import type { FileHandle } from "node:fs/promises";
import { IPPROTO_TCP, IPPROTO_UDP, MOUNT_PROGRAM, MOUNT_V3 } from "../mount3-proto.js";
import { NFS_PROGRAM, NFS_V3 } from "../nfs3-proto.js";
import { formatRpcLog, RpcDispatcher } from "../rpc/rpc-dispatcher.js";
import { AuthFlavor, type RpcCredential, type RpcTransportContext } from "../rpc/rpc-msg.js";
import { bindUdp, DatagramRpcAdapter, type RecordHandler, TcpRpcServer } from "../rpc/transport.js";
import type { NfsExport } from "../tokens.js";
import { ExportFs } from "./export-fs.js";
import { FileHandleCodec } from "./file-handles.js";
import { Mount3Program } from "./mount3-program.js";
import { NFS_MAX_TRANSFER, Nfs3Program } from "./nfs3-program.js";
import { PortmapProgram } from "./portmap-program.js";
import { defaultStateFile, type HandleSecret, loadHandleSecret } from "./server-secret.js";

/** Largest RPC record accepted on a stream: one maximal WRITE plus headers. */
export const NFS_MAX_RECORD_BYTES = NFS_MAX_TRANSFER + 4096;

/** Options of `NfsServer.create`. */
export interface NfsServerOptions {
  /** Host directory to export. */
  readonly exportDir: string;
  /** Refuse modifications with NFS3ERR_ROFS. */
  readonly readOnly?: boolean;
  /** Where the handle key is kept (outside the export); default `defaultStateFile()`. */
  readonly stateFile?: string;
  /** Sink for warnings and connection events (and per-request lines when `verbose`). */
  readonly log?: (line: string) => void;
  /** Flush hook for WRITE (stable) and COMMIT; default fsync/fdatasync. */
  readonly syncFile?: (file: FileHandle, dataOnly: boolean) => Promise<void>;
  /** One log line per request: program, procedure, AUTH_SYS credentials, status, time. */
  readonly verbose?: boolean;
}

/** An AUTH_SYS identity seen on a call, with how often (credentials are recorded, never used to chown). */
export interface SeenCredential {
  readonly uid: number;
  readonly gid: number;
  readonly machineName: string;
  count: number;
}

/** MOUNT + NFS + portmap over one export. */
export class NfsServer implements RecordHandler, NfsExport {
  private tcp: TcpRpcServer | undefined;
  private tcpPort: number | undefined;
  private udp: Socket | undefined;
  private readonly credentials = new Map<string, SeenCredential>();

  private constructor(
    readonly fs: ExportFs,
    readonly nfs: Nfs3Program,
    readonly mount: Mount3Program,
    readonly portmap: PortmapProgram,
    private readonly dispatcher: RpcDispatcher,
    /** Connection events (oversized records, socket errors), only with --verbose. */
    private readonly log: ((line: string) => void) | undefined,
    /** False when handles will not survive a restart (no usable state file). */
    readonly persistentHandles: boolean,
  ) {}

  /** Opens the export and loads (or creates) the handle key. */
  static async create(options: NfsServerOptions): Promise<NfsServer> {
    let secret: HandleSecret | undefined;
    const fs = await ExportFs.open(options.exportDir, async (root) => {
      secret = await loadHandleSecret(options.stateFile ?? defaultStateFile(), root);
      return new FileHandleCodec(secret.key, root);
    });
    if (secret?.warning !== undefined) {
      options.log?.(`nfs-serve: warning: ${secret.warning}; handles will not survive a restart`);
    }
    const nfs = new Nfs3Program(fs, { readOnly: options.readOnly ?? false, syncFile: options.syncFile });
    const mount = new Mount3Program(fs, fs.root);
    const portmap = new PortmapProgram();
    const log = options.log;
    let server: NfsServer | undefined;
    const dispatcher = new RpcDispatcher({
      log: log === undefined || options.verbose !== true ? undefined : (e) => log(formatRpcLog(e)),
      onCall: (call) => server?.recordCredential(call.cred),
    });
    dispatcher.register(nfs);
    dispatcher.register(mount);
    dispatcher.register(portmap);
    const eventLog = options.verbose === true ? log : undefined;
    server = new NfsServer(fs, nfs, mount, portmap, dispatcher, eventLog, secret?.persistent ?? false);
    return server;
  }

  /** The path clients pass to MOUNT (the export's real host path). */
  get exportPath(): string {
    return this.fs.root;
  }

  /** AUTH_SYS identities seen so far. */
  get seenCredentials(): readonly SeenCredential[] {
    return [...this.credentials.values()];
  }

  /** Answers one RPC record from any transport (see RpcDispatcher.handleRecord). */
  handleRecord(record: Uint8Array, context: RpcTransportContext): Promise<Uint8Array | null> {
    return this.dispatcher.handleRecord(record, context);
  }

  private recordCredential(cred: RpcCredential): void {
    if (cred.flavor !== AuthFlavor.Sys) return;
    const key = `${cred.uid}:${cred.gid}:${cred.machineName}`;
    const seen = this.credentials.get(key);
    if (seen !== undefined) seen.count++;
    else if (this.credentials.size < 256) {
      this.credentials.set(key, { uid: cred.uid, gid: cred.gid, machineName: cred.machineName, count: 1 });
    }
  }

  /** Listens on TCP (127.0.0.1 by default) with record marking; resolves with the port. */
  async listenTcp(port = 0, host = "127.0.0.1"): Promise<number> {
    this.tcp = new TcpRpcServer(this, { maxRecordBytes: NFS_MAX_RECORD_BYTES, onEvent: this.log });
    const bound = await this.tcp.listen(port, host);
    this.tcpPort = bound;
    this.portmap.setMappings([
      ...this.portmap.mappings.filter((m) => m.prot !== IPPROTO_TCP),
      { prog: NFS_PROGRAM, vers: NFS_V3, prot: IPPROTO_TCP, port: bound },
      { prog: MOUNT_PROGRAM, vers: MOUNT_V3, prot: IPPROTO_TCP, port: bound },
    ]);
    return bound;
  }

  /**
   * Also listens on UDP (one record per datagram, replies to the sender), by default on the
   * TCP port; the portmapper then reports both. Resolves with the bound UDP port.
   */
  async listenUdp(port = this.tcpPort ?? 0, host = "127.0.0.1"): Promise<number> {
    this.udp = await bindUdp(new DatagramRpcAdapter(this), port, host);
    const bound = this.udp.address().port;
    this.portmap.setMappings([
      ...this.portmap.mappings.filter((m) => m.prot !== IPPROTO_UDP),
      { prog: NFS_PROGRAM, vers: NFS_V3, prot: IPPROTO_UDP, port: bound },
      { prog: MOUNT_PROGRAM, vers: MOUNT_V3, prot: IPPROTO_UDP, port: bound },
    ]);
    return bound;
  }

  /** Stops the listeners. */
  async close(): Promise<void> {
    await this.tcp?.close();
    this.tcp = undefined;
    const udp = this.udp;
    this.udp = undefined;
    if (udp !== undefined) await new Promise<void>((resolve) => udp.close(() => resolve()));
  }
}
