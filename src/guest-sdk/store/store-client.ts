/**
 * The guest's XenStore client over its store ring page (start_info.store_mfn) and event
 * channel (start_info.store_evtchn): requests matched to replies by req_id, watches as rxjs
 * Observables, transactions retried on EAGAIN.
 */
import { Observable } from "rxjs";
import type { SharedPage } from "../../hypercalls/index.js";
import {
  decodeXsHeader,
  encodeXsMessage,
  splitXsStrings,
  XS_REQ,
  XS_REQ_CONS,
  XS_REQ_PROD,
  XS_RSP,
  XS_RSP_CONS,
  XS_RSP_PROD,
  XSD_SOCKMSG_SIZE,
  XsMessageReader,
  XsType,
  xsPathAndValue,
  xsRingRead,
  xsRingWrite,
  xsStrings,
  xsText,
} from "../../hypercalls/index.js";
import { StoreError } from "../errors.js";

const REQ = { data: XS_REQ, cons: XS_REQ_CONS, prod: XS_REQ_PROD };
const RSP = { data: XS_RSP, cons: XS_RSP_CONS, prod: XS_RSP_PROD };

/** How the client reaches the daemon: the shared page and the event channel to it. */
export interface StoreTransport {
  /** The guest's store ring page (struct xenstore_domain_interface). */
  readonly page: SharedPage;
  /** Notify the daemon (EVTCHNOP_send on the store port). */
  notify(): void;
}

/** A transaction handle: the same operations, bound to one transaction id. */
export interface StoreOps {
  read(path: string): Promise<string>;
  write(path: string, value: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  rm(path: string): Promise<void>;
  directory(path: string): Promise<string[]>;
  getPerms(path: string): Promise<string[]>;
  setPerms(path: string, perms: string[]): Promise<void>;
  /** Reads, returning undefined instead of throwing ENOENT. */
  tryRead(path: string): Promise<string | undefined>;
}

interface Pending {
  resolve(payload: Uint8Array): void;
  reject(err: Error): void;
}

export class StoreClient implements StoreOps {
  private readonly pending = new Map<number, Pending>();
  private readonly watchers = new Map<string, (path: string) => void>();
  private readonly reader = new XsMessageReader();
  private readonly outbox: Uint8Array[] = [];
  private outOffset = 0;
  private nextReqId = 1;
  private nextToken = 1;
  private closed: Error | null = null;

  constructor(private readonly transport: StoreTransport) {}

  /** Call when the store event channel fires: reads replies and watch events, sends queued bytes. */
  onNotification(): void {
    if (this.closed) return;
    const bytes = xsRingRead(this.transport.page, RSP);
    if (bytes === null) {
      this.shutdown(new StoreError("EIO", "the store daemon corrupted the response ring indices"));
      return;
    }
    if (bytes.length > 0) this.transport.notify(); // space freed in rsp: tell the daemon
    this.reader.push(bytes);
    for (let m = this.reader.next(); m; m = this.reader.next()) this.dispatch(m);
    this.pump();
  }

  /** Rejects every pending request; watches stop. */
  shutdown(reason: Error = new StoreError("ESHUTDOWN", "store client shut down")): void {
    this.closed = reason;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    this.watchers.clear();
  }

  /** Sends one raw request and resolves with the reply payload (ERROR replies reject). */
  request(type: number, payload: Uint8Array, txId = 0): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(this.closed);
    const reqId = this.nextReqId;
    this.nextReqId = (this.nextReqId + 1) >>> 0 || 1;
    const p = new Promise<Uint8Array>((resolve, reject) => this.pending.set(reqId, { resolve, reject }));
    this.outbox.push(encodeXsMessage({ type, reqId, txId, payload }));
    this.pump();
    return p;
  }

  read(path: string): Promise<string> {
    return this.ops(0).read(path);
  }
  tryRead(path: string): Promise<string | undefined> {
    return this.ops(0).tryRead(path);
  }
  write(path: string, value: string): Promise<void> {
    return this.ops(0).write(path, value);
  }
  mkdir(path: string): Promise<void> {
    return this.ops(0).mkdir(path);
  }
  rm(path: string): Promise<void> {
    return this.ops(0).rm(path);
  }
  directory(path: string): Promise<string[]> {
    return this.ops(0).directory(path);
  }
  getPerms(path: string): Promise<string[]> {
    return this.ops(0).getPerms(path);
  }
  setPerms(path: string, perms: string[]): Promise<void> {
    return this.ops(0).setPerms(path, perms);
  }

