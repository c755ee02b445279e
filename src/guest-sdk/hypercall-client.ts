/**
 * Typed hypercalls for a TypeScript guest, over the runtime's `GuestContext`. Each call lays
 * its argument structure out in a slot of a scratch page of the guest's own memory (the
 * layouts come from src/hypercalls for the guest's arch), issues the hypercall through the
 * same dispatcher as a machine-code guest, and reads the results back. Raw results are
 * returned as data (≥ 0 or −errno; GNTST codes in `status`); `ok()` turns a failure into a
 * HypercallError at the API edge.
 */
import {
  DomId,
  EvtchnOp,
  GnttabOp,
  type GuestContext,
  Hypercall,
  HypercallError,
  readStruct,
  SchedOp,
  type StructLayout,
  type StructValue,
  writeStruct,
} from "../hypercalls/index.js";
import { PAGE_SIZE } from "./guest-page.js";

/** Bytes of one argument slot; the largest structure used (gnttab_map_grant_ref) is 32. */
const SLOT = 128;
const SLOTS = PAGE_SIZE / SLOT;

/** Result of GNTTABOP_map_grant_ref. */
export interface MapResult {
  rc: number;
  status: number;
  handle: number;
}

/** One side of GNTTABOP_copy: a grant ref of `domid`, or (no gref flag) a frame of the caller. */
export interface CopyPtr {
  ref: number;
  domid: number;
  offset: number;
}

export class HypercallClient {
  private readonly scratch: number;
  private readonly free: number[] = [];
  private readonly waiting: ((slot: number) => void)[] = [];

  constructor(readonly ctx: GuestContext) {
    const pfn = ctx.allocPage();
    if (pfn < 0) throw new HypercallError(0, -12, "HypercallClient: no free page for hypercall arguments");
    this.scratch = pfn * PAGE_SIZE;
    for (let i = SLOTS - 1; i >= 0; i--) this.free.push(i);
  }

  /** Throws HypercallError if `rc` is a negative errno; returns it otherwise. */
  static ok(rc: number, nr: number, what: string): number {
    if (rc < 0) throw new HypercallError(nr, rc, what);
    return rc;
  }

  // --- event channels (event_channel.h) -----------------------------------------------------

  /** EVTCHNOP_alloc_unbound: a port `remoteDom` may bind to. Resolves to the port or −errno. */
  async evtchnAllocUnbound(remoteDom: number): Promise<number> {
    const L = this.ctx.layouts.evtchnAllocUnbound;
    const r = await this.op(Hypercall.event_channel_op, EvtchnOp.alloc_unbound, L, {
      dom: DomId.SELF,
      remote_dom: remoteDom,
      port: 0,
    });
    return r.rc < 0 ? r.rc : (r.out.port as number);
  }

  /** EVTCHNOP_bind_interdomain: a local port connected to `remotePort` of `remoteDom`. */
  async evtchnBindInterdomain(remoteDom: number, remotePort: number): Promise<number> {
    const L = this.ctx.layouts.evtchnBindInterdomain;
    const r = await this.op(Hypercall.event_channel_op, EvtchnOp.bind_interdomain, L, {
      remote_dom: remoteDom,
      remote_port: remotePort,
      local_port: 0,
    });
    return r.rc < 0 ? r.rc : (r.out.local_port as number);
  }

  /** EVTCHNOP_bind_virq (vCPU 0). */
  async evtchnBindVirq(virq: number): Promise<number> {
    const L = this.ctx.layouts.evtchnBindVirq;
    const r = await this.op(Hypercall.event_channel_op, EvtchnOp.bind_virq, L, { virq, vcpu: 0, port: 0 });
    return r.rc < 0 ? r.rc : (r.out.port as number);
  }

  /** EVTCHNOP_bind_ipi (vCPU 0): a port whose sends notify this domain itself. */
  async evtchnBindIpi(): Promise<number> {
    const L = this.ctx.layouts.evtchnBindIpi;
    const r = await this.op(Hypercall.event_channel_op, EvtchnOp.bind_ipi, L, { vcpu: 0, port: 0 });
    return r.rc < 0 ? r.rc : (r.out.port as number);
  }

  async evtchnSend(port: number): Promise<number> {
    return (await this.op(Hypercall.event_channel_op, EvtchnOp.send, this.ctx.layouts.evtchnSend, { port }))
      .rc;
  }

  async evtchnClose(port: number): Promise<number> {
    return (await this.op(Hypercall.event_channel_op, EvtchnOp.close, this.ctx.layouts.evtchnClose, { port }))
      .rc;
  }

  async evtchnUnmask(port: number): Promise<number> {
    return (
      await this.op(Hypercall.event_channel_op, EvtchnOp.unmask, this.ctx.layouts.evtchnUnmask, { port })
    ).rc;
  }

