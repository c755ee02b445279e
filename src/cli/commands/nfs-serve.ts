import type { Command } from "commander";
import { NfsServer } from "../../pv-drivers/index.js";

/** Options of `pvkit nfs-serve`. */
interface NfsServeOptions {
  readonly export: string;
  readonly port: string;
  readonly readOnly?: boolean;
  readonly verbose?: boolean;
  readonly stateFile?: string;
  readonly udp?: boolean;
}

/**
 * `pvkit nfs-serve --export DIR [--port N] [--read-only] [--verbose]`: NFSv3 + MOUNT v3 (and a
 * minimal portmapper) on one TCP port on 127.0.0.1. Prints the port on stderr; runs until
 * SIGINT/SIGTERM.
 */
export function registerNfsServe(program: Command): void {
  program
    .command("nfs-serve")
    .description("Serve a host directory over NFSv3 (TCP on 127.0.0.1; NFS and MOUNT on one port)")
    .requiredOption("--export <dir>", "host directory to export")
    .option("--port <n>", "TCP port (0 = ephemeral)", "2049")
    .option("--read-only", "refuse modifications with NFS3ERR_ROFS")
    .option("--verbose", "one line per request on stderr (procedure, AUTH_SYS credentials, status)")
    .option("--state-file <path>", "where the file-handle key is kept (outside the export)")
    .option("--udp", "also serve RPCs over UDP on the same port number")
    .action(async (opts: NfsServeOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`--port ${opts.port} is not a TCP port number (0-65535)`);
      }
      const log = opts.verbose ? (line: string) => process.stderr.write(`${line}\n`) : undefined;
      const server = await NfsServer.create({
        exportDir: opts.export,
        readOnly: opts.readOnly ?? false,
        stateFile: opts.stateFile,
        log: log ?? ((line: string) => process.stderr.write(`${line}\n`)),
        verbose: opts.verbose ?? false,
      });
      const bound = await server.listenTcp(port).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "EADDRINUSE") {
          throw new Error(
            `port ${port} on 127.0.0.1 is in use; pass --port 0 for an ephemeral port or pick another`,
          );
        }
        if (err.code === "EACCES")
          throw new Error(`port ${port} needs privileges; pass a port above 1023 or --port 0`);
        throw err;
      });
      if (opts.udp) await server.listenUdp(bound);
      process.stderr.write(
        `nfs-serve: exporting ${server.exportPath}${opts.readOnly ? " (read-only)" : ""} on 127.0.0.1 port ${bound}${opts.udp ? " (TCP and UDP)" : ""}\n` +
          `nfs-serve: port=${bound}\n` +
          `nfs-serve: try nfs-ls "nfs://127.0.0.1${server.exportPath}?nfsport=${bound}&mountport=${bound}&version=3"\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await server.close();
    });
}
