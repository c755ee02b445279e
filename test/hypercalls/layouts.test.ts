import { describe, expect, it } from "vitest";
import {
  Errno,
  EvtchnOp,
  errnoName,
  GntSt,
  GnttabOp,
  Hypercall,
  HypercallConvention,
  isHypercallError,
  LayoutsMips32,
  LayoutsX86_32,
  readStruct,
  SchedOp,
  ShutdownReason,
  Virq,
  writeStruct,
} from "../../src/hypercalls/index.js";

// Offsets below are derived by hand from Xen's public headers (xen-project/xen,
// xen/include/public/xen.h, arch-x86/xen-x86_32.h, arch-x86/xen.h, event_channel.h,
// grant_table.h, sched.h, io/console.h) for a 32-bit x86 guest: unsigned long = 4 bytes,
// uint64_t aligned to 4 inside structs (i386 psABI).
describe("x86_32 layouts equal Xen's", () => {
  const L = LayoutsX86_32;
  it("start_info", () => {
    const o = L.startInfo.offsets;
    expect([o.magic, o.nr_pages, o.shared_info, o.flags, o.store_mfn, o.store_evtchn]).toEqual([
      0, 32, 36, 40, 44, 48,
    ]);
    expect([o["console.domU.mfn"], o["console.domU.evtchn"], o.pt_base, o.nr_pt_frames, o.mfn_list]).toEqual([
      52, 56, 60, 64, 68,
    ]);
    expect([o.mod_start, o.mod_len, o.cmd_line, o.first_p2m_pfn, o.nr_p2m_frames]).toEqual([
      72, 76, 80, 1104, 1108,
    ]);
    expect(L.startInfo.size).toBe(1112);
  });
  it("shared_info and vcpu_info", () => {
    expect(L.vcpuInfo.size).toBe(64); // "sizeof(vcpu_info_t) == 64" — xen-x86_32.h
    expect(L.vcpuTimeInfo.size).toBe(32); // "32 bytes" — xen.h
    const v = L.vcpuInfo.offsets;
    expect([v.evtchn_upcall_pending, v.evtchn_upcall_mask, v.evtchn_pending_sel, v.arch, v.time]).toEqual([
      0, 1, 4, 8, 32,
    ]);
    const t = L.vcpuTimeInfo.offsets;
    expect([t.version, t.tsc_timestamp, t.system_time, t.tsc_to_system_mul, t.tsc_shift]).toEqual([
      0, 8, 16, 24, 28,
    ]);
    const s = L.sharedInfo.offsets;
    expect([s.evtchn_pending, s.evtchn_mask, s.wc_version, s.wc_sec, s.wc_nsec, s.arch]).toEqual([
      2048, 2176, 2304, 2308, 2312, 2316,
    ]);
    expect(s["arch.wc_sec_hi"]).toBe(2340);
    expect(L.sharedInfo.size).toBe(2344);
  });
  it("event channel, sched and grant structures", () => {
    expect(L.evtchnAllocUnbound.offsets).toEqual({ dom: 0, remote_dom: 2, port: 4 });
    expect(L.evtchnBindInterdomain.offsets).toEqual({ remote_dom: 0, remote_port: 4, local_port: 8 });
    expect(L.evtchnBindVirq.offsets).toEqual({ virq: 0, vcpu: 4, port: 8 });
    expect(L.evtchnStatus.size).toBe(24);
    expect(L.evtchnStatus.offsets["u.interdomain.port"]).toBe(20);
    expect(L.schedPoll.offsets).toEqual({ ports: 0, nr_ports: 4, timeout: 8 });
    expect(L.grantEntryV1.size).toBe(8);
    expect(L.gnttabMapGrantRef.offsets).toEqual({
      host_addr: 0,
      flags: 8,
      ref: 12,
      dom: 16,
      status: 18,
      handle: 20,
      dev_bus_addr: 24,
    });
    expect(L.gnttabMapGrantRef.size).toBe(32);
    expect(L.gnttabCopy.size).toBe(24);
    expect(L.xenconsInterface.offsets).toEqual({
      in: 0,
      out: 1024,
      in_cons: 3072,
      in_prod: 3076,
      out_cons: 3080,
      out_prod: 3084,
    });
    expect(L.mmuUpdate.size).toBe(16);
    expect(L.multicallEntry.size).toBe(32);
  });
});

