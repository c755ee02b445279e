/**
 * nfsif: pvkit's ring protocol that carries ONC RPC / NFSv3 records between a front end and
 * the NFS back end (a pvkit protocol, not one of Xen's: docs/nfs-pv.md, docs/xen-differences.md).
 * Plain data in the style of blkif.ts: operations and statuses as `as const` objects, one
 * codec per message that reads each field exactly once (RING_COPY_REQUEST).
 *
 * ```c
 * #define NFSIF_INLINE_REQUEST  232   // call-record bytes carried in the slot
 * #define NFSIF_INLINE_RESPONSE 164   // reply-record bytes carried in the slot
 * #define NFSIF_MAX_DATA_PAGES   16   // READ data grants per response (64 KiB)
 * struct nfsif_request {               // 248 bytes
 *     uint32_t id;                     //  0 private front-end value, echoed
 *     uint8_t  operation;              //  4 NFSIF_OP_CALL
 *     uint8_t  nr_segs;                //  5 pages holding the call record (0: inline)
 *     uint8_t  nr_reply_segs;          //  6 writable pages for the reply record (0: inline)
 *     uint8_t  flags;                  //  7 reserved, 0
 *     uint32_t record_len;             //  8 bytes of the call record
 *     uint32_t reply_max;              // 12 largest reply the front end accepts
 *     union {                          // 16
 *         uint8_t     inline_record[NFSIF_INLINE_REQUEST];
 *         grant_ref_t gref[58];        // nr_segs call pages, then nr_reply_segs reply pages
 *     } u;
 * };
 * struct nfsif_response {              // 248 bytes
 *     uint32_t id;                     //  0
 *     int16_t  status;                 //  4 NFSIF_RSP_*
 *     uint8_t  nr_data;                //  6 READ data grants (buffer-cache pages, read-only)
 *     uint8_t  flags;                  //  7 NFSIF_RSPF_*
 *     uint32_t record_len;             //  8 reply record bytes (READ: without its data bytes)
 *     uint32_t data_len;               // 12 READ data bytes carried outside the record
 *     uint16_t data_offset;            // 16 first data byte within the first data page
 *     uint16_t pad;                    // 18
 *     grant_ref_t data_gref[NFSIF_MAX_DATA_PAGES]; // 20
 *     uint8_t  inline_record[NFSIF_INLINE_RESPONSE]; // 84 (unless NFSIF_RSPF_REPLY_IN_PAGES)
 * };
 * ```
 * Slots are 248 bytes, so a ring page holds 16 of them (ring.h __CONST_RING_SIZE).
 *
 * A READ answered from the buffer cache: the reply record is a genuine READ3res whose opaque
 * `data` length word says `data_len` but whose bytes (and padding) are left out; the bytes
 * are `data_len` bytes starting at `data_offset` of the concatenated data pages. In the copy
 * read path (`read-path = copy`) the back end grant-copies them instead to the front end's
 * reply pages, after any reply record bytes stored there (NFSIF_RSPF_DATA_IN_REPLY_PAGES).
 */
import type { RingCodec, RingProtocol, SharedPage } from "../../../guest-sdk/index.js";

/** nfsif operations. */
export const NfsifOp = { Call: 1 } as const;

/** NFSIF_RSP_*: negative errno values (Linux numbers) so a status names its cause precisely. */
export const NfsifStatus = {
  Okay: 0,
  /** E2BIG: record_len above NFSIF_MAX_RECORD, or more than the inline area / pages hold. */
  TooBig: -7,
  /** EFAULT: a grant reference could not be mapped (bad ref, not granted to the back end). */
  BadGrant: -14,
  /** EBUSY: a request with this id is already in flight. */
  IdInUse: -16,
  /** EINVAL: malformed request (segment counts, reply_max, flags). */
  Invalid: -22,
  /** ENOSPC: the buffer cache has no frame left (every frame is mapped by front ends). */
  NoSpace: -28,
  /** ENODATA: the RPC layer dropped the record (not a CALL, shorter than an RPC header). */
  NoReply: -61,
  /** EMSGSIZE: the reply is larger than reply_max or the reply pages. */
  ReplyTooBig: -90,
  /** EOPNOTSUPP: unknown operation. */
  NotSupported: -95,
} as const;
export type NfsifStatusValue = (typeof NfsifStatus)[keyof typeof NfsifStatus];

/** Response flags. */
export const NfsifRspFlag = {
  /** The reply record is in the front end's reply pages, not inline. */
  ReplyInPages: 0x1,
  /** READ data was copied into the reply pages after the record (copy read path). */
  DataInReplyPages: 0x2,
} as const;

