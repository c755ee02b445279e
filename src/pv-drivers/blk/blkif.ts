/**
 * The blkif block protocol as plain data (mirage-block-xen's `blkproto.ml` is the model): ops
 * and statuses as `as const` objects, requests as a discriminated union, unknown operations
 * decoded as data (`kind: "unknown"`) for the back end to answer with EOPNOTSUPP. The x86_32
 * and x86_64 ABIs are two offset tables fed to one codec.
 *
 * Source: xen/include/public/io/blkif.h (checked against the copy Xen ships to QEMU,
 * qemu include/hw/xen/interface/io/blkif.h, commit 58deb358):
 *
 * ```c
 * typedef uint16_t blkif_vdev_t; typedef uint64_t blkif_sector_t;
 * #define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
 * #define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8
 * struct blkif_request_segment {
 *     grant_ref_t gref;              // reference to I/O buffer frame
 *     uint8_t     first_sect, last_sect; // inclusive, in 512-byte sectors of the frame
 * };                                 // 8 bytes (2 bytes tail padding)
 * struct blkif_request {
 *     uint8_t        operation;      // BLKIF_OP_???
 *     uint8_t        nr_segments;
 *     blkif_vdev_t   handle;
 *     uint64_t       id;             // private guest value, echoed in resp
 *     blkif_sector_t sector_number;  // start sector idx on disk (r/w only)
 *     struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
 * };
 * struct blkif_request_discard {
 *     uint8_t operation; uint8_t flag; blkif_vdev_t handle;
 *     uint64_t id; blkif_sector_t sector_number; uint64_t nr_sectors;
 * };
 * struct blkif_request_indirect {
 *     uint8_t operation; uint8_t indirect_op; uint16_t nr_segments;
 *     uint64_t id; blkif_sector_t sector_number; blkif_vdev_t handle;
 *     grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
 * #ifdef __i386__
 *     uint64_t pad;                  // Make it 64 byte aligned on i386
 * #endif
 * };
 * struct blkif_response { uint64_t id; uint8_t operation; int16_t status; };
 * DEFINE_RING_TYPES(blkif, struct blkif_request, struct blkif_response);
 * ```
 *
 * i386 aligns uint64_t to 4 bytes inside structs, x86_64 to 8: hence two tables. Sector
 * quantities are 512-byte units whatever `sector-size` says (blkif.h, "feature-large-sector-size").
 */
import type { RingCodec, RingProtocol, SharedPage } from "../../guest-sdk/index.js";

/** BLKIF_OP_* (blkif.h "REQUEST CODES"). */
export const BlkifOp = {
  Read: 0,
  Write: 1,
  WriteBarrier: 2,
  FlushDiskcache: 3,
  /** BLKIF_OP_RESERVED_1 (SLES device-specific packets): never implemented, answered EOPNOTSUPP. */
  Reserved1: 4,
  Discard: 5,
  Indirect: 6,
} as const;
export type BlkifOpValue = (typeof BlkifOp)[keyof typeof BlkifOp];

/** BLKIF_RSP_* (blkif.h "STATUS RETURN CODES"). */
export const BlkifStatus = { Okay: 0, Error: -1, EOpNotSupp: -2 } as const;
export type BlkifStatusValue = (typeof BlkifStatus)[keyof typeof BlkifStatus];

/** BLKIF_MAX_SEGMENTS_PER_REQUEST. */
export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
/** BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST. */
export const BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = 8;
/** Bytes of a blkif sector: always 512 on the wire. */
export const BLKIF_SECTOR_SIZE = 512;
/** Sectors in a 4 KiB frame: first_sect ≤ last_sect ≤ 7. */
export const SECTORS_PER_PAGE = 8;
/** sizeof(struct blkif_request_segment). */
export const BLKIF_SEGMENT_SIZE = 8;
/** Segments an indirect page holds: PAGE_SIZE / sizeof(struct blkif_request_segment). */
export const SEGMENTS_PER_INDIRECT_PAGE = 4096 / BLKIF_SEGMENT_SIZE;
/** BLKIF_DISCARD_SECURE flag of a discard request. */
export const BLKIF_DISCARD_SECURE = 1;
/** VDISK_* bits of the back end's `info` key. */
export const Vdisk = { Cdrom: 0x1, Removable: 0x2, ReadOnly: 0x4 } as const;

