/** A tiny test protocol: request {id u32, value u32, pad}, response {id u32, result u32, pad}. */
import type { RingCodec, SharedPage } from "../../../src/guest-sdk/ring/index.js";

export interface TReq {
  id: number;
  value: number;
}
export interface TRsp {
  id: number;
  result: number;
}

/** `size` pads the message so tests can choose the ring size (4064 / size rounded down to 2^k). */
export function reqCodec(size = 8): RingCodec<TReq> {
  return {
    size,
    read: (p: SharedPage, o: number) => ({ id: p.read32(o), value: p.read32(o + 4) }),
    write: (v: TReq, p: SharedPage, o: number) => {
      p.write32(o, v.id);
      p.write32(o + 4, v.value);
    },
  };
}

export function rspCodec(size = 8): RingCodec<TRsp> {
  return {
    size,
    read: (p: SharedPage, o: number) => ({ id: p.read32(o), result: p.read32(o + 4) }),
    write: (v: TRsp, p: SharedPage, o: number) => {
      p.write32(o, v.id);
      p.write32(o + 4, v.result);
    },
  };
}

export const ids = {
  requestId: (r: TReq) => r.id,
  responseId: (r: TRsp) => r.id,
};