  /** EVTCHNOP_reset of this domain: closes every port it bound. */
  async evtchnReset(dom: number = DomId.SELF): Promise<number> {
    return (await this.op(Hypercall.event_channel_op, EvtchnOp.reset, this.ctx.layouts.evtchnReset, { dom }))
      .rc;
  }

  // --- grant tables (grant_table.h) ---------------------------------------------------------

  /** GNTTABOP_setup_table with the guest frames (pfns) that hold its grant entries. */
  async gnttabSetupTable(pfns: readonly number[]): Promise<{ rc: number; status: number }> {
    const L = this.ctx.layouts.gnttabSetupTable;
    return this.withSlot(async (addr) => {
      const list = addr + 64; // frame_list lives in the same slot, after the structure
      if (pfns.length > (SLOT - 64) / 4) return { rc: -22, status: -1 };
      for (let i = 0; i < pfns.length; i++) this.ctx.mem.write32(list + i * 4, pfns[i]!);
      const r = await this.call(Hypercall.grant_table_op, GnttabOp.setup_table, L, addr, {
        dom: DomId.SELF,
        nr_frames: pfns.length,
        status: 0,
        frame_list: list,
      });
      return { rc: r.rc, status: r.out.status as number };
    });
  }

  /** GNTTABOP_map_grant_ref at guest-physical `hostAddr` (GNTMAP_host_map | flags). */
  async gnttabMap(dom: number, ref: number, hostAddr: number, flags: number): Promise<MapResult> {
    const L = this.ctx.layouts.gnttabMapGrantRef;
    const r = await this.op(Hypercall.grant_table_op, GnttabOp.map_grant_ref, L, {
      host_addr: BigInt(hostAddr),
      flags,
      ref,
      dom,
      status: 0,
      handle: 0,
      dev_bus_addr: 0n,
    });
    return { rc: r.rc, status: r.out.status as number, handle: r.out.handle as number };
  }

  /** GNTTABOP_unmap_grant_ref. Resolves to the GNTST status (or −errno if the call failed). */
  async gnttabUnmap(hostAddr: number, handle: number): Promise<number> {
    const L = this.ctx.layouts.gnttabUnmapGrantRef;
    const r = await this.op(Hypercall.grant_table_op, GnttabOp.unmap_grant_ref, L, {
      host_addr: BigInt(hostAddr),
      dev_bus_addr: 0n,
      handle,
      status: 0,
    });
    return r.rc < 0 ? r.rc : (r.out.status as number);
  }

  /** GNTTABOP_copy of one segment. Resolves to the GNTST status (or −errno). */
  async gnttabCopy(source: CopyPtr, dest: CopyPtr, len: number, flags: number): Promise<number> {
    const L = this.ctx.layouts.gnttabCopy;
    const r = await this.op(Hypercall.grant_table_op, GnttabOp.copy, L, {
      source: { u: source.ref, domid: source.domid, offset: source.offset },
      dest: { u: dest.ref, domid: dest.domid, offset: dest.offset },
      len,
      flags,
      status: 0,
    });
    return r.rc < 0 ? r.rc : (r.out.status as number);
  }

  // --- scheduling and console ---------------------------------------------------------------

  /** SCHEDOP_yield. */
  schedYield(): Promise<number> {
    return this.ctx.hypercall(Hypercall.sched_op, SchedOp.yield, 0);
  }

  /** SCHEDOP_block: sleeps until an event is pending. */
  schedBlock(): Promise<number> {
    return this.ctx.hypercall(Hypercall.sched_op, SchedOp.block, 0);
  }

  // --- plumbing -----------------------------------------------------------------------------

  private async op(nr: number, cmd: number, layout: StructLayout, value: StructValue) {
    return this.withSlot((addr) => this.call(nr, cmd, layout, addr, value));
  }

  private async call(nr: number, cmd: number, layout: StructLayout, addr: number, value: StructValue) {
    const bytes = new Uint8Array(layout.size);
    writeStruct(layout, value, new DataView(bytes.buffer), 0);
    this.ctx.mem.writeBytes(addr, bytes);
    const rc = await this.ctx.hypercall(nr, cmd, addr, 1);
    const out = readStruct(layout, new DataView(this.ctx.mem.readBytes(addr, layout.size).buffer), 0);
    return { rc, out };
  }

  /** Runs `fn` with an argument slot; with all slots busy, waits for one (FIFO). */
  private async withSlot<T>(fn: (addr: number) => Promise<T>): Promise<T> {
    let slot = this.free.pop();
    if (slot === undefined) slot = await new Promise<number>((resolve) => this.waiting.push(resolve));
    try {
      return await fn(this.scratch + slot * SLOT);
    } finally {
      const next = this.waiting.shift();
      if (next) next(slot);
      else this.free.push(slot);
    }
  }
}
