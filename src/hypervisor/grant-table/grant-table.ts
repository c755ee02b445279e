/**
 * Grant tables, v1 (xen/include/public/grant_table.h; semantics of xen/common/grant_table.c).
 *
 * Each domain publishes grant_entry_v1 records in its own shared grant frames; another domain
 * maps a granted frame (zero copy: its P2M entry aliases the granter's machine page) or copies
 * to/from it with GNTTABOP_copy. While a grant is mapped the hypervisor holds it "pinned" and
 * keeps GTF_reading (and GTF_writing for a writable mapping) set in the granter's entry, so a
 * well-behaved granter cannot end access or reuse the entry until the last unmap.
 *
 * pvkit specifics (docs/xen-differences.md): grant frames are frames the guest donates with
 * setup_table (frame_list is an IN list of its own pfns, or mfns for a non-translated guest);
 * for auto-translated mappers host_addr is a guest-physical address and the mapper's own page
 * at that pfn comes back on unmap; destroying a granter revokes its live mappings (see
 * `revokeGrantsOf`).
 */
import { INVALID_MFN } from "../../full-virt/index.js";
import {
  DomId,
  Errno,
  GntMap,
  GntSt,
  GnttabOp,
  Gtf,
  Hypercall,
  readStruct,
  type StructLayout,
  type StructValue,
  writeStruct,
} from "../../hypercalls/index.js";
import { PAGE_SHIFT, PAGE_SIZE } from "../../machine/index.js";
import type { Domain } from "../domain.js";
import type { Hypervisor } from "../hypervisor.js";
import {
  GRANT_ENTRIES_PER_FRAME,
  GRANT_ENTRY_FLAGS,
  type GrantEntryV1,
  grantEntryAddress,
  readGrantEntry,
} from "./grant-entry.js";

/** GNTCOPY_* flags of gnttab_copy (grant_table.h). */
export const GntCopy = { source_gref: 1 << 0, dest_gref: 1 << 1 } as const;

/**
 * Per-domain limits. Xen's defaults: max_grant_frames 64 and max_maptrack_frames 1024 (Xen
 * 4.x, xl.cfg). pvkit's TS guests are small, so its defaults are smaller; both are settable.
 */
export interface GrantLimits {
  maxFrames: number;
  maxMaptrack: number;
}

export const DEFAULT_GRANT_LIMITS: Readonly<GrantLimits> = { maxFrames: 4, maxMaptrack: 256 };

/** One grant operation as it happened (for `--trace grants`). */
export interface GrantTraceEvent {
  op: "setup_table" | "map" | "unmap" | "copy" | "revoke";
  /** The domain that issued the operation. */
  domid: number;
  /** The other domain (granter for map/copy), if any. */
  peer: number;
  ref: number;
  handle: number;
  status: number;
  bytes?: number;
}

/** A pinned grant: who maps it and how. Keyed by granter+ref. */
interface ActiveGrant {
  mfn: number;
  readers: number;
  writers: number;
}

/** One mapping held by a mapper (Xen's maptrack entry). */
interface Maptrack {
  granter: number;
  ref: number;
  mfn: number;
  readonly: boolean;
  /** Mapper's pfn that now aliases the grant (−1 for a device-only mapping). */
  pfn: number;
  /** Mapper's own frame at `pfn` before the mapping, restored on unmap. */
  savedMfn: number;
  /** The granter was destroyed and the mapping revoked; unmap only frees the handle. */
  revoked: boolean;
}

interface DomainGrants {
  /** Machine frames holding this domain's grant entries. */
  frames: number[];
  /** pfn (or mfn for a non-translated guest) each frame was donated from, as the guest named it. */
  frameNames: number[];
  active: Map<number, ActiveGrant>;
  maptrack: (Maptrack | undefined)[];
  liveMaps: number;
}

/** A row of a grant-table dump. */
export interface GrantDumpRow {
  ref: number;
  flags: number;
  domid: number;
  frame: number;
  /** Pins held by mappers (readers, writers). */
  pins?: [number, number];
}

