/** The mipssim physical bus (RAM, boot ROM, ISA window → ports) and the CPU's diagnostics. */
import { describe, expect, it } from "vitest";
import { StopReason } from "../../../src/machine/index.js";
import { BOOT_ROM_BASE, ExcCode, ISA_IO_BASE } from "../../../src/machine/mips/index.js";
import { BASE, DONE, makeMachine, runKernel } from "./machine.js";

describe("MIPS physical bus", () => {
  it("routes the ISA window to ports with the access width and charges the device cost", () => {
    const seen: string[] = [];
    const r = runKernel(
      (a) =>
        a
          .li("t0", 0xbfd00000 + 0x300)
          .addiu("t1", "zero", 0x5a)
          .sb("t1", 1, "t0")
          .sh("t1", 2, "t0")
          .sw("t1", 4, "t0")
          .lbu("s0", 1, "t0")
          .lhu("s1", 2, "t0")
          .lw("s2", 4, "t0"),
      {
        setup: (m) =>
          m.ports.register(0x300, 8, {
            name: "probe",
            read: (p, size) => {
              seen.push(`r${size}@${p.toString(16)}`);
              return size === 1 ? 0xab : size === 2 ? 0xabcd : 0xdeadbeef;
            },
            write: (p, size, v) => {
              seen.push(`w${size}@${p.toString(16)}=${v.toString(16)}`);
            },
          }),
      },
    );
    expect(r.code).toBe(DONE);
    expect(seen).toEqual(["w1@301=5a", "w2@302=5a", "w4@304=5a", "r1@301", "r2@302", "r4@304"]);
    expect(r.m.cpu.gpr[16]).toBe(0xab);
    expect(r.m.cpu.gpr[17]).toBe(0xabcd);
    expect(r.m.cpu.gpr[18]! >>> 0).toBe(0xdeadbeef);
    expect(r.m.bus.deviceAccesses).toBe(7); // six probe accesses and the exit port
  });

  it("reads the boot ROM, ignores writes to it, and faults on holes", () => {
    const m = makeMachine();
    expect(m.bus.read(BOOT_ROM_BASE + 0x200, 4)).not.toBe(0); // the test vector stub
    m.bus.write(BOOT_ROM_BASE, 4, 0x12345678);
    expect(m.bus.read(BOOT_ROM_BASE, 4)).toBe(0);
    expect(m.bus.error).toBe(false);
    m.bus.read(0x10000000, 4);
    expect(m.bus.error).toBe(true);
    expect(m.bus.read(ISA_IO_BASE + 0x80, 1)).toBe(0xff); // open bus
  });

  it("reports the last instructions executed, disassembled", () => {
    const r = runKernel((a) => a.addiu("t0", "zero", 1).addiu("t1", "zero", 2).lw("s0", 1, "t0"), {
      setup: (m) => {
        m.cpu.interceptExceptions = true;
      },
    });
    expect(r.why).toBe(StopReason.Trap);
    expect(r.m.cpu.trap.excCode).toBe(ExcCode.AdEL);
    const recent = r.m.cpu.recentInstructions(3);
    expect(recent).toEqual([
      `${(BASE + 8).toString(16)}:  24080001  addiu t0,zero,1`,
      `${(BASE + 12).toString(16)}:  24090002  addiu t1,zero,2`,
      `${(BASE + 16).toString(16)}:  8d100001  lw s0,1(t0)`,
    ]);
  });
});