/** One segment: a granted frame and the inclusive sector range inside it. */
export interface BlkifSegment {
  gref: number;
  firstSect: number;
  lastSect: number;
}

interface RequestCommon {
  /** Wire operation byte. */
  operation: number;
  /** Private guest value echoed in the response (u64; exact below 2^53). */
  id: number;
}

/** READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE: struct blkif_request. */
export interface BlkifRwRequest extends RequestCommon {
  kind: "rw";
  /** As sent (may exceed 11: the back end rejects it); `segments` holds at most 11. */
  nrSegments: number;
  handle: number;
  /** Start sector, 512-byte units. */
  sectorNumber: number;
  segments: BlkifSegment[];
}

/** DISCARD: struct blkif_request_discard. */
export interface BlkifDiscardRequest extends RequestCommon {
  kind: "discard";
  flag: number;
  handle: number;
  sectorNumber: number;
  /** Contiguous 512-byte sectors to discard. */
  nrSectors: number;
}

/** INDIRECT: struct blkif_request_indirect; its segments live in the granted indirect pages. */
export interface BlkifIndirectRequest extends RequestCommon {
  kind: "indirect";
  indirectOp: number;
  nrSegments: number;
  handle: number;
  sectorNumber: number;
  /** The grefs the nr_segments need (ceil(nr / 512), at most 8). */
  indirectGrefs: number[];
}

/** Any other operation byte: kept as data; the back end answers EOPNOTSUPP. */
export interface BlkifUnknownRequest extends RequestCommon {
  kind: "unknown";
}

export type BlkifRequest = BlkifRwRequest | BlkifDiscardRequest | BlkifIndirectRequest | BlkifUnknownRequest;

/** struct blkif_response. */
export interface BlkifResponse {
  id: number;
  operation: number;
  status: number;
}

/** Byte offsets of one ABI's structures (everything a codec needs). */
export interface BlkifAbi {
  /** The `protocol` key's value (XEN_IO_PROTO_ABI_*, xen/include/public/io/protocols.h). */
  readonly name: "x86_32-abi" | "x86_64-abi";
  readonly request: {
    readonly size: number;
    readonly operation: number;
    readonly nrSegments: number;
    readonly handle: number;
    readonly id: number;
    readonly sectorNumber: number;
    readonly seg: number;
  };
  readonly segment: {
    readonly size: number;
    readonly gref: number;
    readonly firstSect: number;
    readonly lastSect: number;
  };
  readonly discard: {
    readonly size: number;
    readonly flag: number;
    readonly handle: number;
    readonly id: number;
    readonly sectorNumber: number;
    readonly nrSectors: number;
  };
  readonly indirect: {
    readonly size: number;
    readonly indirectOp: number;
    readonly nrSegments: number;
    readonly id: number;
    readonly sectorNumber: number;
    readonly handle: number;
    readonly indirectGrefs: number;
  };
  readonly response: {
    readonly size: number;
    readonly id: number;
    readonly operation: number;
    readonly status: number;
  };
}

const SEGMENT = { size: 8, gref: 0, firstSect: 4, lastSect: 5 } as const;

/** i386: uint64_t 4-byte aligned in structs. blkif_request 108, response 12. */
export const BLKIF_ABI_X86_32: BlkifAbi = {
  name: "x86_32-abi",
  request: { size: 108, operation: 0, nrSegments: 1, handle: 2, id: 4, sectorNumber: 12, seg: 20 },
  segment: SEGMENT,
  discard: { size: 28, flag: 1, handle: 2, id: 4, sectorNumber: 12, nrSectors: 20 },
  // handle at 20; grant_ref_t (u32) array aligned to 24; 8 refs end at 56; the i386-only pad u64 → 64.
  indirect: {
    size: 64,
    indirectOp: 1,
    nrSegments: 2,
    id: 4,
    sectorNumber: 12,
    handle: 20,
    indirectGrefs: 24,
  },
  response: { size: 12, id: 0, operation: 8, status: 10 },
};

