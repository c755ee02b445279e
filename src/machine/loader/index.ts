/** Guest image loaders: the shared ELF32 parser (and, beside it, multiboot for the PC board). */
export * from "./elf.js";
export * from "./multiboot.js";
