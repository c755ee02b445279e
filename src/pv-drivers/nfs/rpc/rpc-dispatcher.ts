/**
 * Transport-independent ONC RPC dispatch: `handleRecord(record, context) → reply | null`.
 * TCP record marking, datagrams and (later) a PV ring are thin adapters around it.
 */
import {
  AcceptStat,
  type CallHeaderResult,
  decodeCallHeader,
  describeCredential,
  encodeAcceptedHeader,
  encodeProgMismatch,
  type RpcCall,
  type RpcTransportContext,
} from "./rpc-msg.js";
import { type XdrReader, XdrWriter } from "./xdr.js";

/** What a procedure handler reports: the accept_stat and an optional note for logs. */
export interface ProcedureOutcome {
  /** AcceptStat.Success when results were written; GarbageArgs / ProcUnavail / SystemErr otherwise. */
  readonly stat: number;
  /** Short text for --verbose logs, e.g. "NFS3_OK" or "NFS3ERR_STALE". */
  readonly note?: string;
}

/** One version of one RPC program. */
export interface RpcProgram {
  readonly prog: number;
  readonly vers: number;
  /** Name for logs, e.g. "NFS3". */
  readonly name: string;
  /** Procedure name for logs; undefined for unknown numbers. */
  procName(proc: number): string | undefined;
  /** Optional one-line summary of a call's arguments for --verbose (reads a copy of the cursor). */
  describeArgs?(proc: number, args: XdrReader): string;
  /** Decodes `call.args` and writes the procedure's results to `results` (after the reply header). */
  handle(call: RpcCall, results: XdrWriter): Promise<ProcedureOutcome>;
}

/** One line per handled record, for --verbose. */
export interface RpcLogEntry {
  readonly context: RpcTransportContext;
  readonly xid: number;
  readonly program: string;
  readonly proc: string;
  readonly credential: string;
  readonly stat: number;
  readonly note: string;
  readonly micros: number;
}

const ACCEPT_NAMES = [
  "SUCCESS",
  "PROG_UNAVAIL",
  "PROG_MISMATCH",
  "PROC_UNAVAIL",
  "GARBAGE_ARGS",
  "SYSTEM_ERR",
];

/** Formats a log entry as one stderr line. */
export function formatRpcLog(e: RpcLogEntry): string {
  const stat = e.stat === AcceptStat.Success ? e.note : `${ACCEPT_NAMES[e.stat] ?? e.stat} ${e.note}`.trim();
  return `[${e.context.transport} ${e.context.peer}] xid=${e.xid.toString(16)} ${e.program}.${e.proc} cred=${e.credential} -> ${stat} (${e.micros}us)`;
}

/** Hooks of the dispatcher. */
export interface RpcDispatcherOptions {
  readonly log?: (entry: RpcLogEntry) => void;
  readonly onCall?: (call: RpcCall) => void;
}

/** Routes calls to registered programs and builds complete reply messages. */
export class RpcDispatcher {
  private readonly programs = new Map<number, Map<number, RpcProgram>>();

  private readonly log: ((entry: RpcLogEntry) => void) | undefined;
  private readonly onCall: ((call: RpcCall) => void) | undefined;

  /**
   * @param options.log receives one entry per answered or dropped record (omit for silence).
   * @param options.onCall sees every call whose header and credentials decoded.
   */
  constructor(options: RpcDispatcherOptions = {}) {
    this.log = options.log;
    this.onCall = options.onCall;
  }

  /** Adds one version of a program. */
  register(program: RpcProgram): void {
    let versions = this.programs.get(program.prog);
    if (versions === undefined) {
      versions = new Map();
      this.programs.set(program.prog, versions);
    }
    versions.set(program.vers, program);
  }

  /**
   * Answers one RPC record (a whole call message without transport framing). Returns the
   * reply message, or null when the record gets no answer (not a call, too short to
   * carry an xid). Never throws: handler failures become SYSTEM_ERR.
   */
  async handleRecord(record: Uint8Array, context: RpcTransportContext): Promise<Uint8Array | null> {
    const started = performance.now();
    const header: CallHeaderResult = decodeCallHeader(record, context);
    const w = new XdrWriter(1024);
    if (header.kind === "drop") {
      this.emit(context, 0, "-", "-", "-", AcceptStat.GarbageArgs, `dropped: ${header.reason}`, started);
      return null;
    }
    if (header.kind === "deny") {
      header.encode(w);
      this.emit(context, header.xid, "-", "-", "-", AcceptStat.Success, "MSG_DENIED", started);
      return w.toBytes();
    }
    const call = header.call;
    this.onCall?.(call);
    const cred = describeCredential(call.cred);
    const versions = this.programs.get(call.prog);
    if (versions === undefined) {
      encodeAcceptedHeader(w, call.xid, AcceptStat.ProgUnavail);
      this.emit(
        context,
        call.xid,
        `prog${call.prog}`,
        String(call.proc),
        cred,
        AcceptStat.ProgUnavail,
        "",
        started,
      );
      return w.toBytes();
    }
    const program = versions.get(call.vers);
    if (program === undefined) {
      let low = Number.MAX_SAFE_INTEGER;
      let high = 0;
      for (const v of versions.keys()) {
        low = Math.min(low, v);
        high = Math.max(high, v);
      }
      encodeProgMismatch(w, call.xid, low, high);
      this.emit(context, call.xid, `prog${call.prog}v${call.vers}`, String(call.proc), cred, 2, "", started);
      return w.toBytes();
    }
    const procName = program.procName(call.proc);
    if (procName === undefined) {
      encodeAcceptedHeader(w, call.xid, AcceptStat.ProcUnavail);
      this.emit(
        context,
        call.xid,
        program.name,
        String(call.proc),
        cred,
        AcceptStat.ProcUnavail,
        "",
        started,
      );
      return w.toBytes();
    }
    let args = "";
    if (this.log !== undefined && program.describeArgs !== undefined) {
      try {
        args = program.describeArgs(call.proc, call.args.clone());
      } catch {
        args = "?";
      }
    }
    encodeAcceptedHeader(w, call.xid, AcceptStat.Success);
    const headerLength = w.length;
    let outcome: ProcedureOutcome;
    try {
      outcome = await program.handle(call, w);
    } catch (err) {
      outcome = { stat: AcceptStat.SystemErr, note: err instanceof Error ? err.message : String(err) };
    }
    if (outcome.stat !== AcceptStat.Success) {
      // Results are discarded; the accept_stat word is the last word of the header.
      w.truncate(headerLength);
      w.patchU32(headerLength - 4, outcome.stat);
    }
    const proc = args === "" ? procName : `${procName}(${args})`;
    this.emit(context, call.xid, program.name, proc, cred, outcome.stat, outcome.note ?? "", started);
    // The writer belongs to this call alone: hand out its buffer without a copy.
    return w.bytes();
  }

  private emit(
    context: RpcTransportContext,
    xid: number,
    program: string,
    proc: string,
    credential: string,
    stat: number,
    note: string,
    started: number,
  ): void {
    if (this.log === undefined) return;
    const micros = Math.round((performance.now() - started) * 1000);
    this.log({ context, xid, program, proc, credential, stat, note, micros });
  }
}