/** x86_64: uint64_t 8-byte aligned. blkif_request 112, response 16. */
export const BLKIF_ABI_X86_64: BlkifAbi = {
  name: "x86_64-abi",
  request: { size: 112, operation: 0, nrSegments: 1, handle: 2, id: 8, sectorNumber: 16, seg: 24 },
  segment: SEGMENT,
  discard: { size: 32, flag: 1, handle: 2, id: 8, sectorNumber: 16, nrSectors: 24 },
  // handle at 24, grefs at 28..60, struct rounded to its 8-byte alignment → 64.
  indirect: {
    size: 64,
    indirectOp: 1,
    nrSegments: 2,
    id: 8,
    sectorNumber: 16,
    handle: 24,
    indirectGrefs: 28,
  },
  response: { size: 16, id: 0, operation: 8, status: 10 },
};

/** The ABI a `protocol` key names; a missing key means the native ABI (x86_32 on pvkit). */
export function blkifAbiByName(name: string | undefined): BlkifAbi | null {
  if (name === undefined || name === "" || name === BLKIF_ABI_X86_32.name) return BLKIF_ABI_X86_32;
  if (name === BLKIF_ABI_X86_64.name) return BLKIF_ABI_X86_64;
  return null;
}

const TWO32 = 4294967296;

function readU64(page: SharedPage, o: number): number {
  const lo = page.read32(o);
  const hi = page.read32(o + 4);
  return hi * TWO32 + lo;
}

function writeU64(page: SharedPage, o: number, v: number): void {
  page.write32(o, (v % TWO32) >>> 0);
  page.write32(o + 4, Math.floor(v / TWO32) >>> 0);
}

/** Reads one blkif_request_segment at `o` (each field once). */
export function readSegment(page: SharedPage, o: number): BlkifSegment {
  const gref = page.read32(o + SEGMENT.gref);
  const firstSect = page.read8(o + SEGMENT.firstSect);
  const lastSect = page.read8(o + SEGMENT.lastSect);
  return { gref, firstSect, lastSect };
}

/** Writes one blkif_request_segment at `o` (padding zeroed). */
export function writeSegment(s: BlkifSegment, page: SharedPage, o: number): void {
  page.write32(o + SEGMENT.gref, s.gref);
  page.write8(o + SEGMENT.firstSect, s.firstSect);
  page.write8(o + SEGMENT.lastSect, s.lastSect);
  page.write16(o + 6, 0);
}

/** Indirect pages needed for `n` segments. */
export function indirectPagesFor(n: number): number {
  return Math.ceil(n / SEGMENTS_PER_INDIRECT_PAGE);
}

/**
 * The request codec of an ABI. `read` reads the operation byte, then each field of the variant
 * it names exactly once (RING_COPY_REQUEST): the result is the back end's private copy.
 */
