/**
 * Batched GNTTABOP_copy for a back end: up to a page of `struct gnttab_copy` ops per hypercall
 * (Linux netback's gnttab_batch_copy does the same), each op's GNTST status read back. The op
 * array lives in one page of the back end's own memory, written once per call.
 */
import type { PvEnv } from "../../guest-sdk/index.js";
import { GnttabOp, Hypercall, type StructLayout, writeStruct } from "../../hypercalls/index.js";

/** GNTCOPY_source_gref / GNTCOPY_dest_gref (xen/include/public/grant_table.h, struct gnttab_copy). */
export const GNTCOPY_SOURCE_GREF = 1 << 0;
export const GNTCOPY_DEST_GREF = 1 << 1;

/** One copy: a side with its GNTCOPY_*_gref flag names a grant of `domid`, else a frame of the caller. */
export interface CopyOp {
  srcRef: number;
  srcDom: number;
  srcOffset: number;
  dstRef: number;
  dstDom: number;
  dstOffset: number;
  len: number;
  flags: number;
}

export class GrantCopier {
  private readonly layout: StructLayout;
  private readonly page: number;
  /** Ops one hypercall carries. */
  readonly perCall: number;
  /** Hypercalls issued and ops carried. */
  calls = 0;
  ops = 0;

  constructor(private readonly env: PvEnv) {
    this.layout = env.ctx.layouts.gnttabCopy;
    this.page = env.ctx.allocPage();
    if (this.page < 0) throw new RangeError("GrantCopier: no free page for the op array");
    this.perCall = Math.floor(4096 / this.layout.size);
  }

  /** Runs `ops` (any number, split into page-sized hypercalls); resolves to one GNTST per op (−errno if the call failed). */
  async run(ops: readonly CopyOp[]): Promise<Int16Array> {
    const out = new Int16Array(ops.length);
    const L = this.layout;
    const statusOff = L.offsets.status!;
    for (let base = 0; base < ops.length; base += this.perCall) {
      const n = Math.min(this.perCall, ops.length - base);
      const bytes = new Uint8Array(n * L.size);
      const dv = new DataView(bytes.buffer);
      for (let i = 0; i < n; i++) {
        const op = ops[base + i]!;
        writeStruct(
          L,
          {
            source: { u: op.srcRef, domid: op.srcDom, offset: op.srcOffset },
            dest: { u: op.dstRef, domid: op.dstDom, offset: op.dstOffset },
            len: op.len,
            flags: op.flags,
            status: 0,
          },
          dv,
          i * L.size,
        );
      }
      const addr = this.page * 4096;
      this.env.ctx.mem.writeBytes(addr, bytes);
      const rc = await this.env.ctx.hypercall(Hypercall.grant_table_op, GnttabOp.copy, addr, n);
      this.calls++;
      this.ops += n;
      if (rc < 0) {
        out.fill(rc, base, base + n);
        continue;
      }
      const back = this.env.ctx.mem.readBytes(addr, n * L.size);
      const bv = new DataView(back.buffer, back.byteOffset, back.byteLength);
      for (let i = 0; i < n; i++) out[base + i] = bv.getInt16(i * L.size + statusOff, true);
    }
    return out;
  }
}
