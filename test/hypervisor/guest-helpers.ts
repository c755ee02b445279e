/** Minimal guest-side wrappers for tests (the real SDK is src/guest-sdk, owned elsewhere). */
import {
  EvtchnOp,
  type GuestContext,
  Hypercall,
  readStruct,
  SchedOp,
  type StructLayout,
  type StructValue,
  writeStruct,
} from "../../src/hypercalls/index.js";

/** Writes a struct into guest memory at `gpa` through the checked accessors. */
export function put(ctx: GuestContext, layout: StructLayout, gpa: number, value: StructValue): void {
  const b = new Uint8Array(layout.size);
  writeStruct(layout, value, new DataView(b.buffer), 0);
  ctx.mem.writeBytes(gpa, b);
}

export function get(ctx: GuestContext, layout: StructLayout, gpa: number): StructValue {
  const b = ctx.mem.readBytes(gpa, layout.size);
  return readStruct(layout, new DataView(b.buffer), 0);
}

export class TestGuestOps {
  readonly scratch: number;
  constructor(readonly ctx: GuestContext) {
    this.scratch = ctx.allocPage() * 4096;
  }
  private async op(
    cmd: number,
    layout: StructLayout,
    v: StructValue,
  ): Promise<{ rc: number; out: StructValue }> {
    put(this.ctx, layout, this.scratch, v);
    const rc = await this.ctx.hypercall(Hypercall.event_channel_op, cmd, this.scratch);
    return { rc, out: get(this.ctx, layout, this.scratch) };
  }
  async allocUnbound(remote: number): Promise<number> {
    const r = await this.op(EvtchnOp.alloc_unbound, this.ctx.layouts.evtchnAllocUnbound, {
      dom: 0x7ff0,
      remote_dom: remote,
      port: 0,
    });
    return r.rc < 0 ? r.rc : (r.out.port as number);
  }
  async bindInterdomain(remoteDom: number, remotePort: number): Promise<number> {
    const r = await this.op(EvtchnOp.bind_interdomain, this.ctx.layouts.evtchnBindInterdomain, {
      remote_dom: remoteDom,
      remote_port: remotePort,
      local_port: 0,
    });
    return r.rc < 0 ? r.rc : (r.out.local_port as number);
  }
  async bindVirq(virq: number): Promise<number> {
    const r = await this.op(EvtchnOp.bind_virq, this.ctx.layouts.evtchnBindVirq, { virq, vcpu: 0, port: 0 });
    return r.rc < 0 ? r.rc : (r.out.port as number);
  }
  async send(port: number): Promise<number> {
    return (await this.op(EvtchnOp.send, this.ctx.layouts.evtchnSend, { port })).rc;
  }
  async close(port: number): Promise<number> {
    return (await this.op(EvtchnOp.close, this.ctx.layouts.evtchnClose, { port })).rc;
  }
  async unmask(port: number): Promise<number> {
    return (await this.op(EvtchnOp.unmask, this.ctx.layouts.evtchnUnmask, { port })).rc;
  }
  async status(dom: number, port: number): Promise<{ rc: number; out: StructValue }> {
    return this.op(EvtchnOp.status, this.ctx.layouts.evtchnStatus, { dom, port, status: 0, vcpu: 0, u: {} });
  }
  block(): Promise<number> {
    return this.ctx.hypercall(Hypercall.sched_op, SchedOp.block, 0);
  }
  yield(): Promise<number> {
    return this.ctx.hypercall(Hypercall.sched_op, SchedOp.yield, 0);
  }
  /** Address of a shared_info field (guest-physical). */
  shared(field: string): number {
    return this.ctx.sharedInfoAddress + this.ctx.layouts.sharedInfo.offsets[field]!;
  }
  vcpu0(field: string): number {
    return this.shared("vcpu_info") + this.ctx.layouts.vcpuInfo.offsets[field]!;
  }
  pending(port: number): boolean {
    return (this.ctx.mem.read32(this.shared("evtchn_pending") + (port >>> 5) * 4) & (1 << (port & 31))) !== 0;
  }
  clearPending(port: number): void {
    const a = this.shared("evtchn_pending") + (port >>> 5) * 4;
    this.ctx.mem.write32(a, this.ctx.mem.read32(a) & ~(1 << (port & 31)));
  }
  mask(port: number, on: boolean): void {
    const a = this.shared("evtchn_mask") + (port >>> 5) * 4;
    const v = this.ctx.mem.read32(a);
    this.ctx.mem.write32(a, on ? v | (1 << (port & 31)) : v & ~(1 << (port & 31)));
  }
  async console(text: string): Promise<number> {
    const b = new TextEncoder().encode(text);
    this.ctx.mem.writeBytes(this.scratch + 2048, b);
    return this.ctx.hypercall(Hypercall.console_io, 0, b.length, this.scratch + 2048);
  }
}