export function blkifRequestCodec(abi: BlkifAbi): RingCodec<BlkifRequest> {
  const R = abi.request;
  const D = abi.discard;
  const I = abi.indirect;
  return {
    size: R.size,
    read(page: SharedPage, o: number): BlkifRequest {
      const operation = page.read8(o + R.operation);
      switch (operation) {
        case BlkifOp.Read:
        case BlkifOp.Write:
        case BlkifOp.WriteBarrier:
        case BlkifOp.FlushDiskcache: {
          const nrSegments = page.read8(o + R.nrSegments);
          const handle = page.read16(o + R.handle);
          const id = readU64(page, o + R.id);
          const sectorNumber = readU64(page, o + R.sectorNumber);
          const n = Math.min(nrSegments, BLKIF_MAX_SEGMENTS_PER_REQUEST);
          const segments: BlkifSegment[] = new Array(n);
          for (let i = 0; i < n; i++) segments[i] = readSegment(page, o + R.seg + i * SEGMENT.size);
          return { kind: "rw", operation, nrSegments, handle, id, sectorNumber, segments };
        }
        case BlkifOp.Discard: {
          const flag = page.read8(o + D.flag);
          const handle = page.read16(o + D.handle);
          const id = readU64(page, o + D.id);
          const sectorNumber = readU64(page, o + D.sectorNumber);
          const nrSectors = readU64(page, o + D.nrSectors);
          return { kind: "discard", operation, flag, handle, id, sectorNumber, nrSectors };
        }
        case BlkifOp.Indirect: {
          const indirectOp = page.read8(o + I.indirectOp);
          const nrSegments = page.read16(o + I.nrSegments);
          const id = readU64(page, o + I.id);
          const sectorNumber = readU64(page, o + I.sectorNumber);
          const handle = page.read16(o + I.handle);
          const n = Math.min(indirectPagesFor(nrSegments), BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
          const indirectGrefs: number[] = new Array(n);
          for (let i = 0; i < n; i++) indirectGrefs[i] = page.read32(o + I.indirectGrefs + i * 4);
          return {
            kind: "indirect",
            operation,
            indirectOp,
            nrSegments,
            handle,
            id,
            sectorNumber,
            indirectGrefs,
          };
        }
        default:
          // Every variant keeps id at the same offset (Linux blkback reads req.u.other.id).
          return { kind: "unknown", operation, id: readU64(page, o + R.id) };
      }
    },
    write(req: BlkifRequest, page: SharedPage, o: number): void {
      page.write8(o + R.operation, req.operation);
      switch (req.kind) {
        case "rw":
          page.write8(o + R.nrSegments, req.nrSegments);
          page.write16(o + R.handle, req.handle);
          writeU64(page, o + R.id, req.id);
          writeU64(page, o + R.sectorNumber, req.sectorNumber);
          for (let i = 0; i < req.segments.length && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
            writeSegment(req.segments[i]!, page, o + R.seg + i * SEGMENT.size);
          return;
        case "discard":
          page.write8(o + D.flag, req.flag);
          page.write16(o + D.handle, req.handle);
          writeU64(page, o + D.id, req.id);
          writeU64(page, o + D.sectorNumber, req.sectorNumber);
          writeU64(page, o + D.nrSectors, req.nrSectors);
          return;
        case "indirect":
          page.write8(o + I.indirectOp, req.indirectOp);
          page.write16(o + I.nrSegments, req.nrSegments);
          writeU64(page, o + I.id, req.id);
          writeU64(page, o + I.sectorNumber, req.sectorNumber);
          page.write16(o + I.handle, req.handle);
          for (let i = 0; i < req.indirectGrefs.length && i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
            page.write32(o + I.indirectGrefs + i * 4, req.indirectGrefs[i]!);
          return;
        case "unknown":
          writeU64(page, o + R.id, req.id);
          return;
      }
    },
  };
}

/** The response codec of an ABI. */
export function blkifResponseCodec(abi: BlkifAbi): RingCodec<BlkifResponse> {
  const P = abi.response;
  return {
    size: P.size,
    read(page: SharedPage, o: number): BlkifResponse {
      const id = readU64(page, o + P.id);
      const operation = page.read8(o + P.operation);
      const status = (page.read16(o + P.status) << 16) >> 16; // int16_t
      return { id, operation, status };
    },
    write(rsp: BlkifResponse, page: SharedPage, o: number): void {
      writeU64(page, o + P.id, rsp.id);
      page.write8(o + P.operation, rsp.operation);
      page.write16(o + P.status, rsp.status & 0xffff);
    },
  };
}

/** The ring protocol (codecs + id matching) of an ABI, for the shared-ring layer. */
export function blkifProtocol(abi: BlkifAbi): RingProtocol<BlkifRequest, BlkifResponse> {
  return {
    request: blkifRequestCodec(abi),
    response: blkifResponseCodec(abi),
    ids: { requestId: (r) => r.id, responseId: (r) => r.id },
  };
}

/** Name of an operation byte ("READ", "op 9") for messages and traces. */
export function blkifOpName(op: number): string {
  switch (op) {
    case BlkifOp.Read:
      return "READ";
    case BlkifOp.Write:
      return "WRITE";
    case BlkifOp.WriteBarrier:
      return "WRITE_BARRIER";
    case BlkifOp.FlushDiskcache:
      return "FLUSH_DISKCACHE";
    case BlkifOp.Discard:
      return "DISCARD";
    case BlkifOp.Indirect:
      return "INDIRECT";
    default:
      return `op ${op}`;
  }
}
