/** The blkif block drivers: protocol, front end, back end, and back-end storage on disk images. */
export * from "./blkback.js";
export * from "./blkfront.js";
export * from "./blkif.js";
export * from "./block-store.js";
export * from "./cow-block-store.js";
export * from "./errors.js";
export * from "./file-block-store.js";
export * from "./tokens.js";
