/** The netif network drivers: protocol, front end, back end, and the virtual switch they plug into. */
export * from "./errors.js";
export * from "./grant-copier.js";
export * from "./netback.js";
export * from "./netfront.js";
export * from "./netif.js";
export * from "./tokens.js";
export * from "./virtual-switch.js";