/**
 * True if the domain names its memory by guest-physical frames (TS guests, MIPS PV): the
 * hypervisor translates through its P2M. An x86 PV guest installs an address translator and
 * names machine frames.
 */
function autoTranslated(d: Domain): boolean {
  return d.addressTranslator === null;
}

export class GrantTables {
  readonly limits: GrantLimits;
  private readonly tables = new Map<number, DomainGrants>();
  /** Trace hook; null when nobody listens. */
  onTrace: ((e: GrantTraceEvent) => void) | null = null;
  /** Bytes copied by GNTTABOP_copy and frames mapped (statistics for the comparison). */
  bytesCopied = 0;
  framesMapped = 0;

  constructor(
    private readonly hv: Hypervisor,
    limits: Partial<GrantLimits> = {},
  ) {
    this.limits = { ...DEFAULT_GRANT_LIMITS, ...limits };
    hv.dispatcher.register(Hypercall.grant_table_op, ({ domain, args }) =>
      this.hypercall(domain, args[0]!, args[1]!, args[2]!),
    );
    hv.onDomainDestroy((d) => this.domainDestroyed(d));
  }

  /** HYPERVISOR_grant_table_op(cmd, uop, count): ≥ 0 or −errno; per-op status in each struct. */
  hypercall(domain: Domain, cmd: number, uop: number, count: number): number {
    if (count > 512) return Errno.EINVAL;
    const L = domain.layouts;
    const each = (layout: StructLayout, fn: (v: StructValue) => void): number => {
      for (let i = 0; i < count; i++) {
        const addr = uop + i * layout.size;
        const view = this.hv.copier.viewIn(domain, addr, layout.size);
        if (!view) return Errno.EFAULT;
        const v = readStruct(layout, view, 0); // the one read of the guest's op (double-fetch safe)
        fn(v);
        const out = new Uint8Array(layout.size);
        writeStruct(layout, v, new DataView(out.buffer), 0);
        if (!this.hv.copier.copyOut(domain, addr, out)) return Errno.EFAULT;
      }
      return 0;
    };
    switch (cmd) {
      case GnttabOp.setup_table:
        return each(L.gnttabSetupTable, (v) => {
          v.status = this.opSetupTable(domain, v);
        });
      case GnttabOp.query_size:
        return each(L.gnttabQuerySize, (v) => {
          const target = this.resolveDom(domain, v.dom as number);
          if (target < 0) {
            v.status = GntSt.bad_domain;
            return;
          }
          v.nr_frames = this.table(target).frames.length;
          v.max_nr_frames = this.limits.maxFrames;
          v.status = GntSt.okay;
        });
      case GnttabOp.map_grant_ref:
        return each(L.gnttabMapGrantRef, (v) => {
          const r = this.map(
            domain,
            v.dom as number,
            v.ref as number,
            Number(v.host_addr),
            v.flags as number,
          );
          v.status = r.status;
          v.handle = r.handle >>> 0;
          v.dev_bus_addr = BigInt(r.devBusAddr);
        });
      case GnttabOp.unmap_grant_ref:
        return each(L.gnttabUnmapGrantRef, (v) => {
          v.status = this.unmap(domain, Number(v.host_addr), v.handle as number);
        });
      case GnttabOp.copy:
        return each(L.gnttabCopy, (v) => {
          const s = v.source as StructValue;
          const d = v.dest as StructValue;
          v.status = this.copy(domain, {
            source: { ref: s.u as number, domid: s.domid as number, offset: s.offset as number },
            dest: { ref: d.u as number, domid: d.domid as number, offset: d.offset as number },
            len: v.len as number,
            flags: v.flags as number,
          });
        });
      default:
        return Errno.ENOSYS;
    }
  }

  // --- operations (also the host-side API used by tests and the toolstack) -----------------

