import { describe, expect, it } from "vitest";
import { Errno, Hypercall, HypercallConvention, SchedOp, Virq, XenVer } from "../../src/hypercalls/index.js";
import { BootPfn, Hypervisor, hypercallFromRegisters, launchTsGuest } from "../../src/hypervisor/index.js";
import { put, TestGuestOps } from "./guest-helpers.js";

describe("console", () => {
  it("drains the xencons ring page when the guest notifies its console port", async () => {
    const hv = new Hypervisor({ oracle: true });
    const { domain } = launchTsGuest(hv, {
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        const si = ctx.layouts.startInfo.offsets;
        const consPfn = ctx.mem.read32(ctx.startInfoAddress + si["console.domU.mfn"]!);
        const port = ctx.mem.read32(ctx.startInfoAddress + si["console.domU.evtchn"]!);
        const C = ctx.layouts.xenconsInterface.offsets;
        const base = consPfn * 4096;
        const text = new TextEncoder().encode("ring line\n");
        let prod = ctx.mem.read32(base + C.out_prod!);
        for (const b of text) {
          ctx.mem.write8(base + C.out! + (prod & 2047), b);
          prod = (prod + 1) >>> 0;
        }
        ctx.mem.write32(base + C.out_prod!, prod);
        expect(await g.send(port)).toBe(0);
        expect(ctx.mem.read32(base + C.out_cons!)).toBe(prod);
        expect(await g.console("via console_io\n")).toBe(0);
        expect(await ctx.hypercall(Hypercall.console_io, 0, 10, ctx.nrPages * 4096)).toBe(Errno.EFAULT);
        expect(await ctx.hypercall(Hypercall.console_io, 7, 0, 0)).toBe(Errno.EINVAL);
        // console_io read returns what the host fed
        const buf = ctx.allocPage() * 4096;
        const n = await ctx.hypercall(Hypercall.console_io, 1, 100, buf);
        expect(new TextDecoder().decode(ctx.mem.readBytes(buf, n))).toBe("input!");
        expect(await ctx.hypercall(Hypercall.xen_version, XenVer.version, 0)).toBe((4 << 16) | 19);
      },
    });
    domain.console.feed(new TextEncoder().encode("input!"));
    expect(domain.consoleEvtchn).toBeGreaterThan(0);
    expect(BootPfn.console).toBe(3);
    await hv.run(1e9);
    expect(domain.crashDiagnostic).toBeNull();
    expect(domain.console.output).toBe("ring line\nvia console_io\n");
  });

  it("SCHEDOP_poll returns at once for a pending port and wakes on its timeout otherwise", async () => {
    const hv = new Hypervisor();
    const log: number[] = [];
    const shared = { poller: false, port: 0 };
    launchTsGuest(hv, {
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        const a = await g.allocUnbound(1);
        shared.port = a;
        const b = await g.allocUnbound(0);
        const b2 = await g.bindInterdomain(0x7ff0, b);
        ctx.mem.write8(g.vcpu0("evtchn_upcall_pending"), 0);
        void b2;
        const ports = ctx.allocPage() * 4096;
        const arg = ports + 64;
        ctx.mem.write32(ports, b2); // b2 is pending after its bind
        put(ctx, ctx.layouts.schedPoll, arg, { ports, nr_ports: 1, timeout: 0n });
        log.push(await ctx.hypercall(Hypercall.sched_op, SchedOp.poll, arg));
        ctx.mem.write32(ports, a); // a is not pending: wait with a timeout 1e6 ns ahead
        const t0 = ctx.now();
        put(ctx, ctx.layouts.schedPoll, arg, { ports, nr_ports: 1, timeout: BigInt(t0 + 1_000_000) });
        log.push(await ctx.hypercall(Hypercall.sched_op, SchedOp.poll, arg));
        log.push(ctx.now() - t0 >= 1_000_000 ? 1 : 0);
        put(ctx, ctx.layouts.schedPoll, arg, { ports, nr_ports: 129, timeout: 0n });
        log.push(await ctx.hypercall(Hypercall.sched_op, SchedOp.poll, arg));
        // poll on a masked port, no timeout: a send wakes it although no upcall is raised
        g.mask(a, true);
        ctx.mem.write32(ports, a);
        put(ctx, ctx.layouts.schedPoll, arg, { ports, nr_ports: 1, timeout: 0n });
        shared.poller = true;
        log.push(await ctx.hypercall(Hypercall.sched_op, SchedOp.poll, arg));
        log.push(g.pending(a) ? 1 : 0, ctx.mem.read8(g.vcpu0("evtchn_upcall_pending")));
      },
    });
    launchTsGuest(hv, {
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        while (!shared.poller) await g.yield();
        const local = await g.bindInterdomain(0, shared.port);
        await g.send(local);
      },
    });
    expect(await hv.run(1e9)).toBe("all-halted");
    expect(log).toEqual([0, 0, 1, Errno.EINVAL, 0, 1, 0]);
  });
});

