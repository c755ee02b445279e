/**
 * Decoding an instruction word to its entry in the decode table (`opcodes.ts`).
 *
 * The table is bucketed by primary opcode (and by the secondary field that selects within SPECIAL,
 * SPECIAL2, REGIMM and COP0); within a bucket the first entry whose `mask` matches wins. A small
 * word-keyed cache in front makes repeated decodes of the same word a single array probe; it needs
 * no invalidation because it is keyed by the word itself.
 */
import { ALL_OPS, OP_RESERVED, OP_RESERVED_COP0, OPCODES, type OpDef } from "./opcodes.js";

/** Bucket key: primary opcode * 64 + secondary field (funct / rt / rs). */
function bucketKey(w: number): number {
  const op = w >>> 26;
  switch (op) {
    case 0x00:
    case 0x1c:
      return op * 64 + (w & 0x3f);
    case 0x01:
      return op * 64 + ((w >>> 16) & 0x1f);
    case 0x10:
      // COP0: rs selects MF/MT; with the CO bit (25) set, funct selects the operation.
      // (Collisions of funct & 31 are resolved by the mask check within the bucket.)
      return w & (1 << 25) ? op * 64 + 32 + (w & 0x1f) : op * 64 + ((w >>> 21) & 0x0f);
    default:
      return op * 64;
  }
}

const buckets: number[][] = [];
for (let i = 0; i < OPCODES.length; i++) {
  const k = bucketKey(OPCODES[i]!.match);
  const list = buckets[k] ?? [];
  list.push(i);
  buckets[k] = list;
}

const CACHE_BITS = 14;
const cacheWord = new Int32Array(1 << CACHE_BITS).fill(0x7fffffff);
const cacheOp = new Uint16Array(1 << CACHE_BITS);

function decodeSlow(w: number): number {
  const list = buckets[bucketKey(w)];
  if (list) {
    for (const i of list) {
      const d = OPCODES[i]!;
      if ((w & d.mask) >>> 0 === d.match) return i;
    }
  }
  return w >>> 26 === 0x10 ? OP_RESERVED_COP0 : OP_RESERVED;
}

/** Index into `ALL_OPS` of the entry for instruction word `w` (reserved pseudo-entries for unknowns). */
export function decode(w: number): number {
  w |= 0;
  const h = (w ^ (w >>> 13) ^ (w >>> 26)) & ((1 << CACHE_BITS) - 1);
  if (cacheWord[h] === w) return cacheOp[h]!;
  const op = decodeSlow(w >>> 0);
  cacheWord[h] = w;
  cacheOp[h] = op;
  return op;
}

/** The decode-table entry for instruction word `w`. */
export function decodeDef(w: number): OpDef {
  return ALL_OPS[decode(w)]!;
}

/** Field extractors shared by the disassembler, the assembler and the tests. */
export const Fields = {
  rs: (w: number): number => (w >>> 21) & 31,
  rt: (w: number): number => (w >>> 16) & 31,
  rd: (w: number): number => (w >>> 11) & 31,
  sa: (w: number): number => (w >>> 6) & 31,
  simm: (w: number): number => (w << 16) >> 16,
  uimm: (w: number): number => w & 0xffff,
  jindex: (w: number): number => w & 0x3ffffff,
};
