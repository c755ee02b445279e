/**
 * A minimal portmapper (RFC 1833 §3, program 100000 version 2) on the NFS port, for clients
 * that ask where NFS and MOUNT are: GETPORT answers this server's port for the programs it
 * serves, DUMP lists them, SET/UNSET are refused.
 */

import { PMAP_PROGRAM, PMAP_V2, PmapProc } from "../mount3-proto.js";
import type { ProcedureOutcome, RpcProgram } from "../rpc/rpc-dispatcher.js";
import { AcceptStat, type RpcCall } from "../rpc/rpc-msg.js";
import type { XdrWriter } from "../rpc/xdr.js";

/** One registered (program, version, protocol) → port. */
export interface PortMapping {
  readonly prog: number;
  readonly vers: number;
  readonly prot: number;
  readonly port: number;
}

export class PortmapProgram implements RpcProgram {
  readonly prog = PMAP_PROGRAM;
  readonly vers = PMAP_V2;
  readonly name = "PMAP2";
  private table: PortMapping[] = [];

  /** The current table. */
  get mappings(): readonly PortMapping[] {
    return this.table;
  }

  /** Replaces the table (called once the listeners know their ports). */
  setMappings(mappings: readonly PortMapping[]): void {
    this.table = [...mappings];
  }

  procName(proc: number): string | undefined {
    return ["NULL", "SET", "UNSET", "GETPORT", "DUMP"][proc];
  }

  async handle(call: RpcCall, w: XdrWriter): Promise<ProcedureOutcome> {
    const r = call.args;
    switch (call.proc) {
      case PmapProc.Null:
        return { stat: AcceptStat.Success };
      case PmapProc.Set:
      case PmapProc.Unset:
        r.u32();
        r.u32();
        r.u32();
        r.u32();
        if (!r.ok) return { stat: AcceptStat.GarbageArgs };
        w.bool(false);
        return { stat: AcceptStat.Success, note: "refused" };
      case PmapProc.Getport: {
        const prog = r.u32();
        const vers = r.u32();
        const prot = r.u32();
        r.u32();
        if (!r.ok) return { stat: AcceptStat.GarbageArgs };
        const m = this.table.find((x) => x.prog === prog && x.vers === vers && x.prot === prot);
        w.u32(m?.port ?? 0);
        return { stat: AcceptStat.Success, note: `port ${m?.port ?? 0}` };
      }
      case PmapProc.Dump:
        for (const m of this.table) w.bool(true).u32(m.prog).u32(m.vers).u32(m.prot).u32(m.port);
        w.bool(false);
        return { stat: AcceptStat.Success };
      default:
        return { stat: AcceptStat.ProcUnavail };
    }
  }
}