describe("trap-path hypercalls from a register file", () => {
  it("reads number and arguments by each arch's convention and writes the result register", () => {
    const hv = new Hypervisor();
    const x86 = hv.createDomain({ pages: 8, arch: "x86" });
    const mips = hv.createDomain({ pages: 8, arch: "mips" });
    const scratch = new Uint32Array(5);
    const regs86 = new Int32Array(8);
    regs86[HypercallConvention.x86.number] = Hypercall.xen_version;
    regs86[HypercallConvention.x86.args[0]] = XenVer.pagesize;
    hypercallFromRegisters(hv, x86, regs86, scratch);
    expect(regs86[0]).toBe(4096); // EAX
    const gpr = new Int32Array(32);
    gpr[2] = Hypercall.sched_op; // v0
    gpr[4] = 77; // a0: unknown sched op
    hypercallFromRegisters(hv, mips, gpr, scratch);
    expect(gpr[2]).toBe(Errno.ENOSYS);
    expect(hv.statsOf(mips.domid).hypercallsByNumber[Hypercall.sched_op]).toBe(1);
    hv.recordTrap(mips, 11);
    expect(hv.statsOf(mips.domid).trapsByCause[11]).toBe(1);
  });
});

describe("start_info", () => {
  it("names frames by pfn for auto-translated domains and by mfn otherwise, with Xen's magic and flags", () => {
    const hv = new Hypervisor();
    const dom0 = hv.createDomain({ pages: 8, arch: "x86", cmdline: "console=hvc0" });
    const pv86 = hv.createDomain({ pages: 8, arch: "x86", autoTranslated: false });
    const mips = hv.createDomain({ pages: 8, arch: "mips" });
    const read = (d: typeof dom0, field: string) =>
      hv.memory.read32(d.p2m.lookup(BootPfn.startInfo) * 4096 + d.layouts.startInfo.offsets[field]!);
    const magic = (d: typeof dom0) =>
      new TextDecoder().decode(hv.memory.readBytes(d.p2m.lookup(0) * 4096, 32)).replace(/\0+$/, "");
    expect(magic(dom0)).toBe("xen-3.0-x86_32");
    expect(magic(mips)).toBe("pvkit-3.0-mips32");
    expect(read(dom0, "nr_pages")).toBe(8);
    expect(read(dom0, "flags")).toBe(3); // SIF_PRIVILEGED | SIF_INITDOMAIN
    expect(read(pv86, "flags")).toBe(0);
    expect(read(dom0, "store_mfn")).toBe(BootPfn.store);
    expect(read(dom0, "shared_info")).toBe(BootPfn.sharedInfo * 4096);
    expect(read(pv86, "store_mfn")).toBe(pv86.p2m.lookup(BootPfn.store));
    expect(read(pv86, "console.domU.mfn")).toBe(pv86.p2m.lookup(BootPfn.console));
    expect(read(pv86, "shared_info")).toBe(pv86.sharedInfoMfn * 4096);
    expect(read(mips, "console.domU.evtchn")).toBe(mips.consoleEvtchn);
    const cmd = hv.memory.readBytes(dom0.p2m.lookup(0) * 4096 + dom0.layouts.startInfo.offsets.cmd_line!, 13);
    expect(new TextDecoder().decode(cmd)).toBe("console=hvc0\0");
  });
});

