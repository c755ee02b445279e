/**
 * The netif network protocol as plain data (blkif.ts is the model): flags and statuses as
 * `as const` objects, the four ring messages with named offsets, codecs that read each field
 * exactly once (RING_COPY_REQUEST), and the store keys.
 *
 * Source: xen/include/public/io/netif.h (xen-project/xen, commit 03809ae7):
 *
 * ```c
 * #define XEN_NETIF_NR_SLOTS_MIN 18
 * #define _NETTXF_csum_blank (0)  #define _NETTXF_data_validated (1)
 * #define _NETTXF_more_data  (2)  #define _NETTXF_extra_info     (3)
 * #define XEN_NETIF_MAX_TX_SIZE 0xFFFF
 * struct netif_tx_request {
 *     grant_ref_t gref;    // reference to buffer page            offset 0
 *     uint16_t offset;     // offset within buffer page           4
 *     uint16_t flags;      // NETTXF_*                            6
 *     uint16_t id;         // echoed in response                  8
 *     uint16_t size;       // packet size in bytes                10   → 12 bytes
 * };
 * struct netif_extra_info { uint8_t type; uint8_t flags; union { ... uint16_t pad[3]; } u; }; // 8
 * struct netif_tx_response { uint16_t id; int16_t status; };                     // 4
 * struct netif_rx_request  { uint16_t id; uint16_t pad; grant_ref_t gref; };     // 8
 * #define _NETRXF_data_validated (0) #define _NETRXF_csum_blank (1)
 * #define _NETRXF_more_data (2)      #define _NETRXF_extra_info (3)  #define _NETRXF_gso_prefix (4)
 * struct netif_rx_response { uint16_t id; uint16_t offset; uint16_t flags; int16_t status; }; // 8
 * DEFINE_RING_TYPES(netif_tx, struct netif_tx_request, struct netif_tx_response);
 * DEFINE_RING_TYPES(netif_rx, struct netif_rx_request, struct netif_rx_response);
 * #define NETIF_RSP_DROPPED -2  #define NETIF_RSP_ERROR -1  #define NETIF_RSP_OKAY 0
 * #define NETIF_RSP_NULL 1      // no response: auxiliary requests (netif_extra_info_t)
 * ```
 *
 * Wire format of a transmitted packet (netif.h "Guest transmit"): the first slot's `size` is
 * the whole packet, each following slot (chained by NETTXF_more_data) carries its fragment
 * size; the first slot's own data is `size − Σ following sizes`. Extra-info slots (after a
 * slot with NETTXF_extra_info) overlay a tx request and are answered NETIF_RSP_NULL. On
 * receive, a positive `status` is the fragment's byte count; responses appear in the same ring
 * slot as the request they consume (netif.h NOTE), which in-order consumption guarantees.
 * Slot sizes: tx max(12, 4) = 12 → (4096 − 64) / 12 = 336 → 256 slots; rx 8 → 504 → 256.
 */
import type { RingCodec, RingProtocol, SharedPage } from "../../guest-sdk/index.js";

/** NETTXF_* flags of a tx request. */
export const NetTxFlag = {
  CsumBlank: 1 << 0,
  DataValidated: 1 << 1,
  MoreData: 1 << 2,
  ExtraInfo: 1 << 3,
} as const;
/** NETRXF_* flags of an rx response. */
export const NetRxFlag = {
  DataValidated: 1 << 0,
  CsumBlank: 1 << 1,
  MoreData: 1 << 2,
  ExtraInfo: 1 << 3,
  GsoPrefix: 1 << 4,
} as const;
/** NETIF_RSP_* statuses (rx responses use a positive status for the fragment size). */
export const NetifStatus = { Dropped: -2, Error: -1, Okay: 0, Null: 1 } as const;
/** XEN_NETIF_EXTRA_TYPE_* of a netif_extra_info slot (type 0 and ≥ 4 are invalid). */
export const NetifExtraType = { None: 0, Gso: 1, McastAdd: 2, McastDel: 3, Max: 4 } as const;
/** XEN_NETIF_EXTRA_FLAG_MORE: another extra-info slot follows. */
export const NETIF_EXTRA_FLAG_MORE = 1 << 0;
/** XEN_NETIF_NR_SLOTS_MIN: slots per packet every back end must accept. */
export const XEN_NETIF_NR_SLOTS_MIN = 18;
/** XEN_NETIF_MAX_TX_SIZE: the u16 size field's limit. */
export const XEN_NETIF_MAX_TX_SIZE = 0xffff;
/** Bytes of an Ethernet header (dst, src, ethertype); shorter tx packets are errors (Linux ETH_HLEN). */
export const ETH_HLEN = 14;
/** Bytes of a data page; a slot's data must satisfy offset + length ≤ this. */
export const NETIF_PAGE_SIZE = 4096;

