/**
 * The echo protocol: the smallest useful split-driver protocol. A request carries an id and up
 * to 56 bytes; the back end answers with the same bytes reversed. Both messages are 64 bytes,
 * so a ring page holds 32 slots ((4096 − 64) / 64 = 63, rounded down to a power of two).
 *
 * ```c
 * struct echo_request  { uint32_t id; uint32_t len; uint8_t data[56]; };
 * struct echo_response { uint32_t id; int32_t status; uint8_t data[56]; }; // status = len or −1
 * ```
 */
import type { RingCodec, RingProtocol, SharedPage } from "../../../src/guest-sdk/index.js";

export const ECHO_MAX = 56;

export interface EchoRequest {
  id: number;
  data: Uint8Array;
}

export interface EchoResponse {
  id: number;
  /** Bytes echoed, or −1 if the request was malformed. */
  status: number;
  data: Uint8Array;
}

const requestCodec: RingCodec<EchoRequest> = {
  size: 64,
  read(page: SharedPage, o: number): EchoRequest {
    // Each field read once: this object is the back end's private copy.
    const id = page.read32(o);
    const len = Math.min(page.read32(o + 4), ECHO_MAX + 1); // > ECHO_MAX is kept as invalid
    const data = new Uint8Array(Math.min(len, ECHO_MAX));
    for (let i = 0; i < data.length; i++) data[i] = page.read8(o + 8 + i);
    return { id, data: len > ECHO_MAX ? new Uint8Array(ECHO_MAX + 1) : data };
  },
  write(r: EchoRequest, page: SharedPage, o: number): void {
    page.write32(o, r.id);
    page.write32(o + 4, r.data.length);
    for (let i = 0; i < r.data.length; i++) page.write8(o + 8 + i, r.data[i]!);
  },
};

const responseCodec: RingCodec<EchoResponse> = {
  size: 64,
  read(page: SharedPage, o: number): EchoResponse {
    const id = page.read32(o);
    const status = page.read32(o + 4) | 0;
    const data = new Uint8Array(Math.max(0, Math.min(status, ECHO_MAX)));
    for (let i = 0; i < data.length; i++) data[i] = page.read8(o + 8 + i);
    return { id, status, data };
  },
  write(r: EchoResponse, page: SharedPage, o: number): void {
    page.write32(o, r.id);
    page.write32(o + 4, r.status);
    for (let i = 0; i < r.data.length; i++) page.write8(o + 8 + i, r.data[i]!);
  },
};

export const echoProtocol: RingProtocol<EchoRequest, EchoResponse> = {
  request: requestCodec,
  response: responseCodec,
  ids: { requestId: (r) => r.id, responseId: (r) => r.id },
};

/** The back end's whole job: validate the private copy, answer. */
export function echo(req: EchoRequest): EchoResponse {
  if (req.data.length > ECHO_MAX) return { id: req.id, status: -1, data: new Uint8Array(0) };
  return { id: req.id, status: req.data.length, data: req.data.slice().reverse() };
}