export const NFSIF_SLOT_SIZE = 248;
export const NFSIF_INLINE_REQUEST = 232;
export const NFSIF_INLINE_RESPONSE = 164;
export const NFSIF_MAX_DATA_PAGES = 16;
/** Grant refs the request union holds (call pages + reply pages). */
export const NFSIF_MAX_SEGS = NFSIF_INLINE_REQUEST / 4;
/** Largest call record: a 64 KiB WRITE plus headers, in at most 17 pages. */
export const NFSIF_MAX_RECORD = 17 * 4096;
/** Largest READ count one request carries (16 data pages). */
export const NFSIF_MAX_READ = NFSIF_MAX_DATA_PAGES * 4096;

/** Request field offsets. */
export const REQ = {
  id: 0,
  operation: 4,
  nrSegs: 5,
  nrReplySegs: 6,
  flags: 7,
  recordLen: 8,
  replyMax: 12,
  union: 16,
} as const;
/** Response field offsets. */
export const RSP = {
  id: 0,
  status: 4,
  nrData: 6,
  flags: 7,
  recordLen: 8,
  dataLen: 12,
  dataOffset: 16,
  dataGref: 20,
  inline: 84,
} as const;

/** struct nfsif_request as data. `inline` holds the call record when nrSegs is 0. */
export interface NfsifRequest {
  id: number;
  operation: number;
  nrSegs: number;
  nrReplySegs: number;
  flags: number;
  recordLen: number;
  replyMax: number;
  /** Inline call record (exactly recordLen bytes, ≤ 232) when nrSegs = 0, else empty. */
  inline: Uint8Array;
  /** Call-record pages then reply pages (as sent, at most 58). */
  grefs: number[];
}

/** struct nfsif_response as data. */
export interface NfsifResponse {
  id: number;
  status: number;
  flags: number;
  recordLen: number;
  dataLen: number;
  dataOffset: number;
  dataGrefs: number[];
  /** Inline reply record (recordLen bytes) unless ReplyInPages. */
  inline: Uint8Array;
}

const EMPTY: Uint8Array = new Uint8Array(0);

/** Reads `length` bytes at `o` with 32-bit accesses (the areas are word aligned and padded). */
function readWords(page: SharedPage, o: number, length: number): Uint8Array {
  const words = (length + 3) >>> 2;
  const out = new Uint8Array(words * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < words; i++) dv.setUint32(i * 4, page.read32(o + i * 4), true);
  return out.subarray(0, length);
}

/** Writes `data` at `o` with 32-bit accesses, zero-padding the last word. */
function writeWords(page: SharedPage, o: number, data: Uint8Array): void {
  const words = (data.length + 3) >>> 2;
  for (let i = 0; i < words; i++) {
    const b = i * 4;
    const v =
      (data[b] ?? 0) | ((data[b + 1] ?? 0) << 8) | ((data[b + 2] ?? 0) << 16) | ((data[b + 3] ?? 0) << 24);
    page.write32(o + b, v >>> 0);
  }
}

/** Codec of struct nfsif_request. `read` takes each field once; bounds are the consumer's job. */
export const nfsifRequestCodec: RingCodec<NfsifRequest> = {
  size: NFSIF_SLOT_SIZE,
  read(page, o) {
    const id = page.read32(o + REQ.id);
    const operation = page.read8(o + REQ.operation);
    const nrSegs = page.read8(o + REQ.nrSegs);
    const nrReplySegs = page.read8(o + REQ.nrReplySegs);
    const flags = page.read8(o + REQ.flags);
    const recordLen = page.read32(o + REQ.recordLen);
    const replyMax = page.read32(o + REQ.replyMax);
    let inline = EMPTY;
    const grefs: number[] = [];
    if (nrSegs === 0) {
      // Copy only what the inline area holds; a longer record_len is rejected by the back end.
      if (recordLen <= NFSIF_INLINE_REQUEST) inline = readWords(page, o + REQ.union, recordLen);
      const n = Math.min(nrReplySegs, NFSIF_MAX_SEGS);
      // Reply grefs follow the inline record, word aligned.
      const at = (Math.min(recordLen, NFSIF_INLINE_REQUEST) + 3) & ~3;
      for (let i = 0; i < n && at + i * 4 < NFSIF_INLINE_REQUEST; i++)
        grefs.push(page.read32(o + REQ.union + at + i * 4));
    } else {
      const n = Math.min(nrSegs + nrReplySegs, NFSIF_MAX_SEGS);
      for (let i = 0; i < n; i++) grefs.push(page.read32(o + REQ.union + i * 4));
    }
    return { id, operation, nrSegs, nrReplySegs, flags, recordLen, replyMax, inline, grefs };
  },
  write(req, page, o) {
    page.write32(o + REQ.id, req.id);
    page.write8(o + REQ.operation, req.operation);
    page.write8(o + REQ.nrSegs, req.nrSegs);
    page.write8(o + REQ.nrReplySegs, req.nrReplySegs);
    page.write8(o + REQ.flags, req.flags);
    page.write32(o + REQ.recordLen, req.recordLen);
    page.write32(o + REQ.replyMax, req.replyMax);
    let at = 0;
    if (req.nrSegs === 0 && req.inline.length > 0) {
      writeWords(page, o + REQ.union, req.inline.subarray(0, NFSIF_INLINE_REQUEST));
      at = (Math.min(req.inline.length, NFSIF_INLINE_REQUEST) + 3) & ~3;
    }
    for (let i = 0; i < req.grefs.length && at + i * 4 < NFSIF_INLINE_REQUEST; i++)
      page.write32(o + REQ.union + at + i * 4, req.grefs[i]!);
  },
};

