/**
 * The XenStore wire protocol (xen/include/public/io/xs_wire.h), shared by the store daemon
 * and the guest's StoreClient. Pure data and byte codecs; no transport.
 *
 * ```c
 * struct xsd_sockmsg {
 *     uint32_t type;   // XS_???
 *     uint32_t req_id; // Request identifier, echoed in daemon's response.
 *     uint32_t tx_id;  // Transaction id (0 if not related to a transaction).
 *     uint32_t len;    // Length of data following this.
 *     // Generally followed by nul-terminated string(s).
 * };
 * #define XENSTORE_RING_SIZE 1024
 * struct xenstore_domain_interface {
 *     char req[XENSTORE_RING_SIZE]; // Requests to xenstore daemon.
 *     char rsp[XENSTORE_RING_SIZE]; // Replies and async watch events.
 *     XENSTORE_RING_IDX req_cons, req_prod;
 *     XENSTORE_RING_IDX rsp_cons, rsp_prod;
 * };
 * #define XENSTORE_PAYLOAD_MAX 4096
 * ```
 */

/** enum xsd_sockmsg_type (xs_wire.h). */
export const XsType = {
  Control: 0,
  Directory: 1,
  Read: 2,
  GetPerms: 3,
  Watch: 4,
  Unwatch: 5,
  TransactionStart: 6,
  TransactionEnd: 7,
  Introduce: 8,
  Release: 9,
  GetDomainPath: 10,
  Write: 11,
  Mkdir: 12,
  Rm: 13,
  SetPerms: 14,
  WatchEvent: 15,
  Error: 16,
  IsDomainIntroduced: 17,
  Resume: 18,
  SetTarget: 19,
  ResetWatches: 21,
  DirectoryPart: 22,
} as const;
export type XsTypeValue = (typeof XsType)[keyof typeof XsType];

/** Name of a message type for traces ("READ", "WATCH_EVENT", …); unknown numbers as "XS_<n>". */
export function xsTypeName(type: number): string {
  for (const [k, v] of Object.entries(XsType)) {
    if (v === type) return k.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  }
  return `XS_${type}`;
}

/** Size of struct xsd_sockmsg. */
export const XSD_SOCKMSG_SIZE = 16;
/** XENSTORE_PAYLOAD_MAX: the largest `len` of one message. */
export const XENSTORE_PAYLOAD_MAX = 4096;
/** XENSTORE_RING_SIZE: bytes in each direction's ring (power of two). */
export const XENSTORE_RING_SIZE = 1024;
/** Offsets in struct xenstore_domain_interface. */
export const XS_REQ = 0;
export const XS_RSP = 1024;
export const XS_REQ_CONS = 2048;
export const XS_REQ_PROD = 2052;
export const XS_RSP_CONS = 2056;
export const XS_RSP_PROD = 2060;
/** XENSTORE_ABS_PATH_MAX and XENSTORE_REL_PATH_MAX. */
export const XENSTORE_ABS_PATH_MAX = 3072;
export const XENSTORE_REL_PATH_MAX = 2048;

/** One decoded message; `payload` is the raw bytes after the header. */
export interface XsMessage {
  type: number;
  reqId: number;
  txId: number;
  payload: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Encodes a message (header + payload) into a fresh byte array. */
export function encodeXsMessage(m: XsMessage): Uint8Array {
  const out = new Uint8Array(XSD_SOCKMSG_SIZE + m.payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, m.type, true);
  v.setUint32(4, m.reqId, true);
  v.setUint32(8, m.txId, true);
  v.setUint32(12, m.payload.length, true);
  out.set(m.payload, XSD_SOCKMSG_SIZE);
  return out;
}

/** Decodes the 16-byte header; the caller checks `len` against XENSTORE_PAYLOAD_MAX. */
export function decodeXsHeader(
  bytes: Uint8Array,
  offset = 0,
): { type: number; reqId: number; txId: number; len: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, XSD_SOCKMSG_SIZE);
  return {
    type: v.getUint32(0, true),
    reqId: v.getUint32(4, true),
    txId: v.getUint32(8, true),
    len: v.getUint32(12, true),
  };
}

/** Payload of NUL-terminated strings: ["a", "b"] → "a\0b\0". */
export function xsStrings(...parts: string[]): Uint8Array {
  return enc.encode(parts.map((p) => `${p}\0`).join(""));
}

/** "path\0" followed by raw bytes (WRITE: the value is not NUL-terminated). */
export function xsPathAndValue(path: string, value: string | Uint8Array): Uint8Array {
  const p = enc.encode(`${path}\0`);
  const v = typeof value === "string" ? enc.encode(value) : value;
  const out = new Uint8Array(p.length + v.length);
  out.set(p);
  out.set(v, p.length);
  return out;
}

/** Splits a payload at NULs; a trailing NUL does not produce an empty last string. */
export function splitXsStrings(payload: Uint8Array): string[] {
  const text = dec.decode(payload);
  const parts = text.split("\0");
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** Decodes bytes as UTF-8 text. */
export function xsText(payload: Uint8Array): string {
  return dec.decode(payload);
}

/** Encodes text as UTF-8. */
export function xsBytes(text: string): Uint8Array {
  return enc.encode(text);
}
