/** XenStore: wire protocol, permissions, the byte rings and the guest-side client. */
export * from "../../hypercalls/index.js";
export * from "../../hypercalls/index.js";
export { XsMessageReader, type XsRingSide, xsRingRead, xsRingWrite } from "../../hypercalls/index.js";
export { StoreClient, type StoreOps, type StoreTransport } from "./store-client.js";
