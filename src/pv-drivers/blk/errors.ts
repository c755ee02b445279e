/** Errors of the block drivers at the API edge (wire statuses stay data inside the protocol). */
import { PvkitError } from "../../guest-sdk/index.js";
import { blkifOpName } from "./blkif.js";

/** A block request came back with a non-OKAY status (BLKIF_RSP_ERROR or EOPNOTSUPP). */
export class BlockIoError extends PvkitError {
  constructor(
    /** BlkifStatus value the back end answered. */
    readonly status: number,
    /** BlkifOp of the failed request. */
    readonly operation: number,
    /** First 512-byte sector of the failed request. */
    readonly sector: number,
  ) {
    super(
      `${blkifOpName(operation)} at sector ${sector} failed: ${
        status === -2
          ? "BLKIF_RSP_EOPNOTSUPP (the back end does not support it)"
          : `BLKIF_RSP_ERROR (status ${status})`
      }; check the sector range and the disk's mode`,
    );
  }
}

/** A request the front end refuses before sending it (range, read-only disk, not connected). */
export class BlockRequestError extends PvkitError {}
