/** Patches a batch of random cases into samples/guests/mips/harness.elf (see harness.S). */
import { readFileSync } from "node:fs";
import { EM_MIPS, parseElf32 } from "../../../src/machine/loader/elf.js";
import { type AssembledBatch, assembleBatch, type RandomCase } from "./random-program.js";

export const HARNESS_ELF = "samples/guests/mips/harness.elf";
/** Sizes reserved in harness.S. */
const CODE_BYTES = 192 * 1024;
const MAX_CASES = 128;

export interface PatchedHarness {
  bytes: Uint8Array;
  batch: AssembledBatch;
}

export function patchHarness(cases: RandomCase[], path = HARNESS_ELF): PatchedHarness {
  if (cases.length > MAX_CASES) throw new Error(`at most ${MAX_CASES} cases per harness run`);
  const bytes = new Uint8Array(readFileSync(path));
  const img = parseElf32(bytes, { file: path, machine: EM_MIPS });
  const sym = (name: string) => {
    const s = img.symbols.find((x) => x.name === name);
    if (!s) throw new Error(`${path}: symbol ${name} missing`);
    return s.value >>> 0;
  };
  const fileOffset = (vaddr: number, size: number) => {
    const seg = img.loadSegments.find((p) => vaddr >= p.vaddr && vaddr + size <= p.vaddr + p.filesz);
    if (!seg) throw new Error(`${path}: 0x${vaddr.toString(16)} is not in the file image`);
    return seg.offset + (vaddr - seg.vaddr);
  };
  const batch = assembleBatch(cases, sym("test_code"), sym("test_blocks"), sym("test_return"));
  if (batch.code.length * 4 > CODE_BYTES)
    throw new Error(`batch code of ${batch.code.length * 4} bytes is too large`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const codeOff = fileOffset(sym("test_code"), batch.code.length * 4);
  batch.code.forEach((w, k) => {
    view.setUint32(codeOff + 4 * k, w, true);
  });
  bytes.set(batch.blocks, fileOffset(sym("test_blocks"), batch.blocks.length));
  view.setUint32(fileOffset(sym("test_case_count"), 4), cases.length, true);
  return { bytes, batch };
}