/** struct netif_tx_request offsets. */
export const NETIF_TX_REQUEST = { size: 12, gref: 0, offset: 4, flags: 6, id: 8, reqSize: 10 } as const;
/** struct netif_tx_response offsets. */
export const NETIF_TX_RESPONSE = { size: 4, id: 0, status: 2 } as const;
/** struct netif_rx_request offsets. */
export const NETIF_RX_REQUEST = { size: 8, id: 0, pad: 2, gref: 4 } as const;
/** struct netif_rx_response offsets. */
export const NETIF_RX_RESPONSE = { size: 8, id: 0, offset: 2, flags: 4, status: 6 } as const;
/** struct netif_extra_info offsets (overlaying a tx request or rx response slot). */
export const NETIF_EXTRA_INFO = { size: 8, type: 0, flags: 1, u: 2 } as const;

export interface NetifTxRequest {
  gref: number;
  offset: number;
  flags: number;
  id: number;
  /** First slot: the whole packet's bytes; later slots: this fragment's bytes. */
  size: number;
}
export interface NetifTxResponse {
  id: number;
  status: number;
}
export interface NetifRxRequest {
  id: number;
  gref: number;
}
export interface NetifRxResponse {
  id: number;
  offset: number;
  flags: number;
  /** > 0: bytes of this fragment; ≤ 0: a NETIF_RSP_* error. */
  status: number;
}

const i16 = (v: number) => (v << 16) >> 16;

export const netifTxRequestCodec: RingCodec<NetifTxRequest> = {
  size: NETIF_TX_REQUEST.size,
  read(p: SharedPage, o: number): NetifTxRequest {
    const gref = p.read32(o + NETIF_TX_REQUEST.gref);
    const offset = p.read16(o + NETIF_TX_REQUEST.offset);
    const flags = p.read16(o + NETIF_TX_REQUEST.flags);
    const id = p.read16(o + NETIF_TX_REQUEST.id);
    const size = p.read16(o + NETIF_TX_REQUEST.reqSize);
    return { gref, offset, flags, id, size };
  },
  write(r: NetifTxRequest, p: SharedPage, o: number): void {
    p.write32(o + NETIF_TX_REQUEST.gref, r.gref >>> 0);
    p.write16(o + NETIF_TX_REQUEST.offset, r.offset & 0xffff);
    p.write16(o + NETIF_TX_REQUEST.flags, r.flags & 0xffff);
    p.write16(o + NETIF_TX_REQUEST.id, r.id & 0xffff);
    p.write16(o + NETIF_TX_REQUEST.reqSize, r.size & 0xffff);
  },
};

export const netifTxResponseCodec: RingCodec<NetifTxResponse> = {
  size: NETIF_TX_RESPONSE.size,
  read(p: SharedPage, o: number): NetifTxResponse {
    const id = p.read16(o + NETIF_TX_RESPONSE.id);
    const status = i16(p.read16(o + NETIF_TX_RESPONSE.status));
    return { id, status };
  },
  write(r: NetifTxResponse, p: SharedPage, o: number): void {
    p.write16(o + NETIF_TX_RESPONSE.id, r.id & 0xffff);
    p.write16(o + NETIF_TX_RESPONSE.status, r.status & 0xffff);
  },
};