  /**
   * GNTTABOP_setup_table for `domain` with frames it donates: pfns (auto-translated) or mfns
   * of its own pages. The first frames must be the ones given before (the table only grows).
   */
  setupTable(domain: Domain, frameNames: readonly number[]): number {
    if (frameNames.length > this.limits.maxFrames) return GntSt.general_error;
    const t = this.table(domain.domid);
    const mfns: number[] = [];
    for (let i = 0; i < frameNames.length; i++) {
      const name = frameNames[i]!;
      if (i < t.frameNames.length) {
        if (t.frameNames[i] !== name) return GntSt.general_error;
        mfns.push(t.frames[i]!);
        continue;
      }
      const mfn = this.ownFrame(domain, name);
      if (mfn < 0 || mfns.includes(mfn) || t.frames.includes(mfn)) return GntSt.general_error;
      mfns.push(mfn);
    }
    for (let i = t.frames.length; i < mfns.length; i++) {
      this.hv.memory.u8.fill(0, mfns[i]! * PAGE_SIZE, (mfns[i]! + 1) * PAGE_SIZE);
      t.frames.push(mfns[i]!);
      t.frameNames.push(frameNames[i]!);
    }
    this.trace({ op: "setup_table", domid: domain.domid, peer: domain.domid, ref: 0, handle: 0, status: 0 });
    return GntSt.okay;
  }

  /**
   * GNTTABOP_map_grant_ref: `mapper` maps `ref` of domain `granterId` at guest-physical address
   * `hostAddr` (GNTMAP_host_map), optionally read-only. Returns the GNTST status and handle.
   */
  map(
    mapper: Domain,
    granterId: number,
    ref: number,
    hostAddr: number,
    flags: number,
  ): { status: number; handle: number; devBusAddr: number } {
    const fail = (status: number) => {
      this.trace({ op: "map", domid: mapper.domid, peer: granterId, ref, handle: -1, status });
      return { status, handle: -1, devBusAddr: 0 };
    };
    const readonly = (flags & GntMap.readonly) !== 0;
    if ((flags & (GntMap.host_map | GntMap.device_map)) === 0) return fail(GntSt.general_error);
    const granter = this.hv.domain(granterId);
    if (!granter?.alive) return fail(GntSt.bad_domain);
    const gt = this.tables.get(granterId);
    const addr = gt ? grantEntryAddress(gt.frames, ref) : -1;
    if (!gt || addr < 0) return fail(GntSt.bad_gntref);
    const mt = this.table(mapper.domid);
    const handle = mt.maptrack.indexOf(undefined);
    const slot = handle < 0 ? mt.maptrack.length : handle;
    if (slot >= this.limits.maxMaptrack) return fail(GntSt.no_device_space);
    // Read the entry once (Xen reads flags+domid as one combo and cmpxchg's them).
    const e: GrantEntryV1 = readGrantEntry(this.hv.memory, addr);
    if ((e.flags & Gtf.type_mask) !== Gtf.permit_access || e.domid !== mapper.domid) {
      return fail(GntSt.general_error); // _set_status_v1: "Bad flags or dom"
    }
    if (!readonly && (e.flags & Gtf.readonly) !== 0) return fail(GntSt.general_error); // write-pin of r/o grant
    const mfn = this.grantedFrame(granter, e.frame);
    if (mfn < 0) return fail(GntSt.bad_page);
    let pfn = -1;
    let savedMfn = INVALID_MFN;
    if ((flags & GntMap.host_map) !== 0) {
      if (!autoTranslated(mapper)) return fail(GntSt.general_error); // PV page-table mapping: not supported
      if (hostAddr % PAGE_SIZE !== 0) return fail(GntSt.bad_virt_addr);
      pfn = hostAddr >>> PAGE_SHIFT;
      savedMfn = mapper.p2m.lookup(pfn);
      if (pfn >= mapper.p2m.nrPfns || mapper.p2m.foreign(pfn) || savedMfn === INVALID_MFN) {
        return fail(GntSt.bad_virt_addr);
      }
      if (this.hv.machineMemory.owner(savedMfn) !== mapper.domid) return fail(GntSt.bad_virt_addr);
    }
    // Pin: the granter's entry shows the grant in use.
    const act = gt.active.get(ref) ?? { mfn, readers: 0, writers: 0 };
    if (readonly) act.readers++;
    else act.writers++;
    gt.active.set(ref, act);
    this.syncEntryFlags(gt, ref, act);
    this.hv.machineMemory.mapForeign(mapper.domid, mfn, !readonly);
    if (pfn >= 0) mapper.p2m.set(pfn, mfn, !readonly, true);
    mt.maptrack[slot] = { granter: granterId, ref, mfn, readonly, pfn, savedMfn, revoked: false };
    mt.liveMaps++;
    this.framesMapped++;
    this.hv.chargeMonitor(mapper, this.hv.costs.grantMap);
    this.trace({ op: "map", domid: mapper.domid, peer: granterId, ref, handle: slot, status: GntSt.okay });
    return { status: GntSt.okay, handle: slot, devBusAddr: mfn * PAGE_SIZE };
  }

