/**
 * Byte layout of a Xen shared ring page.
 *
 * ```c
 * // xen/include/public/io/ring.h — DEFINE_RING_TYPES(name, req_t, rsp_t)
 * typedef unsigned int RING_IDX;
 * struct name##_sring {
 *     RING_IDX req_prod, req_event;
 *     RING_IDX rsp_prod, rsp_event;
 *     union { struct { uint8_t smartpoll_active; } netif; ...; uint8_t pvt_pad[4]; } pvt;
 *     uint8_t __pad[44];
 *     union name##_sring_entry ring[1]; // variable-length: union { req_t req; rsp_t rsp; }
 * };
 * ```
 * Header = 4 × u32 + 4 + 44 = 64 bytes; the slots follow. Each slot is the union of request
 * and response, so its size is the larger of the two.
 */

export const RING_REQ_PROD = 0;
export const RING_REQ_EVENT = 4;
export const RING_RSP_PROD = 8;
export const RING_RSP_EVENT = 12;
/** Start of `pvt` (4 bytes) then `__pad[44]`. */
export const RING_PVT = 16;
/** Offset of `ring[0]`: the header is 64 bytes. */
export const RING_HEADER_SIZE = 64;

/**
 * Number of slots of a ring in a page: the largest power of two that fits in
 * (pageSize − 64) / slotSize — ring.h's `__CONST_RING_SIZE` (`__RD32` rounds down to a power
 * of two). blkif (x86_32: 108-byte request) gives 32; netif tx (12 bytes) gives 256.
 */
export function ringSize(slotSize: number, pageSize = 4096): number {
  if (!Number.isInteger(slotSize) || slotSize <= 0)
    throw new RangeError(`slot size must be > 0, got ${slotSize}`);
  const fit = Math.floor((pageSize - RING_HEADER_SIZE) / slotSize);
  if (fit < 1) throw new RangeError(`a ${slotSize}-byte slot does not fit in a ${pageSize}-byte ring page`);
  return 2 ** Math.floor(Math.log2(fit));
}

/** Byte offset of the slot for free-running index `idx` (slot = idx & (size − 1)). */
export function slotOffset(idx: number, size: number, slotSize: number): number {
  return RING_HEADER_SIZE + (idx & (size - 1)) * slotSize;
}
