/**
 * Serves one domain's store ring page for the daemon: reads request bytes from `req`, cuts
 * them into xsd_sockmsg messages, hands each to the XenStore and writes replies and watch
 * events into `rsp` (queueing what does not fit until the guest frees space).
 *
 * A guest that corrupts the ring indices or announces a payload over XENSTORE_PAYLOAD_MAX gets
 * one ERROR reply (EIO / E2BIG) and its connection is no longer served — as C xenstored
 * ignores a misbehaving connection — while the daemon and every other domain carry on.
 */
import type { SharedPage } from "../../hypercalls/index.js";
import {
  decodeXsHeader,
  encodeXsMessage,
  XS_REQ,
  XS_REQ_CONS,
  XS_REQ_PROD,
  XS_RSP,
  XS_RSP_CONS,
  XS_RSP_PROD,
  XSD_SOCKMSG_SIZE,
  XsMessageReader,
  XsType,
  xsRingRead,
  xsRingWrite,
  xsStrings,
} from "../../hypercalls/index.js";
import type { XenStore } from "./xenstored.js";

const REQ = { data: XS_REQ, cons: XS_REQ_CONS, prod: XS_REQ_PROD };
const RSP = { data: XS_RSP, cons: XS_RSP_CONS, prod: XS_RSP_PROD };

export class StoreRingServer {
  private readonly reader = new XsMessageReader();
  private readonly outbox: Uint8Array[] = [];
  private outOffset = 0;
  /** Why the connection is no longer served, or null while healthy. */
  broken: string | null = null;
  /** Messages handled (statistics). */
  handled = 0;
  private inHandler = false;

  /**
   * @param page   the domain's store page, reached through the hypervisor's accessors
   * @param notify sends an event to the domain's store port
   */
  constructor(
    private readonly store: XenStore,
    readonly domid: number,
    private readonly page: SharedPage,
    private readonly notify: () => void,
  ) {
    store.connect(domid, (m) => {
      this.outbox.push(encodeXsMessage(m));
      // A watch event caused by another domain's request: deliver it now, not at our next request.
      if (!this.inHandler && !this.broken) this.pump(false);
    });
  }

  /** Call when the domain notifies its store port. */
  onNotification(): void {
    if (this.broken) return;
    this.inHandler = true;
    try {
      this.serve();
    } finally {
      this.inHandler = false;
    }
  }

  private serve(): void {
    const bytes = xsRingRead(this.page, REQ);
    if (bytes === null) {
      this.fail("EIO", 0, "request ring indices corrupt");
      return;
    }
    this.reader.push(bytes);
    for (;;) {
      const len = this.reader.peekLen();
      if (len !== undefined && len > this.store.quotas.maxPayload) {
        this.fail("E2BIG", this.reader.peekReqId() ?? 0, `payload of ${len} bytes`);
        return;
      }
      const m = this.reader.next();
      if (!m) break;
      const h = decodeXsHeader(m);
      this.handled++;
      this.store.handle(this.domid, {
        type: h.type,
        reqId: h.reqId,
        txId: h.txId,
        payload: m.subarray(XSD_SOCKMSG_SIZE),
      });
    }
    this.pump(bytes.length > 0);
  }

  /** Stops serving (domain destroyed); the store forgets the connection. */
  close(): void {
    this.store.disconnect(this.domid);
    this.broken ??= "closed";
  }

  private pump(consumed: boolean): void {
    let wrote = false;
    while (this.outbox.length > 0) {
      const msg = this.outbox[0]!;
      const n = xsRingWrite(this.page, RSP, msg, this.outOffset);
      if (n < 0) {
        this.fail("EIO", 0, "response ring indices corrupt");
        return;
      }
      if (n > 0) wrote = true;
      this.outOffset += n;
      if (this.outOffset < msg.length) break;
      this.outbox.shift();
      this.outOffset = 0;
    }
    if (wrote || consumed) this.notify();
  }

  private fail(code: string, reqId: number, why: string): void {
    this.broken = `${code}: ${why}`;
    this.store.disconnect(this.domid);
    // Best effort: one ERROR so the guest learns why; ignore if even that does not fit.
    xsRingWrite(
      this.page,
      RSP,
      encodeXsMessage({ type: XsType.Error, reqId, txId: 0, payload: xsStrings(code) }),
      0,
    );
    this.notify();
  }
}
