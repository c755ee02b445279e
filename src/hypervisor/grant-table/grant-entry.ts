/**
 * grant_entry_v1 in a granting domain's shared grant frames, read and written by the
 * hypervisor in machine memory.
 *
 * ```c
 * // xen/include/public/grant_table.h
 * struct grant_entry_v1 {
 *     uint16_t flags;  // GTF_xxx: various type and flag information.  [XEN,GST]
 *     domid_t  domid;  // The domain being granted foreign privileges. [GST]
 *     uint32_t frame;  // The page frame being granted.                [GST]
 * };
 * ```
 * 8 bytes, 512 entries per 4 KiB frame. The layout is also `GrantEntryV1Spec` in
 * src/hypercalls (the single source for the C header); tests check both agree.
 */
import { PAGE_SIZE, type PhysicalMemory } from "../../machine/index.js";

export const GRANT_ENTRY_SIZE = 8;
export const GRANT_ENTRY_FLAGS = 0;
export const GRANT_ENTRY_DOMID = 2;
export const GRANT_ENTRY_FRAME = 4;
/** Entries per grant frame (GRANT_ENTRIES_PER_FRAME for v1). */
export const GRANT_ENTRIES_PER_FRAME = PAGE_SIZE / GRANT_ENTRY_SIZE;

/** Machine address of entry `ref` given the table's frames, or −1 if `ref` is beyond them. */
export function grantEntryAddress(frames: readonly number[], ref: number): number {
  if (!Number.isInteger(ref) || ref < 0) return -1;
  const f = Math.floor(ref / GRANT_ENTRIES_PER_FRAME);
  const mfn = frames[f];
  if (mfn === undefined) return -1;
  return mfn * PAGE_SIZE + (ref % GRANT_ENTRIES_PER_FRAME) * GRANT_ENTRY_SIZE;
}

/** One entry as read once by the hypervisor (its private copy). */
export interface GrantEntryV1 {
  flags: number;
  domid: number;
  frame: number;
}

export function readGrantEntry(mem: PhysicalMemory, addr: number): GrantEntryV1 {
  return {
    flags: mem.read16(addr + GRANT_ENTRY_FLAGS),
    domid: mem.read16(addr + GRANT_ENTRY_DOMID),
    frame: mem.read32(addr + GRANT_ENTRY_FRAME),
  };
}
