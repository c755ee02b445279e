/** Emulated-device drivers for TS guests: they reach registers only through `ctx.io` (GuestPortIo). */
export * from "./ata.js";
export * from "./dp8390.js";
export { AtaError, IdeDisk, type IdeDiskCounters, type IdeDiskOptions } from "./ide-disk.js";
export { type Ne2000Counters, Ne2000Nic, type Ne2000NicOptions, NicError } from "./ne2000-nic.js";
