/** Tiny MIPS guests for CLI and board tests (hand-encoded; see the comments for the source). */
import { makeElf, words } from "../machine/loader/make-elf.js";

const NOP = 0;
const B_SELF = 0x1000ffff; // b .
const ERET = 0x42000018;

/** Writes 42 to the exit port: lui v1,0xbfd0; addiu v0,zero,42; sb v0,0x501(v1). */
export const exit42Elf = makeElf({
  entry: 0x80001000,
  segments: [{ vaddr: 0x80001000, data: words(0x3c03bfd0, 0x2402002a, 0xa0620501, B_SELF, NOP) }],
});

/** `break` at the entry, with Status.BEV = 1 and an empty boot ROM: no handler. */
export const breakElf = makeElf({
  entry: 0x80001000,
  segments: [{ vaddr: 0x80001000, data: words(NOP, 0x0000000d, NOP, B_SELF, NOP) }],
});

/**
 * Handlers at 0x80000000 and 0x80000180 that only `eret` (so EPC's faulting instruction runs
 * again), Status cleared (BEV = ERL = 0), then an unaligned lw: an AdEL loop.
 */
export const adelLoopElf = makeElf({
  entry: 0x80001000,
  segments: [
    { vaddr: 0x80000000, data: words(ERET, NOP) },
    { vaddr: 0x80000180, data: words(ERET, NOP) },
    // mtc0 zero,$12; nop; lui v1,0x8000; lw v0,1(v1); b .; nop
    { vaddr: 0x80001000, data: words(0x40806000, NOP, 0x3c038000, 0x8c620001, B_SELF, NOP) },
  ],
});
