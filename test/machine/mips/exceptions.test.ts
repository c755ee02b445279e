/** Precise exceptions: EPC/BD/Cause/BadVAddr per cause, vectors, EXL/BEV rules, intercept mode, interrupts. */
import { describe, expect, it } from "vitest";
import { StopReason } from "../../../src/machine/index.js";
import { ExcCode, Status } from "../../../src/machine/mips/index.js";
import { BASE, PATHS, runKernel, VEC } from "./machine.js";

const u = (v: number) => v >>> 0;
/** Address of the n-th instruction of a test program (after the two-word `li k1` prologue). */
const at = (n: number) => u(BASE + 8 + 4 * n);

describe.each(PATHS)("MIPS exceptions ($name)", ({ jit }) => {
  const expectExc = (
    r: ReturnType<typeof runKernel>,
    code: number,
    epc: number,
    opts: { bd?: boolean; bad?: number; vector?: number; ce?: number } = {},
  ) => {
    expect(r.why).toBe(StopReason.Exit);
    expect(r.code).toBe(opts.vector ?? VEC.general);
    const cp0 = r.m.cpu.cp0;
    const cause = cp0.causeValue;
    expect((cause >>> 2) & 31).toBe(code);
    expect(u(cp0.epc)).toBe(epc);
    expect((cause >>> 31) & 1).toBe(opts.bd ? 1 : 0);
    expect((cause >>> 28) & 3).toBe(opts.ce ?? 0);
    if (opts.bad !== undefined) expect(u(cp0.badVAddr)).toBe(opts.bad);
    expect(cp0.status & Status.EXL).toBe(Status.EXL);
    expect(r.m.cpu.stats.exceptions[code]).toBe(1);
  };

  it("ADD, ADDI and SUB trap on overflow and leave rd unchanged", () => {
    for (const [insn, setup] of [
      ["add", (a: Parameters<Parameters<typeof runKernel>[0]>[0]) => a.add("s0", "t0", "t0")],
      ["addi", (a: Parameters<Parameters<typeof runKernel>[0]>[0]) => a.addi("s0", "t0", 0x7fff)],
      ["sub", (a: Parameters<Parameters<typeof runKernel>[0]>[0]) => a.sub("s0", "t1", "t0")],
    ] as const) {
      const r = runKernel(
        (a) => {
          a.li("t0", 0x7fffffff).li("t1", 0x80000000).addiu("s0", "zero", 42);
          setup(a);
        },
        { jit },
      );
      expectExc(r, ExcCode.Ov, at(5));
      expect(r.m.cpu.gpr[16], insn).toBe(42);
    }
    // No trap without overflow, and ADDU never traps.
    const ok = runKernel((a) => a.li("t0", 0x7fffffff).addu("s0", "t0", "t0").addi("s1", "t0", -1), { jit });
    expect(ok.code).toBe(0x7f);
  });

  it("reports an exception in a delay slot at the branch with BD set", () => {
    const r = runKernel((a) => a.li("t0", 0x7fffffff).b("x").add("s0", "t0", "t0").label("x"), { jit });
    expectExc(r, ExcCode.Ov, at(2), { bd: true });
    const r2 = runKernel((a) => a.li("t0", 0x80010001).jal("x").lw("s0", 0, "t0").label("x"), { jit });
    expectExc(r2, ExcCode.AdEL, at(2), { bd: true, bad: 0x80010001 });
    // A statically never-taken branch still has a delay slot (QEMU, which translates `bne rs,rs`
    // as a NOP, reports this fault without BD; the architecture does not make that exception).
    const r3 = runKernel((a) => a.li("t0", 0x7fffffff).bnez("zero", "x").add("s0", "t0", "t0").label("x"), {
      jit,
    });
    expectExc(r3, ExcCode.Ov, at(2), { bd: true });
  });

  it("raises AdEL/AdES on unaligned loads, stores and fetches with BadVAddr", () => {
    expectExc(
      runKernel((a) => a.li("t0", 0x80010002).lw("s0", 0, "t0"), { jit }),
      ExcCode.AdEL,
      at(2),
      {
        bad: 0x80010002,
      },
    );
    expectExc(
      runKernel((a) => a.li("t0", 0x80010001).lh("s0", 0, "t0"), { jit }),
      ExcCode.AdEL,
      at(2),
      {
        bad: 0x80010001,
      },
    );
    expectExc(
      runKernel((a) => a.li("t0", 0x80010001).sh("s0", 2, "t0"), { jit }),
      ExcCode.AdES,
      at(2),
      {
        bad: 0x80010003,
      },
    );
    expectExc(
      runKernel((a) => a.li("t0", 0x80010000).sw("s0", 6, "t0"), { jit }),
      ExcCode.AdES,
      at(2),
      {
        bad: 0x80010006,
      },
    );
    // A jump to an unaligned address faults on the fetch: EPC = BadVAddr = the target.
    expectExc(
      runKernel((a) => a.li("t0", 0x80001002).jr("t0").nop(), { jit }),
      ExcCode.AdEL,
      0x80001002,
      {
        bad: 0x80001002,
      },
    );
  });

  it("raises RI for reserved encodings and for a branch in a delay slot", () => {
    expectExc(
      runKernel((a) => a.word(0xdc000000), { jit }),
      ExcCode.RI,
      at(0),
    );
    expectExc(
      runKernel((a) => a.word(0x7c000000), { jit }),
      ExcCode.RI,
      at(0),
    ); // SPECIAL3 is R2
    expectExc(
      runKernel((a) => a.b("x").b("x").label("x"), { jit }),
      ExcCode.RI,
      at(0),
      { bd: true },
    );
  });

  it("raises Sys, Bp and Tr", () => {
    expectExc(
      runKernel((a) => a.nop().syscall(), { jit }),
      ExcCode.Sys,
      at(1),
    );
    expectExc(
      runKernel((a) => a.break(7), { jit }),
      ExcCode.Bp,
      at(0),
    );
    expectExc(
      runKernel((a) => a.addiu("t0", "zero", 3).teq("t0", "t0"), { jit }),
      ExcCode.Tr,
      at(1),
    );
    expectExc(
      runKernel((a) => a.addiu("t0", "zero", -3).tltiu("t0", 5).tgei("t0", -3), { jit }),
      ExcCode.Tr,
      at(2),
    );
    expect(
      runKernel((a) => a.addiu("t0", "zero", 3).tne("t0", "t0").tnei("t0", 3).tlt("t0", "zero"), { jit })
        .code,
    ).toBe(0x7f);
  });

  it("raises CpU with CE for the FPU and for CP0 use outside kernel mode", () => {
    expectExc(
      runKernel((a) => a.word(0x44000000), { jit }),
      ExcCode.CpU,
      at(0),
      { ce: 1 },
    ); // mfc1
    expectExc(
      runKernel((a) => a.word(0xc4000000), { jit }),
      ExcCode.CpU,
      at(0),
      { ce: 1 },
    ); // lwc1
    expectExc(
      runKernel((a) => a.word(0x48000000), { jit }),
      ExcCode.CpU,
      at(0),
      { ce: 2 },
    ); // cop2
  });

  it("hypcall raises RI in kernel mode", () => {
    expectExc(
      runKernel((a) => a.hypcall(5), { jit }),
      ExcCode.RI,
      at(0),
    );
  });

  it("raises DBE and IBE for physical holes", () => {
    // kseg1 0xB0000000 → physical 0x10000000: no RAM, ROM or I/O there.
    expectExc(
      runKernel((a) => a.li("t0", 0xb0000000).lw("s0", 0, "t0"), { jit }),
      ExcCode.DBE,
      at(2),
    );
    expectExc(
      runKernel((a) => a.li("t0", 0xb0000000).jr("t0").nop(), { jit }),
      ExcCode.IBE,
      0xb0000000,
    );
  });

  it("uses the BEV vectors and keeps EPC/BD when EXL is already set", () => {
    const bev = runKernel((a) => a.syscall(), { jit, status: Status.BEV });
    expectExc(bev, ExcCode.Sys, at(0), { vector: VEC.bevGeneral });
    // With EXL = 1 (still kernel mode) EPC and BD are not updated (MD00090 §6.2.2).
    const r = runKernel((a) => a.syscall(), {
      jit,
      status: Status.EXL,
      setup: (m) => {
        m.cpu.cp0.epc = 0x1234;
      },
    });
    expect(r.code).toBe(VEC.general);
    expect(r.m.cpu.cp0.epc).toBe(0x1234);
    expect((r.m.cpu.cp0.causeValue >>> 2) & 31).toBe(ExcCode.Sys);
  });

  it("intercepts exceptions for a monitor without touching CP0", () => {
    const r = runKernel((a) => a.li("t0", 0x7fffffff).b("x").add("s0", "t0", "t0").label("x"), {
      jit,
      setup: (m) => {
        m.cpu.interceptExceptions = true;
      },
    });
    expect(r.why).toBe(StopReason.Trap);
    const t = r.m.cpu.trap;
    expect(t.excCode).toBe(ExcCode.Ov);
    expect(t.bd).toBe(true);
    expect(t.pc).toBe(at(2));
    expect(t.instrPc).toBe(at(3));
    expect(u(r.m.cpu.pc)).toBe(at(2));
    expect(r.m.cpu.cp0.status & Status.EXL).toBe(0);
    expect(r.m.cpu.cp0.epc).toBe(0);
  });

  it("intercepts interrupts for a monitor at the next instruction", () => {
    const r = runKernel((a) => a.addiu("t0", "zero", 0x200).mtc0("t0", 13).addiu("s0", "zero", 1), {
      jit,
      status: Status.IE | (1 << 9),
      setup: (m) => {
        m.cpu.interceptExceptions = true;
      },
    });
    expect(r.why).toBe(StopReason.Trap);
    expect(r.m.cpu.trap.excCode).toBe(ExcCode.Int);
    expect(r.m.cpu.trap.pc).toBe(at(2));
    expect(r.m.cpu.gpr[16]).toBe(0);
    expect(r.m.cpu.cp0.status & Status.EXL).toBe(0);
  });

  it("takes software interrupts only when IE, IM and not EXL/ERL allow", () => {
    // IP0 set with IM0 = 1, IE = 1 → interrupt after the MTC0, at the general vector.
    const ie = Status.IE | (1 << 8);
    const r = runKernel((a) => a.addiu("t0", "zero", 0x100).mtc0("t0", 13).addiu("s0", "zero", 1), {
      jit,
      status: ie,
    });
    expectExc(r, ExcCode.Int, at(2));
    expect(r.m.cpu.gpr[16]).toBe(0);
    // IV = 1: the special interrupt vector at offset 0x200.
    const iv = runKernel((a) => a.li("t0", 0x00800100).mtc0("t0", 13).nop(), { jit, status: ie });
    expectExc(iv, ExcCode.Int, at(3), { vector: VEC.interrupt });
    // Masked by IM, by IE, by EXL, by ERL: the program runs to its end.
    for (const status of [Status.IE | (1 << 9), 1 << 8, ie | Status.EXL, ie | Status.ERL]) {
      const m = runKernel((a) => a.addiu("t0", "zero", 0x100).mtc0("t0", 13).addiu("s0", "zero", 1), {
        jit,
        status,
      });
      expect(m.code).toBe(0x7f);
      expect((m.m.cpu.cp0.causeValue >>> 8) & 0xff).toBe(1);
    }
  });

  it("reflects hardware lines in Cause.IP2..IP6 and interrupts on them", () => {
    const r = runKernel((a) => a.label("spin").b("spin").nop(), {
      jit,
      status: Status.IE | (1 << 12),
      setup: (m) => {
        m.clock.schedule(1000, () => m.cpu.setIrq(4, true));
      },
    });
    expect(r.code).toBe(VEC.general);
    expect(r.m.cpu.cp0.causeValue & 0xff00).toBe(1 << 12);
    expect((r.m.cpu.cp0.causeValue >>> 2) & 31).toBe(ExcCode.Int);
    // Delivered at the first instruction boundary at or after cycle 1000 (a branch and its delay
    // slot are one unit): then exception entry (8), the stub's ADDIU (1) and SB to the exit port
    // (1 + 100 for the device register).
    const after = 8 + 1 + 1 + 100;
    expect(r.m.clock.cycles).toBeGreaterThanOrEqual(1000 + after);
    expect(r.m.clock.cycles).toBeLessThanOrEqual(1001 + after);
  });
});
