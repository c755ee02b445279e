/** Builds small ELF32 little-endian executables for loader and board tests. */

export interface TestSegment {
  vaddr: number;
  paddr?: number;
  data: Uint8Array;
  memsz?: number;
  flags?: number;
}

export interface TestElfOptions {
  entry: number;
  machine?: number;
  segments: TestSegment[];
}

/** An ELF32 LE ET_EXEC with one PT_LOAD per segment, no sections. */
export function makeElf(opts: TestElfOptions): Uint8Array {
  const phoff = 52;
  let dataOff = phoff + 32 * opts.segments.length;
  const offsets = opts.segments.map((s) => {
    const o = dataOff;
    dataOff += s.data.length;
    return o;
  });
  const out = new Uint8Array(dataOff);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, opts.machine ?? 8, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, opts.entry >>> 0, true);
  v.setUint32(28, phoff, true);
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, opts.segments.length, true);
  v.setUint16(46, 40, true);
  opts.segments.forEach((s, i) => {
    const o = phoff + 32 * i;
    v.setUint32(o, 1, true);
    v.setUint32(o + 4, offsets[i]!, true);
    v.setUint32(o + 8, s.vaddr >>> 0, true);
    v.setUint32(o + 12, (s.paddr ?? s.vaddr) >>> 0, true);
    v.setUint32(o + 16, s.data.length, true);
    v.setUint32(o + 20, s.memsz ?? s.data.length, true);
    v.setUint32(o + 24, s.flags ?? 7, true);
    v.setUint32(o + 28, 4, true);
    out.set(s.data, offsets[i]!);
  });
  return out;
}

/** Little-endian bytes of 32-bit words (machine code for tests). */
export function words(...ws: number[]): Uint8Array {
  const out = new Uint8Array(ws.length * 4);
  const v = new DataView(out.buffer);
  ws.forEach((w, i) => {
    v.setUint32(i * 4, w >>> 0, true);
  });
  return out;
}
