/**
 * Device emulation: UART and exit-port accesses from the guest kernel trap and reach the domain's
 * own models; an access in a branch delay slot is emulated together with its branch (taken, not
 * taken, a load that overwrites the branch's own register, a JAL's link); a UART interrupt
 * (THR empty, IP4) reaches the guest through the virtual Cause. Compared with the same program
 * run natively (kseg0: interpreted under Disco; ksseg: direct). Also: the LL bit does not survive
 * a world switch.
 */
import { describe, expect, it } from "vitest";
import { Uart16550 } from "../../../src/machine/index.js";
import { bootKernel, makeMachine } from "../../machine/mips/machine.js";
import { type Asm, loadAsm, newAsm, readPhys, testBed } from "./harness.js";

function program(base: number): Asm[] {
  const refill = newAsm(base);
  refill.li("k1", 0xbfd00000).addiu("k0", "zero", 1).sb("k0", 0x501, "k1").label("r").b("r").nop();
  const general = newAsm(base + 0x180);
  general.li("k1", 0xbfd00000).li("s0", base + 0x3000);
  general.mfc0("k0", 13).sw("k0", 24, "s0").sb("zero", 0x3f9, "k1");
  general.addiu("k0", "zero", 0x7e).sb("k0", 0x501, "k1").label("g").b("g").nop();
  const a = newAsm(base + 0x1000);
  a.li("k1", 0xbfd00000)
    .li("s0", base + 0x3000)
    .li("s7", base)
    .mtc0("zero", 12);
  // 1. taken branch, store in the slot
  a.addiu("t0", "zero", 0x41).beq("zero", "zero", "l1").sb("t0", 0x3f8, "k1");
  a.addiu("t0", "zero", 0x58).sb("t0", 0x3f8, "k1").label("l1");
  // 2. branch not taken, store in the slot
  a.addiu("t0", "zero", 0x42).bne("zero", "zero", "l2").sb("t0", 0x3f8, "k1");
  a.addiu("t0", "zero", 0x43).sb("t0", 0x3f8, "k1").label("l2");
  // 3. a load in the slot overwrites the register the branch compares
  a.addiu("t1", "zero", 5).addiu("t2", "zero", 5).beq("t1", "t2", "l3").lbu("t1", 0x3fd, "k1");
  a.addiu("t3", "zero", 0xbad).sw("t3", 0, "s0").label("l3").sw("t1", 4, "s0");
  // 4. JAL with a store in the slot: the link register is written
  a.addiu("t0", "zero", 0x44).jal("fn").sb("t0", 0x3f8, "k1").label("back");
  a.subu("v0", "v0", "s7").sw("v0", 8, "s0");
  // 5. UART interrupt: IER.ETBEI raises IP4 (THR empty); Status IE | IM4 takes it.
  a.addiu("t0", "zero", 2).sb("t0", 0x3f9, "k1");
  a.li("t0", (1 << 12) | 1).mtc0("t0", 12);
  a.label("w").b("w").nop();
  a.label("fn").or("v0", "ra", "zero").jr("ra").nop();
  return [refill, general, a];
}

function nativeRun(): { out: string; words: number[]; exit: number } {
  const m = makeMachine(true);
  let out = "";
  new Uart16550(m.ports, 0x3f8, {
    sink: (b) => {
      out += String.fromCharCode(b);
    },
    irq: { set: (l) => m.cpu.setIrq(4, l) },
  });
  for (const p of program(0x80000000)) m.load(p);
  bootKernel(m, 0x80001000, 0);
  m.cpu.run(100_000);
  return { out, words: [0, 4, 8, 24].map((o) => m.memory.read32(0x3000 + o) >>> 0), exit: m.stop.exitCode };
}

function discoRun(base: number) {
  const bed = testBed();
  const d = bed.domain("dev");
  for (const p of program(base)) loadAsm(d.vcpu, p);
  d.vcpu.reset(base + 0x1000, base === 0xc0000000);
  bed.run(10_000_000);
  expect(d.crash).toBeNull();
  return {
    out: d.output(),
    words: [0, 4, 8, 24].map((o) => readPhys(d.vcpu, 0x3000 + o)),
    exit: d.exitValue,
    v: d.vcpu,
  };
}

