import type { SharedPage } from "../../hypercalls/index.js";

/**
 * Reads and writes one message of a ring protocol at a byte offset of a shared page. The ring
 * never looks inside a message; protocols (blkif, netif, the echo sample) supply a codec.
 * `read` must read every field exactly once: the result is the back end's private copy
 * (RING_COPY_REQUEST), validated only after it was taken.
 */
export interface RingCodec<T> {
  /** Encoded size in bytes (its part of the slot union). */
  readonly size: number;
  read(page: SharedPage, offset: number): T;
  write(value: T, page: SharedPage, offset: number): void;
}
