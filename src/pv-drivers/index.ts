/** pvkit/pv-drivers — see DESIGN.md. */
export * from "./nfs/index.js";