  /** GNTTABOP_unmap_grant_ref by handle; `hostAddr` must name the mapped page (or be 0 for device-only). */
  unmap(mapper: Domain, hostAddr: number, handle: number): number {
    const mt = this.tables.get(mapper.domid);
    const m = mt && Number.isInteger(handle) && handle >= 0 ? mt.maptrack[handle] : undefined;
    if (!mt || !m) {
      this.trace({ op: "unmap", domid: mapper.domid, peer: -1, ref: -1, handle, status: GntSt.bad_handle });
      return GntSt.bad_handle;
    }
    if (m.pfn >= 0 && hostAddr >>> PAGE_SHIFT !== m.pfn) {
      this.trace({
        op: "unmap",
        domid: mapper.domid,
        peer: m.granter,
        ref: m.ref,
        handle,
        status: GntSt.bad_virt_addr,
      });
      return GntSt.bad_virt_addr;
    }
    if (!m.revoked) this.release(mapper, m);
    mt.maptrack[handle] = undefined;
    this.hv.chargeMonitor(mapper, this.hv.costs.grantMap);
    this.trace({ op: "unmap", domid: mapper.domid, peer: m.granter, ref: m.ref, handle, status: GntSt.okay });
    return GntSt.okay;
  }

  /** GNTTABOP_copy: copies `len` bytes; a side with its GNTCOPY_*_gref flag names a grant, else the caller's own frame. */
  copy(
    caller: Domain,
    op: {
      source: { ref: number; domid: number; offset: number };
      dest: { ref: number; domid: number; offset: number };
      len: number;
      flags: number;
    },
  ): number {
    const { source, dest, len, flags } = op;
    const traceIt = (status: number, bytes = 0) => {
      this.trace({
        op: "copy",
        domid: caller.domid,
        peer: flags & GntCopy.source_gref ? source.domid : dest.domid,
        ref: flags & GntCopy.source_gref ? source.ref : dest.ref,
        handle: -1,
        status,
        bytes,
      });
      return status;
    };
    if (len > PAGE_SIZE || source.offset + len > PAGE_SIZE || dest.offset + len > PAGE_SIZE) {
      return traceIt(GntSt.bad_copy_arg);
    }
    const src = this.copySide(caller, source, (flags & GntCopy.source_gref) !== 0, false);
    if (src < 0) return traceIt(src);
    const dst = this.copySide(caller, dest, (flags & GntCopy.dest_gref) !== 0, true);
    if (dst < 0) return traceIt(dst);
    const s = src * PAGE_SIZE + source.offset;
    const d = dst * PAGE_SIZE + dest.offset;
    this.hv.memory.u8.copyWithin(d, s, s + len);
    // Like a CPU store: watchers (decode caches, page-table tracking) hear of a watched page only.
    if (len > 0 && this.hv.memory.watched[dst] !== 0) this.hv.memory.notifyWatchedWrite(d, len);
    this.bytesCopied += len;
    this.hv.chargeMonitor(caller, Math.ceil((this.hv.costs.pageCopy * len) / PAGE_SIZE));
    return traceIt(GntSt.okay, len);
  }