describe("device emulation", () => {
  const native = nativeRun();

  it("native reference", () => {
    expect(native.out).toBe("ABCD");
    expect(native.words[0]).toBe(0); // the branch compared the old t1
    expect(native.words[1]).toBe(0x60); // LSR: THRE | TEMT
    expect(native.exit).toBe(0x7e);
    expect((native.words[3]! >>> 2) & 31).toBe(0); // Int
    expect(native.words[3]! & (1 << 12)).not.toBe(0); // IP4
  });

  for (const [name, base] of [
    ["interpreted kseg0", 0x80000000],
    ["direct ksseg", 0xc0000000],
  ] as const) {
    it(`${name}: same console, registers, interrupt and exit as natively`, () => {
      const r = discoRun(base);
      expect(r.out).toBe(native.out);
      expect(r.words).toEqual(native.words);
      expect(r.exit).toBe(native.exit);
      // A, B, C, LSR, D, IER on, IER off, exit port: every device access trapped and emulated.
      expect(r.v.stats.counts[9]).toBe(8);
      expect(r.v.stats.counts[8]).toBe(1); // one virtual interrupt injected
    });
  }

  it("WAIT blocks the vCPU until the virtual timer (Count/Compare, IP7) fires, then the interrupt is taken", () => {
    const bed = testBed();
    const d = bed.domain("wait");
    const vec = newAsm(0xc0000180);
    vec.li("k1", 0xbfd00000).li("s0", 0xc0003000).mfc0("k0", 13).sw("k0", 0, "s0");
    vec
      .mfc0("k0", 14)
      .sw("k0", 4, "s0")
      .addiu("k0", "zero", 0x7d)
      .sb("k0", 0x501, "k1")
      .label("v")
      .b("v")
      .nop();
    const a = newAsm(0xc0001000);
    a.mtc0("zero", 12).mfc0("t0", 9).addiu("t0", "t0", 5000).mtc0("t0", 11);
    a.li("t0", (1 << 15) | 1)
      .mtc0("t0", 12)
      .wait()
      .label("after")
      .b("after")
      .nop();
    loadAsm(d.vcpu, vec);
    loadAsm(d.vcpu, a);
    d.vcpu.reset(0xc0001000, true);
    bed.run(1_000_000);
    expect(d.crash).toBeNull();
    expect(d.exitValue).toBe(0x7d);
    const cause = readPhys(d.vcpu, 0x3000);
    expect((cause >>> 2) & 31).toBe(0);
    expect(cause & (1 << 15)).not.toBe(0);
    expect(readPhys(d.vcpu, 0x3004)).toBe(a.addr("after") >>> 0); // EPC: after the WAIT
    expect(d.vcpu.stats.counts[11]).toBe(1);
    expect(d.vcpu.stats.cycles[11]).toBeGreaterThan(5000);
  });

  it("WAIT with every interrupt masked crashes the domain with a diagnostic instead of hanging", () => {
    const bed = testBed();
    const d = bed.domain("wait-forever");
    const a = newAsm(0xc0001000);
    a.mtc0("zero", 12).wait().nop();
    loadAsm(d.vcpu, a);
    d.vcpu.reset(0xc0001000, true);
    bed.run(1_000_000);
    expect(d.crash).toMatch(/WAIT with no interrupt able to wake the guest/);
  });

  it("the LL bit does not survive a trap into the monitor (SC fails), natively it does", () => {
    const body = (a: Asm, base: number) => {
      a.li("k1", 0xbfd00000)
        .li("s0", base + 0x3000)
        .mtc0("zero", 12);
      a.ll("t4", 16, "s0").mfc0("t5", 12).sc("t4", 16, "s0").sw("t4", 20, "s0");
      a.addiu("k0", "zero", 0x7f).sb("k0", 0x501, "k1").label("e").b("e").nop();
    };
    const m = makeMachine(true);
    const na = newAsm(0x80001000);
    body(na, 0x80000000);
    m.load(na);
    bootKernel(m, 0x80001000, 0);
    m.cpu.run(10_000);
    expect(m.memory.read32(0x3014)).toBe(1);
    const bed = testBed();
    const d = bed.domain("ll");
    const da = newAsm(0xc0001000);
    body(da, 0xc0000000);
    loadAsm(d.vcpu, da);
    d.vcpu.reset(0xc0001000, true);
    bed.run(1_000_000);
    expect(d.exitValue).toBe(0x7f);
    expect(readPhys(d.vcpu, 0x3014)).toBe(0);
  });
});