  /** GET_DOMAIN_PATH: "/local/domain/<domid>". */
  async getDomainPath(domid: number): Promise<string> {
    return splitXsStrings(await this.request(XsType.GetDomainPath, xsStrings(String(domid))))[0] ?? "";
  }

  /**
   * Runs `body` in a transaction and commits; on EAGAIN (a conflicting commit elsewhere) runs
   * it again, up to `maxAttempts` times. `body` must be safe to repeat.
   */
  async transaction<T>(body: (tx: StoreOps) => Promise<T>, maxAttempts = 16): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const id = Number(splitXsStrings(await this.request(XsType.TransactionStart, xsStrings("")))[0]);
      let result: T;
      try {
        result = await body(this.ops(id));
      } catch (e) {
        await this.request(XsType.TransactionEnd, xsStrings("F"), id).catch(() => {});
        throw e;
      }
      try {
        await this.request(XsType.TransactionEnd, xsStrings("T"), id);
        return result;
      } catch (e) {
        if (!(e instanceof StoreError && e.code === "EAGAIN") || attempt >= maxAttempts) throw e;
      }
    }
  }

  /**
   * Watches `path` and its subtree: emits the changed path, once at subscription (Xen fires a
   * new watch immediately) and after every change. Unsubscribing sends UNWATCH.
   */
  watch(path: string): Observable<string> {
    return new Observable<string>((sub) => {
      const token = `pvkit-${this.nextToken++}`;
      this.watchers.set(token, (p) => sub.next(p));
      this.request(XsType.Watch, xsStrings(path, token)).catch((e: unknown) => {
        this.watchers.delete(token);
        sub.error(e);
      });
      return () => {
        if (this.watchers.delete(token) && !this.closed) {
          this.request(XsType.Unwatch, xsStrings(path, token)).catch(() => {});
        }
      };
    });
  }

  private ops(txId: number): StoreOps {
    const req = (type: number, payload: Uint8Array) => this.request(type, payload, txId);
    return {
      read: async (path) => xsText(await req(XsType.Read, xsStrings(path))),
      tryRead: async (path) => {
        try {
          return xsText(await req(XsType.Read, xsStrings(path)));
        } catch (e) {
          if (e instanceof StoreError && e.code === "ENOENT") return undefined;
          throw e;
        }
      },
      write: async (path, value) => {
        await req(XsType.Write, xsPathAndValue(path, value));
      },
      mkdir: async (path) => {
        await req(XsType.Mkdir, xsStrings(path));
      },
      rm: async (path) => {
        await req(XsType.Rm, xsStrings(path));
      },
      directory: async (path) => splitXsStrings(await req(XsType.Directory, xsStrings(path))),
      getPerms: async (path) => splitXsStrings(await req(XsType.GetPerms, xsStrings(path))),
      setPerms: async (path, perms) => {
        await req(XsType.SetPerms, xsStrings(path, ...perms));
      },
    };
  }

  private dispatch(m: Uint8Array): void {
    const h = decodeXsHeader(m);
    const payload = m.subarray(XSD_SOCKMSG_SIZE);
    if (h.type === XsType.WatchEvent) {
      const [path, token] = splitXsStrings(payload);
      if (path !== undefined && token !== undefined) this.watchers.get(token)?.(path);
      return;
    }
    const p = this.pending.get(h.reqId);
    if (!p) return; // a reply nobody waits for (e.g. after a transaction abort): ignore
    this.pending.delete(h.reqId);
    if (h.type === XsType.Error) {
      const code = splitXsStrings(payload)[0] ?? "EIO";
      p.reject(new StoreError(code, `store request ${h.reqId} failed: ${code}`));
    } else {
      p.resolve(payload.slice());
    }
  }

  private pump(): void {
    let sent = false;
    while (this.outbox.length > 0) {
      const msg = this.outbox[0]!;
      const n = xsRingWrite(this.transport.page, REQ, msg, this.outOffset);
      if (n < 0) {
        this.shutdown(new StoreError("EIO", "the store daemon corrupted the request ring indices"));
        return;
      }
      if (n > 0) sent = true;
      this.outOffset += n;
      if (this.outOffset < msg.length) break;
      this.outbox.shift();
      this.outOffset = 0;
    }
    if (sent) this.transport.notify();
  }
}