  /** Frames in `domid`'s table. */
  framesOf(domid: number): number {
    return this.tables.get(domid)?.frames.length ?? 0;
  }

  /** Live mappings held by `domid` as a mapper. */
  mappingsOf(domid: number): number {
    return this.tables.get(domid)?.liveMaps ?? 0;
  }

  /** Pinned grants of `domid` (granted frames currently mapped by someone). */
  pinnedOf(domid: number): number {
    return this.tables.get(domid)?.active.size ?? 0;
  }

  /** The valid entries of a domain's table (GNTTABOP_dump_table's content, as data). */
  dump(domid: number): GrantDumpRow[] {
    const t = this.tables.get(domid);
    if (!t) return [];
    const rows: GrantDumpRow[] = [];
    for (let ref = 0; ref < t.frames.length * GRANT_ENTRIES_PER_FRAME; ref++) {
      const e = readGrantEntry(this.hv.memory, grantEntryAddress(t.frames, ref));
      if (e.flags === 0 && e.domid === 0 && e.frame === 0) continue;
      const a = t.active.get(ref);
      rows.push({ ref, ...e, ...(a ? { pins: [a.readers, a.writers] as [number, number] } : {}) });
    }
    return rows;
  }

  // --- internals -----------------------------------------------------------------------------

  private table(domid: number): DomainGrants {
    let t = this.tables.get(domid);
    if (!t) {
      t = { frames: [], frameNames: [], active: new Map(), maptrack: [], liveMaps: 0 };
      this.tables.set(domid, t);
    }
    return t;
  }

  private opSetupTable(domain: Domain, v: StructValue): number {
    const target = this.resolveDom(domain, v.dom as number);
    if (target !== domain.domid) return target < 0 ? GntSt.bad_domain : GntSt.permission_denied;
    const n = v.nr_frames as number;
    if (n > this.limits.maxFrames) return GntSt.general_error;
    const list = this.hv.copier.copyIn(domain, v.frame_list as number, n * 4);
    if (!list) return GntSt.bad_virt_addr;
    const dv = new DataView(list.buffer);
    return this.setupTable(
      domain,
      Array.from({ length: n }, (_, i) => dv.getUint32(i * 4, true)),
    );
  }

  /** DOMID_SELF → caller; another domain only for a privileged caller; −1 if unknown. */
  private resolveDom(caller: Domain, dom: number): number {
    const id = dom === DomId.SELF ? caller.domid : dom;
    if (id !== caller.domid && !caller.privileged) return -1;
    return this.hv.domain(id) ? id : -1;
  }

  /** The machine frame of `name` if the domain owns it (pfn when auto-translated, else mfn), else −1. */
  private ownFrame(domain: Domain, name: number): number {
    const translated = autoTranslated(domain);
    const mfn = translated ? domain.p2m.lookup(name) : name;
    if (mfn === INVALID_MFN || mfn < 0) return -1;
    if (translated && domain.p2m.foreign(name)) return -1;
    return this.hv.machineMemory.owner(mfn) === domain.domid ? mfn : -1;
  }

  /** The frame a grant entry names, if the granter owns it; −1 otherwise. */
  private grantedFrame(granter: Domain, frame: number): number {
    return this.ownFrame(granter, frame);
  }