/**
 * Reply grefs of an inline request: they follow the record, so a long inline record leaves
 * room for fewer. Front ends check with this before choosing the inline form.
 */
export function inlineReplySegRoom(recordLen: number): number {
  return (NFSIF_INLINE_REQUEST - ((recordLen + 3) & ~3)) >>> 2;
}

/** Codec of struct nfsif_response. */
export const nfsifResponseCodec: RingCodec<NfsifResponse> = {
  size: NFSIF_SLOT_SIZE,
  read(page, o) {
    const id = page.read32(o + RSP.id);
    const status = (page.read16(o + RSP.status) << 16) >> 16; // int16_t
    const nrData = page.read8(o + RSP.nrData);
    const flags = page.read8(o + RSP.flags);
    const recordLen = page.read32(o + RSP.recordLen);
    const dataLen = page.read32(o + RSP.dataLen);
    const dataOffset = page.read16(o + RSP.dataOffset);
    const n = Math.min(nrData, NFSIF_MAX_DATA_PAGES);
    const dataGrefs: number[] = new Array(n);
    for (let i = 0; i < n; i++) dataGrefs[i] = page.read32(o + RSP.dataGref + i * 4);
    const inline =
      (flags & NfsifRspFlag.ReplyInPages) === 0 && recordLen <= NFSIF_INLINE_RESPONSE
        ? readWords(page, o + RSP.inline, recordLen)
        : EMPTY;
    return { id, status, flags, recordLen, dataLen, dataOffset, dataGrefs, inline };
  },
  write(rsp, page, o) {
    page.write32(o + RSP.id, rsp.id);
    page.write16(o + RSP.status, rsp.status & 0xffff);
    page.write8(o + RSP.nrData, rsp.dataGrefs.length);
    page.write8(o + RSP.flags, rsp.flags);
    page.write32(o + RSP.recordLen, rsp.recordLen);
    page.write32(o + RSP.dataLen, rsp.dataLen);
    page.write16(o + RSP.dataOffset, rsp.dataOffset);
    page.write16(o + RSP.dataOffset + 2, 0);
    for (let i = 0; i < rsp.dataGrefs.length && i < NFSIF_MAX_DATA_PAGES; i++)
      page.write32(o + RSP.dataGref + i * 4, rsp.dataGrefs[i]!);
    if (rsp.inline.length > 0)
      writeWords(page, o + RSP.inline, rsp.inline.subarray(0, NFSIF_INLINE_RESPONSE));
  },
};

/** The ring protocol (codecs + id matching). */
export const nfsifProtocol: RingProtocol<NfsifRequest, NfsifResponse> = {
  request: nfsifRequestCodec,
  response: nfsifResponseCodec,
  ids: { requestId: (r) => r.id, responseId: (r) => r.id },
};

/** "NFSIF_RSP_EFAULT (bad grant reference)" etc., for messages. */
export function nfsifStatusName(status: number): string {
  switch (status) {
    case NfsifStatus.Okay:
      return "NFSIF_RSP_OKAY";
    case NfsifStatus.TooBig:
      return "NFSIF_RSP_E2BIG (record larger than the limit or than its inline area/pages)";
    case NfsifStatus.BadGrant:
      return "NFSIF_RSP_EFAULT (a grant reference could not be mapped)";
    case NfsifStatus.IdInUse:
      return "NFSIF_RSP_EBUSY (request id already in flight)";
    case NfsifStatus.Invalid:
      return "NFSIF_RSP_EINVAL (malformed request)";
    case NfsifStatus.NoSpace:
      return "NFSIF_RSP_ENOSPC (buffer cache full: unmap cache pages)";
    case NfsifStatus.NoReply:
      return "NFSIF_RSP_ENODATA (the RPC layer dropped the record: not a CALL or too short)";
    case NfsifStatus.ReplyTooBig:
      return "NFSIF_RSP_EMSGSIZE (reply larger than reply_max / the reply pages)";
    case NfsifStatus.NotSupported:
      return "NFSIF_RSP_EOPNOTSUPP (unknown operation)";
    default:
      return `NFSIF status ${status}`;
  }
}
