/**
 * The guest SDK's typed errors. Wire status stays data inside the protocols; these exceptions
 * exist only at the API edge (STYLE.md rule 13). They extend the one pvkit root, PvkitError,
 * which lives in the lowest layer so every layer shares a single hierarchy.
 */
import { PvkitError } from "../machine/errors.js";

export { PvkitError };

// HypercallError and GuestFault are the ABI layer's (src/hypercalls/errors.ts); the package root
// re-exports them from there.

/** A peer broke the shared-ring protocol (overflowing producer, bogus response id, …). */
export class RingProtocolError extends PvkitError {
  constructor(
    /** Which side misbehaved, as seen from the side that detected it. */
    readonly peer: "frontend" | "backend",
    message: string,
  ) {
    super(`ring protocol error by the ${peer}: ${message}`);
  }
}

/** The ring (or the driver owning it) was torn down while a request was outstanding. */
export class RingShutdownError extends PvkitError {}

/** A grant-table operation failed; `status` is the GNTST_* code the hypervisor returned. */
export class GrantError extends PvkitError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A XenStore request failed; `code` is the errno name the daemon sent ("ENOENT", "EAGAIN", …). */
export class StoreError extends PvkitError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A XenBus handshake went wrong (illegal state transition, peer closed, missing key). */
export class XenbusError extends PvkitError {}