  /** Sets GTF_reading / GTF_writing in the granter's entry to match the pins (Xen: act->pin). */
  private syncEntryFlags(gt: DomainGrants, ref: number, act: ActiveGrant): void {
    const addr = grantEntryAddress(gt.frames, ref);
    if (addr < 0) return;
    const m = this.hv.memory;
    let f = m.read16(addr + GRANT_ENTRY_FLAGS) & ~(Gtf.reading | Gtf.writing);
    if (act.readers + act.writers > 0) f |= Gtf.reading;
    if (act.writers > 0) f |= Gtf.writing;
    m.write16(addr + GRANT_ENTRY_FLAGS, f);
  }

  /** Undoes one live mapping: the mapper's pfn gets its own page back, the pin drops. */
  private release(mapper: Domain, m: Maptrack): void {
    if (m.pfn >= 0 && mapper.p2m.foreign(m.pfn) && mapper.p2m.lookup(m.pfn) === m.mfn) {
      mapper.p2m.set(m.pfn, m.savedMfn, true, false);
    }
    this.hv.machineMemory.unmapForeign(mapper.domid, m.mfn, !m.readonly);
    const mt = this.table(mapper.domid);
    mt.liveMaps--;
    const gt = this.tables.get(m.granter);
    const act = gt?.active.get(m.ref);
    if (gt && act) {
      if (m.readonly) act.readers--;
      else act.writers--;
      if (act.readers + act.writers === 0) gt.active.delete(m.ref);
      this.syncEntryFlags(gt, m.ref, act);
    }
  }

  private copySide(
    caller: Domain,
    side: { ref: number; domid: number; offset: number },
    isRef: boolean,
    write: boolean,
  ): number {
    if (!isRef) {
      // A frame of the caller itself (Xen: gmfn of DOMID_SELF; others need privilege).
      const id = side.domid === DomId.SELF ? caller.domid : side.domid;
      if (id !== caller.domid) return GntSt.permission_denied;
      const mfn = this.ownFrame(caller, side.ref);
      return mfn < 0 ? GntSt.bad_page : mfn;
    }
    const granter = this.hv.domain(side.domid);
    if (!granter?.alive) return GntSt.bad_domain;
    const gt = this.tables.get(side.domid);
    const addr = gt ? grantEntryAddress(gt.frames, side.ref) : -1;
    if (addr < 0) return GntSt.bad_gntref;
    const e = readGrantEntry(this.hv.memory, addr);
    if ((e.flags & Gtf.type_mask) !== Gtf.permit_access || e.domid !== caller.domid)
      return GntSt.general_error;
    if (write && (e.flags & Gtf.readonly) !== 0) return GntSt.general_error;
    const mfn = this.grantedFrame(granter, e.frame);
    return mfn < 0 ? GntSt.bad_page : mfn;
  }

  /**
   * Before a domain's pages are freed. As a mapper: every mapping it holds is released. As a
   * granter: Xen would keep the mapped pages alive (the dying domain lingers as a zombie until
   * the last grantee unmaps); pvkit revokes instead — each grantee's pfn gets its own page back
   * at once, its handle stays valid so its later unmap succeeds, and every page of the dead
   * domain is freed now. See docs/xen-differences.md.
   */
  private domainDestroyed(d: Domain): void {
    const own = this.tables.get(d.domid);
    if (own) {
      for (const m of own.maptrack) if (m && !m.revoked) this.release(d, m);
    }
    this.revokeGrantsOf(d.domid);
    this.tables.delete(d.domid);
  }

  /** Revokes every live mapping of `granter`'s grants held by other domains. */
  private revokeGrantsOf(granter: number): void {
    for (const [mapperId, t] of this.tables) {
      if (mapperId === granter) continue;
      const mapper = this.hv.domain(mapperId);
      t.maptrack.forEach((m, handle) => {
        if (!m || m.revoked || m.granter !== granter) return;
        if (mapper) this.release(mapper, m);
        m.revoked = true;
        this.trace({ op: "revoke", domid: mapperId, peer: granter, ref: m.ref, handle, status: GntSt.okay });
      });
    }
  }

  private trace(e: GrantTraceEvent): void {
    this.onTrace?.(e);
  }
}
