/** pvkit/pv-drivers — see DESIGN.md. */
export * from "./blk/index.js";
export * from "./net/index.js";
export * from "./nfs/index.js";
