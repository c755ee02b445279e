/** Shared rings: the synchronous ring.h core and the async layer over it. */

export {
  barrier,
  CountingSharedPage,
  LocalSharedPage,
  readPageBytes,
  SHARED_PAGE_SIZE,
  type SharedPage,
  writePageBytes,
} from "../../hypercalls/index.js";
export {
  AsyncBackRing,
  AsyncFrontRing,
  type FlushMode,
  type RingCounters,
  type RingIds,
} from "./async-ring.js";
export type { RingCodec } from "./codec.js";
export {
  RING_HEADER_SIZE,
  RING_REQ_EVENT,
  RING_REQ_PROD,
  RING_RSP_EVENT,
  RING_RSP_PROD,
  ringSize,
  slotOffset,
} from "./ring-layout.js";
export { BackRing, FrontRing, sharedRingInit, slotSizeOf } from "./shared-ring.js";
