/** CP0 register masks, the TLB (refill vs general vector, invalid, modified, ASID, G, Wired/Random),
 * privilege modes and segments, Count/Compare and WAIT. */
import { describe, expect, it } from "vitest";
import { StopReason } from "../../../src/machine/index.js";
import { CONFIG1, Cp0Reg, ExcCode, PRID_4KC, Status } from "../../../src/machine/mips/index.js";
import { BASE, bootKernel, makeMachine, newAsm, PATHS, runKernel, type TestMachine, VEC } from "./machine.js";

const u = (v: number) => v >>> 0;
const at = (n: number) => u(BASE + 8 + 4 * n);
const excOf = (m: TestMachine) => (m.cpu.cp0.causeValue >>> 2) & 31;

/** EntryLo for physical address `pa` with V (and D unless `clean`) set. */
const lo = (pa: number, { d = true, g = false } = {}) => ((pa >>> 12) << 6) | (d ? 4 : 0) | 2 | (g ? 1 : 0);

describe("MIPS CP0 registers", () => {
  it("apply their writable masks", () => {
    const m = makeMachine();
    bootKernel(m, BASE, Status.EXL);
    const cp0 = m.cpu.cp0;
    const expected: [number, number][] = [
      [Cp0Reg.Index, 0x0000000f],
      [Cp0Reg.EntryLo0, 0x3fffffff],
      [Cp0Reg.EntryLo1, 0x3fffffff],
      [Cp0Reg.Context, 0xff800000],
      [Cp0Reg.PageMask, 0x1fffe000],
      [Cp0Reg.Wired, 0x0000000f],
      [Cp0Reg.EntryHi, 0xffffe0ff],
      [Cp0Reg.EPC, 0xffffffff],
      [Cp0Reg.ErrorEPC, 0xffffffff],
      [Cp0Reg.Compare, 0xffffffff],
      [Cp0Reg.Cause, 0x00800300],
      [Cp0Reg.Status, 0x1040ff1f],
    ];
    for (const [reg, mask] of expected) {
      cp0.write(reg, 0, 0);
      cp0.write(reg, 0, 0xffffffff);
      expect(u(cp0.read(reg, 0)), `reg ${reg}`).toBe(mask);
    }
    // Read-only registers ignore writes.
    cp0.write(Cp0Reg.PRId, 0, 0);
    cp0.write(Cp0Reg.BadVAddr, 0, 0x1234);
    cp0.write(Cp0Reg.LLAddr, 0, 0x1234);
    expect(cp0.read(Cp0Reg.PRId, 0)).toBe(PRID_4KC);
    expect(cp0.read(Cp0Reg.BadVAddr, 0)).toBe(0);
    expect(cp0.read(Cp0Reg.LLAddr, 0)).toBe(0);
    expect(u(cp0.read(Cp0Reg.Config, 1))).toBe(CONFIG1);
    expect((cp0.read(Cp0Reg.Config, 1) >>> 25) & 63).toBe(15); // 16 TLB entries
    cp0.write(Cp0Reg.Config, 0, 0xffffffff);
    expect(u(cp0.read(Cp0Reg.Config, 0))).toBe(0x80000087); // only K0 writable
    expect(cp0.read(Cp0Reg.Config, 0) & 0x8000).toBe(0); // BE = 0: little endian
  });

  it("counts at half the cycle rate and raises IP7 when Count reaches Compare", () => {
    const m = makeMachine();
    bootKernel(m, BASE, 0);
    const cp0 = m.cpu.cp0;
    cp0.write(Cp0Reg.Count, 0, 1000);
    m.clock.cycles += 200;
    expect(cp0.read(Cp0Reg.Count, 0)).toBe(1100);
    cp0.write(Cp0Reg.Compare, 0, 1150);
    m.clock.cycles += 99;
    m.clock.runDue();
    expect(cp0.timerPending).toBe(0);
    m.clock.cycles += 1;
    m.clock.runDue();
    expect(cp0.causeValue & 0x8000).toBe(0x8000);
    cp0.write(Cp0Reg.Compare, 0, 0); // acknowledges
    expect(cp0.causeValue & 0x8000).toBe(0);
  });
});

