/**
 * The MOUNT version 3 program (RFC 1813 §5): hands out the export's root handle for the
 * export path only, and keeps the (informational) list of mounts for DUMP.
 */

import {
  MNTPATHLEN,
  MOUNT_PROGRAM,
  MOUNT_V3,
  MOUNT3_PROC_NAMES,
  Mount3Proc,
  MountStat3,
} from "../mount3-proto.js";
import type { ProcedureOutcome, RpcProgram } from "../rpc/rpc-dispatcher.js";
import { AcceptStat, AuthFlavor, type RpcCall } from "../rpc/rpc-msg.js";
import type { XdrWriter } from "../rpc/xdr.js";
import type { ExportFs } from "./export-fs.js";

const MOUNT_STAT_NAMES = new Map<number, string>(
  Object.entries(MountStat3).map(([k, v]) => [v, v === 0 ? "MNT3_OK" : `MNT3ERR_${k.toUpperCase()}`]),
);

/** One DUMP entry. */
export interface MountEntry {
  readonly host: string;
  readonly dir: string;
}

/** Strips trailing slashes (but keeps "/"). */
function normalize(path: string): string {
  const p = path.replace(/\/+$/, "");
  return p === "" ? "/" : p;
}

/** MOUNT program 100005 version 3. */
export class Mount3Program implements RpcProgram {
  readonly prog = MOUNT_PROGRAM;
  readonly vers = MOUNT_V3;
  readonly name = "MOUNT3";
  private mounts: MountEntry[] = [];

  /** @param exportPath the path clients mount (the export's absolute host path). */
  constructor(
    private readonly fs: ExportFs,
    readonly exportPath: string,
  ) {}

  /** Current mount list (DUMP). */
  get mountList(): readonly MountEntry[] {
    return this.mounts;
  }

  procName(proc: number): string | undefined {
    return MOUNT3_PROC_NAMES[proc];
  }

  async handle(call: RpcCall, w: XdrWriter): Promise<ProcedureOutcome> {
    const r = call.args;
    const host = call.cred.flavor === AuthFlavor.Sys ? call.cred.machineName : call.context.peer;
    switch (call.proc) {
      case Mount3Proc.Null:
        return { stat: AcceptStat.Success, note: "OK" };
      case Mount3Proc.Mnt: {
        const dir = r.string(MNTPATHLEN);
        if (!r.ok) return { stat: AcceptStat.GarbageArgs };
        const path = normalize(dir);
        let status: number = MountStat3.Ok;
        if (path !== this.exportPath) {
          // Paths below the export exist but are not exported; everything else is unknown.
          status = path.startsWith(`${this.exportPath}/`) ? MountStat3.Acces : MountStat3.NoEnt;
        }
        const root = status === MountStat3.Ok ? await this.fs.rootNode() : MountStat3.NoEnt;
        if (typeof root === "number") {
          w.u32(status === MountStat3.Ok ? MountStat3.ServerFault : status);
          return { stat: AcceptStat.Success, note: `${MOUNT_STAT_NAMES.get(status)} ${dir}` };
        }
        w.u32(MountStat3.Ok);
        w.opaqueVar(this.fs.handleOf(root));
        w.u32(2).u32(AuthFlavor.Sys).u32(AuthFlavor.None); // auth_flavors<>
        if (!this.mounts.some((m) => m.host === host && m.dir === path)) {
          if (this.mounts.length >= 1024) this.mounts.shift();
          this.mounts.push({ host, dir: path });
        }
        return { stat: AcceptStat.Success, note: `MNT3_OK ${dir}` };
      }
      case Mount3Proc.Dump:
        for (const m of this.mounts) w.bool(true).string(m.host).string(m.dir);
        w.bool(false);
        return { stat: AcceptStat.Success, note: "OK" };
      case Mount3Proc.Umnt: {
        const dir = r.string(MNTPATHLEN);
        if (!r.ok) return { stat: AcceptStat.GarbageArgs };
        const path = normalize(dir);
        this.mounts = this.mounts.filter((m) => !(m.host === host && m.dir === path));
        return { stat: AcceptStat.Success, note: "OK" };
      }
      case Mount3Proc.Umntall:
        this.mounts = this.mounts.filter((m) => m.host !== host);
        return { stat: AcceptStat.Success, note: "OK" };
      case Mount3Proc.Export:
        // One export, no group restriction (an empty groups list means every host may mount).
        w.bool(true).string(this.exportPath).bool(false);
        w.bool(false);
        return { stat: AcceptStat.Success, note: "OK" };
      default:
        return { stat: AcceptStat.ProcUnavail };
    }
  }
}
