/** Errors of the hypervisor layer (host-side misuse; guest faults crash domains instead). */
import { PvkitError } from "../machine/index.js";

/** A host-side request the hypervisor cannot satisfy (no memory for a domain, unknown domid). */
export class HypervisorError extends PvkitError {}

/** The isolation oracle caught a guest access to a frame its domain may not touch. */
export class IsolationViolation extends PvkitError {
  constructor(
    readonly domid: number,
    readonly paddr: number,
    readonly write: boolean,
  ) {
    super(
      `isolation violation: domain ${domid} ${write ? "wrote" : "read"} machine address 0x${paddr.toString(16)} it does not own`,
    );
  }
}