describe("MIPS layouts (pvkit's ABI) keep the x86_32 offsets of every shared field", () => {
  it("start_info, shared_info, vcpu_info", () => {
    expect(LayoutsMips32.startInfo.offsets).toEqual(LayoutsX86_32.startInfo.offsets);
    expect(LayoutsMips32.vcpuInfo.size).toBe(64);
    for (const k of [
      "evtchn_pending",
      "evtchn_mask",
      "wc_version",
      "wc_sec",
      "wc_nsec",
      "arch",
      "arch.max_pfn",
      "arch.wc_sec_hi",
    ]) {
      expect(LayoutsMips32.sharedInfo.offsets[k]).toBe(LayoutsX86_32.sharedInfo.offsets[k]);
    }
    // o32 aligns uint64_t to 8: unmap_grant_ref's size is still 24, map_grant_ref 32.
    expect(LayoutsMips32.gnttabMapGrantRef.size).toBe(32);
    expect(LayoutsMips32.mipsPrivregs?.size).toBe(64);
    expect(LayoutsMips32.startInfoMagic).toBe("pvkit-3.0-mips32");
    expect(LayoutsX86_32.startInfoMagic).toBe("xen-3.0-x86_32");
  });
});

describe("numbers and codecs", () => {
  it("Xen's hypercall, sub-op and errno numbers", () => {
    expect([
      Hypercall.set_trap_table,
      Hypercall.mmu_update,
      Hypercall.memory_op,
      Hypercall.multicall,
    ]).toEqual([0, 1, 12, 13]);
    expect([
      Hypercall.set_timer_op,
      Hypercall.xen_version,
      Hypercall.console_io,
      Hypercall.grant_table_op,
    ]).toEqual([15, 17, 18, 20]);
    expect([Hypercall.vcpu_op, Hypercall.mmuext_op, Hypercall.sched_op, Hypercall.event_channel_op]).toEqual([
      24, 26, 29, 32,
    ]);
    expect([SchedOp.yield, SchedOp.block, SchedOp.shutdown, SchedOp.poll]).toEqual([0, 1, 2, 3]);
    expect([ShutdownReason.poweroff, ShutdownReason.crash, ShutdownReason.watchdog]).toEqual([0, 3, 4]);
    expect([
      EvtchnOp.bind_interdomain,
      EvtchnOp.bind_virq,
      EvtchnOp.close,
      EvtchnOp.send,
      EvtchnOp.status,
    ]).toEqual([0, 1, 3, 4, 5]);
    expect([EvtchnOp.alloc_unbound, EvtchnOp.bind_ipi, EvtchnOp.unmask, EvtchnOp.reset]).toEqual([
      6, 7, 9, 10,
    ]);
    expect([Virq.timer, Virq.debug, Virq.console]).toEqual([0, 1, 2]);
    expect([GnttabOp.map_grant_ref, GnttabOp.copy, GnttabOp.query_size]).toEqual([0, 5, 6]);
    expect([GntSt.okay, GntSt.bad_gntref, GntSt.eagain]).toEqual([0, -3, -12]);
    expect([Errno.EPERM, Errno.EFAULT, Errno.EINVAL, Errno.ENOSYS, Errno.ETIMEDOUT]).toEqual([
      -1, -14, -22, -38, -110,
    ]);
    expect(errnoName(-22)).toBe("EINVAL");
    expect(isHypercallError(-22)).toBe(true);
    expect(isHypercallError(0x80000000 | 0)).toBe(false);
    expect(HypercallConvention.mips.instruction).toBe(0x42000028);
    expect(HypercallConvention.x86.args).toEqual([3, 1, 2, 6, 7]); // EBX ECX EDX ESI EDI
  });

  it("codecs round-trip and write little-endian at the named offsets", () => {
    const L = LayoutsX86_32.evtchnStatus;
    const buf = new Uint8Array(L.size);
    const view = new DataView(buf.buffer);
    writeStruct(
      L,
      { dom: 0x7ff0, port: 7, status: 2, vcpu: 0, u: { interdomain: { dom: 3, port: 9 } } },
      view,
      0,
    );
    expect([buf[0], buf[1], buf[4], buf[8], buf[16], buf[20]]).toEqual([0xf0, 0x7f, 7, 2, 3, 9]);
    const back = readStruct(L, view, 0);
    expect(back.port).toBe(7);
    expect((back.u as { interdomain: { port: number } }).interdomain.port).toBe(9);
    const P = LayoutsMips32.schedPoll;
    const pb = new DataView(new ArrayBuffer(P.size));
    writeStruct(P, { ports: 0x1000, nr_ports: 2, timeout: 0x1_0000_0002n }, pb, 0);
    expect(pb.getUint32(8, true)).toBe(2);
    expect(pb.getUint32(12, true)).toBe(1);
    expect(readStruct(P, pb, 0).timeout).toBe(0x1_0000_0002n);
  });
});
