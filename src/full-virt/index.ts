/** pvkit/full-virt — see DESIGN.md. */
export { INVALID_MFN, type M2p, type MachinePageAllocator, type P2m } from "./interfaces.js";
export * as disco from "./mips/index.js";
export * as vmware from "./x86/index.js";
