/**
 * The guest side of grant tables: the guest keeps grant_entry_v1 records in frames of its own
 * memory (handed to the hypervisor with GNTTABOP_setup_table), grants pages to other domains
 * by writing entries, and maps or copies other domains' grants by hypercall.
 *
 * Entry update order follows grant_table.h's guidelines: write domid and frame, barrier, then
 * flags; end access only if the hypervisor is not holding the grant (GTF_reading/GTF_writing
 * clear), otherwise the page is still mapped by the peer and must not be reused.
 */
import { barrier, GntMap, GntSt, Gtf, type GuestContext } from "../hypercalls/index.js";
import { GrantError } from "./errors.js";
import { GuestPage, PAGE_SIZE } from "./guest-page.js";
import type { CopyPtr, HypercallClient } from "./hypercall-client.js";

/** GNTTAB_NR_RESERVED_ENTRIES (Linux, include/xen/grant_table.h): refs 0–7 are the toolstack's. */
export const GNTTAB_NR_RESERVED_ENTRIES = 8;
const ENTRIES_PER_FRAME = PAGE_SIZE / 8;

/** A grant of another domain mapped into this guest. */
export interface GrantMapping {
  /** The guest frame that now aliases the granted page. */
  readonly pfn: number;
  readonly handle: number;
  /** The mapped page, through the guest's own accessors. */
  readonly page: GuestPage;
  readonly readonly: boolean;
}

export class GrantTable {
  private readonly framePfns: number[] = [];
  private readonly freeRefs: number[] = [];
  /** Frames of the guest reused as mapping slots after an unmap. */
  private readonly spareMapPfns: number[] = [];

  private constructor(
    readonly ctx: GuestContext,
    readonly client: HypercallClient,
  ) {}

  /** Sets up a table of `frames` frames (512 entries each) taken from the guest's free pages. */
  static async create(ctx: GuestContext, client: HypercallClient, frames = 1): Promise<GrantTable> {
    const t = new GrantTable(ctx, client);
    for (let i = 0; i < frames; i++) {
      const pfn = ctx.allocPage();
      if (pfn < 0) throw new GrantError(GntSt.no_device_space, "no free guest page for a grant frame");
      t.framePfns.push(pfn);
    }
    const r = await client.gnttabSetupTable(t.framePfns);
    if (r.rc < 0 || r.status !== GntSt.okay) {
      throw new GrantError(r.status, `GNTTABOP_setup_table failed (rc ${r.rc}, status ${r.status})`);
    }
    for (let ref = frames * ENTRIES_PER_FRAME - 1; ref >= GNTTAB_NR_RESERVED_ENTRIES; ref--)
      t.freeRefs.push(ref);
    return t;
  }

  /** Free grant references left. */
  get available(): number {
    return this.freeRefs.length;
  }

  /** Grants `domid` access to this guest's page `pfn`; returns the grant reference. */
  grantAccess(domid: number, pfn: number, readonly = false): number {
    const ref = this.freeRefs.pop();
    if (ref === undefined)
      throw new GrantError(GntSt.no_device_space, "grant table full: end access to some grants");
    const e = this.entryAddress(ref);
    this.ctx.mem.write16(e + 2, domid);
    this.ctx.mem.write32(e + 4, pfn);
    barrier(); // grant_table.h: domid and frame visible before the flags that validate them
    this.ctx.mem.write16(e, Gtf.permit_access | (readonly ? Gtf.readonly : 0));
    return ref;
  }

  /** True while the peer holds `ref` mapped (the hypervisor keeps GTF_reading/writing set). */
  inUse(ref: number): boolean {
    return (this.ctx.mem.read16(this.entryAddress(ref)) & (Gtf.reading | Gtf.writing)) !== 0;
  }

  /**
   * Ends access through `ref` and frees it. Throws GrantError if the peer still has it mapped:
   * the page must not be reused until the peer unmaps it.
   */
  endAccess(ref: number): void {
    const e = this.entryAddress(ref);
    const flags = this.ctx.mem.read16(e);
    if ((flags & (Gtf.reading | Gtf.writing)) !== 0) {
      throw new GrantError(
        GntSt.general_error,
        `grant ${ref} is still mapped by domain ${this.ctx.mem.read16(e + 2)}`,
      );
    }
    this.ctx.mem.write16(e, 0);
    this.freeRefs.push(ref);
  }

  /** Maps `ref` of domain `domid` into a spare guest frame (zero copy). */
  async map(domid: number, ref: number, readonly = false): Promise<GrantMapping> {
    const pfn = this.spareMapPfns.pop() ?? this.ctx.allocPage();
    if (pfn < 0) throw new GrantError(GntSt.no_device_space, "no free guest frame to map a grant at");
    const r = await this.client.gnttabMap(
      domid,
      ref,
      pfn * PAGE_SIZE,
      GntMap.host_map | (readonly ? GntMap.readonly : 0),
    );
    if (r.rc < 0 || r.status !== GntSt.okay) {
      this.spareMapPfns.push(pfn);
      throw new GrantError(
        r.status,
        `mapping grant ${ref} of domain ${domid} failed: GNTST ${r.status} (rc ${r.rc})`,
      );
    }
    return { pfn, handle: r.handle, page: new GuestPage(this.ctx.mem, pfn), readonly };
  }

  /** Unmaps a mapping; the guest frame gets its own page back and is reused for later maps. */
  async unmap(m: GrantMapping): Promise<void> {
    const st = await this.client.gnttabUnmap(m.pfn * PAGE_SIZE, m.handle);
    if (st !== GntSt.okay) throw new GrantError(st, `unmapping handle ${m.handle} failed: GNTST ${st}`);
    this.spareMapPfns.push(m.pfn);
  }

  /** GNTTABOP_copy of one segment; throws GrantError on a non-okay status. */
  async copy(source: CopyPtr, dest: CopyPtr, len: number, flags: number): Promise<void> {
    const st = await this.client.gnttabCopy(source, dest, len, flags);
    if (st !== GntSt.okay) throw new GrantError(st, `grant copy failed: GNTST ${st}`);
  }

  private entryAddress(ref: number): number {
    const f = Math.floor(ref / ENTRIES_PER_FRAME);
    const pfn = this.framePfns[f];
    if (pfn === undefined || ref < 0)
      throw new GrantError(GntSt.bad_gntref, `grant ref ${ref} is outside the table`);
    return pfn * PAGE_SIZE + (ref % ENTRIES_PER_FRAME) * 8;
  }
}
