/** XenStore: wire protocol, permissions, the byte rings and the guest-side client. */
export * from "./permissions.js";
export { StoreClient, type StoreOps, type StoreTransport } from "./store-client.js";
export { XsMessageReader, type XsRingSide, xsRingRead, xsRingWrite } from "./xs-ring.js";
export * from "./xs-wire.js";
