/**
 * DI role of the NFS back end (DESIGN.md "Dependency injection": monitor-side `NfsExport`).
 * A profile registers an `NfsServer` (or anything that answers RPC records) under this token;
 * transports — the PV ring back end, the emulated NIC's UDP path — ask for the role.
 */
import type { RpcTransportContext } from "./rpc/rpc-msg.js";

/** Token of the NfsExport role; Symbol.for so every bundle chunk agrees on it. */
export const NfsExportToken = Symbol.for("pvkit.NfsExport");

/** What transports need from an NFS export: its mount path and the record handler. */
export interface NfsExport {
  /** Path clients pass to MOUNT. */
  readonly exportPath: string;
  /** Answers one ONC RPC call record; null = no reply. Never throws. */
  handleRecord(record: Uint8Array, context: RpcTransportContext): Promise<Uint8Array | null>;
}