export const netifRxRequestCodec: RingCodec<NetifRxRequest> = {
  size: NETIF_RX_REQUEST.size,
  read(p: SharedPage, o: number): NetifRxRequest {
    const id = p.read16(o + NETIF_RX_REQUEST.id);
    const gref = p.read32(o + NETIF_RX_REQUEST.gref);
    return { id, gref };
  },
  write(r: NetifRxRequest, p: SharedPage, o: number): void {
    p.write16(o + NETIF_RX_REQUEST.id, r.id & 0xffff);
    p.write16(o + NETIF_RX_REQUEST.pad, 0);
    p.write32(o + NETIF_RX_REQUEST.gref, r.gref >>> 0);
  },
};

export const netifRxResponseCodec: RingCodec<NetifRxResponse> = {
  size: NETIF_RX_RESPONSE.size,
  read(p: SharedPage, o: number): NetifRxResponse {
    const id = p.read16(o + NETIF_RX_RESPONSE.id);
    const offset = p.read16(o + NETIF_RX_RESPONSE.offset);
    const flags = p.read16(o + NETIF_RX_RESPONSE.flags);
    const status = i16(p.read16(o + NETIF_RX_RESPONSE.status));
    return { id, offset, flags, status };
  },
  write(r: NetifRxResponse, p: SharedPage, o: number): void {
    p.write16(o + NETIF_RX_RESPONSE.id, r.id & 0xffff);
    p.write16(o + NETIF_RX_RESPONSE.offset, r.offset & 0xffff);
    p.write16(o + NETIF_RX_RESPONSE.flags, r.flags & 0xffff);
    p.write16(o + NETIF_RX_RESPONSE.status, r.status & 0xffff);
  },
};

/** The tx ring: requests and responses matched by `id`. */
export const netifTxProtocol: RingProtocol<NetifTxRequest, NetifTxResponse> = {
  request: netifTxRequestCodec,
  response: netifTxResponseCodec,
  ids: { requestId: (r) => r.id, responseId: (r) => r.id },
};

/** The rx ring: posted buffers and the packets copied into them, matched by `id`. */
export const netifRxProtocol: RingProtocol<NetifRxRequest, NetifRxResponse> = {
  request: netifRxRequestCodec,
  response: netifRxResponseCodec,
  ids: { requestId: (r) => r.id, responseId: (r) => r.id },
};

/**
 * Store keys (netif.h and Linux xen-netfront/xen-netback): the front end writes tx-ring-ref,
 * rx-ring-ref, event-channel, request-rx-copy ("1": the back end copies into posted buffers),
 * feature-rx-notify; the back end advertises feature-rx-copy, feature-sg; the toolstack writes
 * `mac` ("aa:bb:cc:dd:ee:ff") in both directories.
 */
export const NetifKey = {
  TxRingRef: "tx-ring-ref",
  RxRingRef: "rx-ring-ref",
  EventChannel: "event-channel",
  RequestRxCopy: "request-rx-copy",
  FeatureRxNotify: "feature-rx-notify",
  FeatureRxCopy: "feature-rx-copy",
  FeatureRxFlip: "feature-rx-flip",
  FeatureSg: "feature-sg",
  Mac: "mac",
} as const;

/** Parses "aa:bb:cc:dd:ee:ff"; null if malformed. */
export function parseMac(text: string | undefined): Uint8Array | null {
  if (text === undefined) return null;
  const parts = text.split(":");
  if (parts.length !== 6) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const s = parts[i]!;
    if (!/^[0-9a-fA-F]{2}$/.test(s)) return null;
    out[i] = Number.parseInt(s, 16);
  }
  return out;
}

/** Formats 6 bytes as "aa:bb:cc:dd:ee:ff". */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** The default MAC of a domain's vif: Xen's OUI 00:16:3e, then the domid and device id. */
export function defaultMac(domid: number, devid = 0): Uint8Array {
  return Uint8Array.of(0x00, 0x16, 0x3e, (domid >> 8) & 0x7f, domid & 0xff, devid & 0xff);
}
