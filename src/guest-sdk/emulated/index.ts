/** Emulated-device drivers for TS guests: they reach registers only through `ctx.io` (GuestPortIo). */
export * from "./ata.js";
export { AtaError, IdeDisk, type IdeDiskCounters, type IdeDiskOptions } from "./ide-disk.js";
