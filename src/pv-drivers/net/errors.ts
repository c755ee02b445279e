/** Errors of the network drivers at the API edge (wire statuses stay data inside the protocol). */
import { PvkitError } from "../../guest-sdk/index.js";

/** A frame the front end refuses before sending it (size, not connected, shut down). */
export class NetRequestError extends PvkitError {}

/** The back end answered a transmitted frame with NETIF_RSP_ERROR or DROPPED. */
export class NetSendError extends PvkitError {
  constructor(
    /** NetifStatus the back end answered. */
    readonly status: number,
    /** Bytes of the frame. */
    readonly length: number,
  ) {
    super(
      `transmit of a ${length}-byte frame failed: ${
        status === -2 ? "NETIF_RSP_DROPPED" : `NETIF_RSP_ERROR (status ${status})`
      }; the back end's <dir>/error key says why if it disconnected`,
    );
  }
}