describe("set_callbacks", () => {
  it("records the upcall entry per arch convention", () => {
    const hv = new Hypervisor();
    const x86 = hv.createDomain({ pages: 8, arch: "x86" });
    const mips = hv.createDomain({ pages: 8, arch: "mips" });
    expect(
      hv.hypercall(x86, Hypercall.set_callbacks, Uint32Array.of(0xe019, 0xc0001000, 0xe019, 0xc0002000, 0)),
    ).toBe(0);
    expect(x86.vcpu.callbacks).toEqual({
      eventSelector: 0xe019,
      eventAddress: 0xc0001000,
      failsafeSelector: 0xe019,
      failsafeAddress: 0xc0002000,
    });
    expect(hv.hypercall(mips, Hypercall.set_callbacks, Uint32Array.of(0xc0000180, 0xc0000200, 0, 0, 0))).toBe(
      0,
    );
    expect(mips.vcpu.callbacks.eventAddress).toBe(0xc0000180);
    expect(mips.vcpu.callbacks.failsafeAddress).toBe(0xc0000200);
  });
});

describe("console ring input", () => {
  it("host input lands in the ring's in[] side, bounded by free space, and raises the console port", async () => {
    const hv = new Hypervisor();
    const got: string[] = [];
    const { domain } = launchTsGuest(hv, {
      async main(ctx) {
        const g = new TestGuestOps(ctx);
        const si = ctx.layouts.startInfo.offsets;
        const base = ctx.mem.read32(ctx.startInfoAddress + si["console.domU.mfn"]!) * 4096;
        const port = ctx.mem.read32(ctx.startInfoAddress + si["console.domU.evtchn"]!);
        const C = ctx.layouts.xenconsInterface.offsets;
        while (!g.pending(port)) await g.block();
        g.clearPending(port);
        const prod = ctx.mem.read32(base + C.in_prod!);
        let cons = ctx.mem.read32(base + C.in_cons!);
        const bytes: number[] = [];
        while (cons !== prod) bytes.push(ctx.mem.read8(base + C.in! + (cons++ & 1023)));
        ctx.mem.write32(base + C.in_cons!, cons);
        got.push(String.fromCharCode(...bytes));
      },
    });
    await hv.run(1e6); // the guest blocks waiting for input
    expect(hv.consoleRingInput(domain.domid, new TextEncoder().encode("typed"))).toBe(5);
    expect(hv.consoleRingInput(domain.domid, new Uint8Array(2000))).toBe(1019); // ring holds 1024
    await hv.run(2e9);
    expect(got[0]!.slice(0, 5)).toBe("typed");
    expect(got[0]!.length).toBe(1024);
  });
});

describe("fully virtualized domains", () => {
  it("get plain zeroed RAM: no start_info, no shared_info, no hypervisor-bound ports", () => {
    const hv = new Hypervisor();
    const d = hv.createDomain({ pages: 2, maxPages: 64, arch: "mips", paravirtualized: false });
    expect(d.sharedInfoMfn).toBe(-1);
    expect(d.consoleEvtchn).toBe(0);
    expect(d.evtchn.allocate()).toBe(1);
    for (let pfn = 0; pfn < 2; pfn++) {
      const bytes = hv.memory.readBytes(d.p2m.lookup(pfn) * 4096, 4096);
      expect(bytes.every((b) => b === 0)).toBe(true);
    }
    expect(hv.consoleRingInput(d.domid, Uint8Array.of(1))).toBe(0);
    hv.events.sendVirq(d, Virq.timer); // no shared_info: nothing is written anywhere
    expect(hv.memory.readBytes(d.p2m.lookup(1) * 4096, 4096).every((b) => b === 0)).toBe(true);
    expect(() => hv.createDomain({ pages: 2 })).toThrow(/PV domain needs at least 4 pages/);
  });
});
