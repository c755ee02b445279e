/**
 * The ABI layer's errors. Wire status stays data (a negative errno in a result register); these
 * exceptions exist only at API edges: the SDK turns a failed call into a HypercallError, and the
 * TS-guest runtime throws a GuestFault into a guest whose domain it has crashed.
 */
import { PvkitError } from "../machine/errors.js";
import { errnoName } from "./errno.js";

/** A hypercall returned a negative errno where the caller required success. */
export class HypercallError extends PvkitError {
  constructor(
    readonly hypercall: number,
    readonly errno: number,
    what = `hypercall ${hypercall}`,
  ) {
    super(`${what} failed with ${errnoName(errno) ?? "errno"} (${errno})`);
  }
}

/**
 * A guest did something that crashes its domain (access outside its memory, watchdog expiry,
 * a malformed request the ABI treats as fatal). Thrown into TS guest code to unwind it; the
 * domain is already crashed when a guest sees it.
 */
export class GuestFault extends PvkitError {
  constructor(
    readonly domid: number,
    message: string,
  ) {
    super(`domain ${domid}: ${message}`);
  }
}