describe.each(PATHS)("MIPS TLB and modes ($name)", ({ jit }) => {
  it("refills through 0x80000000 with BadVAddr, Context and EntryHi set", () => {
    const r = runKernel((a) => a.li("t0", 0x00403abc).lw("s0", 0, "t0"), {
      jit,
      setup: (m) => {
        m.cpu.cp0.write(Cp0Reg.Context, 0, 0x80800000);
        m.cpu.cp0.write(Cp0Reg.EntryHi, 0, 0x2a);
      },
    });
    expect(r.code).toBe(VEC.refill);
    const cp0 = r.m.cpu.cp0;
    expect(excOf(r.m)).toBe(ExcCode.TLBL);
    expect(u(cp0.epc)).toBe(at(2));
    expect(u(cp0.badVAddr)).toBe(0x00403abc);
    expect(u(cp0.context)).toBe(u(0x80800000 | ((0x00403abc >>> 13) << 4)));
    expect(u(cp0.entryHi)).toBe(0x00402000 | 0x2a);
  });

  it("sends a miss taken with EXL = 1 to the general vector, and a store miss is TLBS", () => {
    const r = runKernel((a) => a.li("t0", 0x00403abc).lw("s0", 0, "t0"), { jit, status: Status.EXL });
    expect(r.code).toBe(VEC.general);
    expect(excOf(r.m)).toBe(ExcCode.TLBL);
    const s = runKernel((a) => a.li("t0", 0x00403abc).sw("s0", 0, "t0"), { jit });
    expect(s.code).toBe(VEC.refill);
    expect(excOf(s.m)).toBe(ExcCode.TLBS);
    // BEV = 1: the refill vector is 0xBFC00200, the general one 0xBFC00380.
    const bev = runKernel((a) => a.li("t0", 0x00403abc).lw("s0", 0, "t0"), { jit, status: Status.BEV });
    expect(bev.code).toBe(VEC.bevRefill);
    const bevExl = runKernel((a) => a.li("t0", 0x00403abc).lw("s0", 0, "t0"), {
      jit,
      status: Status.BEV | Status.EXL,
    });
    expect(bevExl.code).toBe(VEC.bevGeneral);
  });

  it("maps even/odd pages, matches ASIDs and global entries", () => {
    const r = runKernel(
      (a) =>
        a
          .li("t0", 0x00400000)
          .lw("s0", 0, "t0") // even page → 0x20000
          .lw("s1", 0x1004, "t0") // odd page → 0x31000 + 4
          .li("t1", 0x00800000)
          .lw("s2", 0, "t1") // global entry, ASID 7 ≠ 5
          .addiu("t2", "zero", 6)
          .mtc0("t2", Cp0Reg.EntryHi) // ASID 6: entry 0 no longer matches
          .lw("s3", 0, "t0"),
      {
        jit,
        setup: (m) => {
          m.memory.write32(0x20000, 0xaaaa0000);
          m.memory.write32(0x31004, 0xbbbb1004);
          m.memory.write32(0x40000, 0xcccc0000);
          m.cpu.cp0.write(Cp0Reg.EntryHi, 0, 5);
          m.cpu.tlb.write(0, {
            entryHi: 0x00400000 | 5,
            pageMask: 0,
            entryLo0: lo(0x20000),
            entryLo1: lo(0x31000),
          });
          m.cpu.tlb.write(1, {
            entryHi: 0x00800000 | 7,
            pageMask: 0,
            entryLo0: lo(0x40000, { g: true }),
            entryLo1: lo(0x41000, { g: true }),
          });
        },
      },
    );
    const g = r.m.cpu.gpr;
    expect(u(g[16]!)).toBe(0xaaaa0000);
    expect(u(g[17]!)).toBe(0xbbbb1004);
    expect(u(g[18]!)).toBe(0xcccc0000);
    expect(r.code).toBe(VEC.refill);
    expect(u(r.m.cpu.cp0.badVAddr)).toBe(0x00400000);
    expect(u(r.m.cpu.cp0.entryHi)).toBe(0x00400006);
  });

  it("raises TLB invalid (general vector) and TLB modified", () => {
    const setup = (m: TestMachine) =>
      m.cpu.tlb.write(3, {
        entryHi: 0x00400000,
        pageMask: 0,
        entryLo0: lo(0x20000, { d: false }),
        entryLo1: 0, // V = 0
      });
    const inv = runKernel((a) => a.li("t0", 0x00401010).lw("s0", 0, "t0"), { jit, setup });
    expect(inv.code).toBe(VEC.general);
    expect(excOf(inv.m)).toBe(ExcCode.TLBL);
    expect(u(inv.m.cpu.cp0.badVAddr)).toBe(0x00401010);
    const mod = runKernel((a) => a.li("t0", 0x00400010).lw("s0", 0, "t0").sw("s0", 0, "t0"), { jit, setup });
    expect(mod.code).toBe(VEC.general);
    expect(excOf(mod.m)).toBe(ExcCode.Mod);
    expect(u(mod.m.cpu.cp0.epc)).toBe(at(3));
    expect(u(mod.m.cpu.cp0.entryHi) & 0xffffe000).toBe(0x00400000);
  });

  it("supports 16 KiB pages through PageMask", () => {
    const r = runKernel((a) => a.li("t0", 0x00404000).lw("s0", 0x10, "t0").lw("s1", -0x10, "t0"), {
      jit,
      setup: (m) => {
        m.memory.write32(0x50010, 0x1111);
        m.memory.write32(0x63ff0, 0x2222);
        m.cpu.tlb.write(0, {
          entryHi: 0x00400000,
          pageMask: 0x6000,
          entryLo0: lo(0x60000),
          entryLo1: lo(0x50000),
        });
      },
    });
    expect(r.m.cpu.gpr[16]).toBe(0x1111);
    expect(r.m.cpu.gpr[17]).toBe(0x2222);
  });

  it("TLBWI/TLBR/TLBP and Wired/Random work through the instructions", () => {
    const r = runKernel(
      (a) =>
        a
          .li("t0", 0x12344000 | 0x33)
          .mtc0("t0", Cp0Reg.EntryHi)
          .li("t1", lo(0x7000))
          .mtc0("t1", Cp0Reg.EntryLo0)
          .mtc0("zero", Cp0Reg.EntryLo1)
          .mtc0("zero", Cp0Reg.PageMask)
          .addiu("t2", "zero", 9)
          .mtc0("t2", Cp0Reg.Index)
          .tlbwi()
          .mtc0("zero", Cp0Reg.Index)
          .tlbp()
          .mfc0("s0", Cp0Reg.Index) // 9
          .mtc0("zero", Cp0Reg.EntryHi)
          .tlbr()
          .mfc0("s1", Cp0Reg.EntryHi)
          .mfc0("s2", Cp0Reg.EntryLo0)
          .mtc0("zero", Cp0Reg.EntryHi)
          .tlbp()
          .mfc0("s3", Cp0Reg.Index) // miss: P set
          .mtc0("s1", Cp0Reg.EntryHi)
          .addiu("t3", "zero", 12)
          .mtc0("t3", Cp0Reg.Wired)
          .mfc0("s4", Cp0Reg.Random)
          .mfc0("s5", Cp0Reg.Random)
          .mfc0("s6", Cp0Reg.Random)
          .mfc0("s7", Cp0Reg.Random)
          .mfc0("a0", Cp0Reg.Random)
          .tlbwr(),
      { jit },
    );
    const g = r.m.cpu.gpr;
    expect(g[16]).toBe(9);
    expect(u(g[17]!)).toBe(0x12344033);
    expect(u(g[18]!)).toBe(lo(0x7000));
    expect(u(g[19]!)).toBe(0x80000000);
    // Random counts down from 15 to Wired, one step per instruction.
    expect([g[20], g[21], g[22], g[23], g[4]]).toEqual([14, 13, 12, 15, 14]);
    // TLBWR (one instruction later) wrote entry 13 with the current EntryHi (0x12344033 after TLBR).
    expect(u(r.m.cpu.tlb.read(13).entryHi)).toBe(0x12344033);
  });

  it("enforces user and supervisor segments and CP0 usability", () => {
    const userAt = (mode: "user" | "super", body: (a: ReturnType<typeof newAsm>) => void, cu0 = false) => {
      const m = makeMachine(jit);
      const a = newAsm(0x00400000);
      body(a);
      m.memory.writeBytes(0x20000, a.bytes());
      bootKernel(m, 0x00400000, (mode === "user" ? 2 << 3 : 1 << 3) | (cu0 ? Status.CU0 : 0));
      m.cpu.tlb.write(0, { entryHi: 0x00400000, pageMask: 0, entryLo0: lo(0x20000), entryLo1: lo(0x21000) });
      m.cpu.tlb.write(1, { entryHi: 0xc0000000, pageMask: 0, entryLo0: lo(0x22000), entryLo1: lo(0x23000) });
      m.cpu.gpr[27] = 0xbfd00000 | 0;
      m.cpu.gpr[8] = 0x80000000 | 0;
      m.cpu.gpr[9] = 0xc0000000 | 0;
      m.cpu.gpr[10] = 0xe0000000 | 0;
      const why = m.cpu.run(1000);
      return { m, why };
    };
    // User: kseg0 is an address error; so is ksseg.
    let r = userAt("user", (a) => a.lw("s0", 0, "t0"));
    expect(r.why).toBe(StopReason.Exit);
    expect(r.m.stop.exitCode).toBe(VEC.general);
    expect(excOf(r.m)).toBe(ExcCode.AdEL);
    expect(u(r.m.cpu.cp0.badVAddr)).toBe(0x80000000);
    expect(u(r.m.cpu.cp0.epc)).toBe(0x00400000);
    r = userAt("user", (a) => a.sw("s0", 0, "t1"));
    expect(excOf(r.m)).toBe(ExcCode.AdES);
    // User: MTC0 and hypcall need CU0 → CpU (CE 0); with CU0 MTC0 works.
    r = userAt("user", (a) => a.mtc0("zero", Cp0Reg.Compare));
    expect(excOf(r.m)).toBe(ExcCode.CpU);
    expect((r.m.cpu.cp0.causeValue >>> 28) & 3).toBe(0);
    r = userAt("user", (a) => a.hypcall(3));
    expect(excOf(r.m)).toBe(ExcCode.CpU);
    r = userAt("user", (a) => a.addiu("t4", "zero", 77).mtc0("t4", Cp0Reg.EPC).syscall(), true);
    expect(excOf(r.m)).toBe(ExcCode.Sys);
    expect(u(r.m.cpu.cp0.epc)).toBe(0x00400008);
    // Supervisor: ksseg is mapped and reachable, kseg0 and kseg3 are not.
    r = userAt("super", (a) => a.lw("s0", 0, "t1").syscall());
    expect(excOf(r.m)).toBe(ExcCode.Sys);
    r = userAt("super", (a) => a.lw("s0", 0, "t2"));
    expect(excOf(r.m)).toBe(ExcCode.AdEL);
    expect(u(r.m.cpu.cp0.badVAddr)).toBe(0xe0000000);
    r = userAt("super", (a) => a.cache(0, 0, "zero"));
    expect(excOf(r.m)).toBe(ExcCode.CpU);
  });

  it("never runs code compiled for another ASID at the same virtual address", () => {
    const m = makeMachine(jit);
    bootKernel(m, 0x00400000, 2 << 3);
    for (const [asid, pa] of [
      [1, 0x20000],
      [2, 0x30000],
    ] as const) {
      const a = newAsm(0x00400000);
      a.addiu("s0", "zero", asid).syscall();
      m.memory.writeBytes(pa, a.bytes());
      m.cpu.tlb.write(asid, { entryHi: 0x00400000 | asid, pageMask: 0, entryLo0: lo(pa), entryLo1: 0 });
    }
    m.cpu.interceptExceptions = true;
    for (const asid of [1, 2, 1, 2]) {
      m.cpu.cp0.write(Cp0Reg.EntryHi, 0, asid);
      m.cpu.pc = 0x00400000;
      expect(m.cpu.run(100)).toBe(StopReason.Trap);
      expect(m.cpu.trap.excCode).toBe(ExcCode.Sys);
      expect(m.cpu.gpr[16]).toBe(asid);
    }
  });

  it("leaves kuseg unmapped while ERL = 1", () => {
    const r = runKernel((a) => a.li("t0", 0x00012340).lw("s0", 0, "t0"), {
      jit,
      status: Status.ERL,
      setup: (m) => m.memory.write32(0x12340, 0xfeed),
    });
    expect(r.code).toBe(0x7f);
    expect(r.m.cpu.gpr[16]).toBe(0xfeed);
  });

  it("ERET returns to user mode, where SYSCALL comes back to the kernel", () => {
    const r = runKernel(
      (a) =>
        a
          .li("t0", 0x00400000)
          .mtc0("t0", Cp0Reg.EPC)
          .addiu("t1", "zero", (2 << 3) | Status.EXL)
          .mtc0("t1", Cp0Reg.Status)
          .eret(),
      {
        jit,
        setup: (m) => {
          const ua = newAsm(0x00400000);
          ua.addiu("s0", "zero", 5).syscall();
          m.memory.writeBytes(0x20000, ua.bytes());
          m.cpu.tlb.write(0, { entryHi: 0x00400000, pageMask: 0, entryLo0: lo(0x20000), entryLo1: 0 });
        },
      },
    );
    expect(r.code).toBe(VEC.general);
    expect(excOf(r.m)).toBe(ExcCode.Sys);
    expect(r.m.cpu.gpr[16]).toBe(5);
    expect(u(r.m.cpu.cp0.epc)).toBe(0x00400004);
    expect((r.m.cpu.cp0.status >>> 3) & 3).toBe(2); // KSU unchanged; EXL makes it kernel
  });

  it("WAIT sleeps until the timer interrupt and reports Idle when nothing can wake it", () => {
    const r = runKernel(
      (a) =>
        a
          .mfc0("t0", Cp0Reg.Count)
          .addiu("t0", "t0", 5000)
          .mtc0("t0", Cp0Reg.Compare)
          .wait()
          .addiu("s0", "zero", 1),
      { jit, status: Status.IE | (1 << 15) },
    );
    expect(r.code).toBe(VEC.general);
    expect(excOf(r.m)).toBe(ExcCode.Int);
    expect(u(r.m.cpu.cp0.epc)).toBe(at(4));
    expect(r.m.cpu.cp0.causeValue & 0x8000).toBe(0x8000);
    expect(r.m.clock.cycles).toBeGreaterThan(10000);
    // Timer masked (IM7 = 0): nothing can wake the CPU.
    const idle = runKernel((a) => a.wait().addiu("s0", "zero", 1), { jit, status: Status.IE });
    expect(idle.why).toBe(StopReason.Idle);
    expect(u(idle.m.cpu.pc)).toBe(at(0));
    expect(idle.m.clock.cycles).toBeLessThan(100);
  });
});
