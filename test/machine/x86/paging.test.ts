/**
 * Paging (SDM Vol. 3A chapter 4): the permission matrix U/S × R/W × CR0.WP × CPL for reads and
 * writes, #PF error codes and CR2, accessed/dirty bits, 4 MiB pages, TLB flushing, and restart
 * of a faulting instruction once the page is mapped.
 */
import { describe, expect, it } from "vitest";
import { StopReason } from "../../../src/machine/index.js";
import {
  CR0_PG,
  CR0_WP,
  CR4_PGE,
  CR4_PSE,
  PF_P,
  PF_U,
  PF_W,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_PS,
  PTE_U,
  PTE_W,
  Vector,
} from "../../../src/machine/x86/index.js";
import { CODE, HANDLERS, machine, setRing, type TestMachine, withSystemTables } from "./harness.js";

const PD = 0x100000;
const PT = 0x101000;
const TEST_PAGE = 0x200000; // PDE 0, PTE 0x200
const EAX = 0;
const ESP = 4;

/** Identity-maps 0-4 MiB (user, writable) through PD/PT and turns paging on. */
function paged(src: string, ring: 0 | 3, intercept = true): TestMachine {
  const t = machine(`${src}\nhlt`);
  withSystemTables(t);
  const m = t.memory;
  m.write32(PD, PT | PTE_P | PTE_W | PTE_U);
  for (let i = 0; i < 1024; i++) m.write32(PT + 4 * i, (i << 12) | PTE_P | PTE_W | PTE_U);
  t.cpu.cr3 = PD;
  t.cpu.cr0 = t.cpu.cr0 | CR0_PG;
  setRing(t, ring);
  t.cpu.interceptExceptions = intercept;
  return t;
}
const pte = (lin: number) => PT + ((lin >>> 12) & 0x3ff) * 4;

describe("x86 paging permission matrix", () => {
  for (const us of [0, 1])
    for (const rw of [0, 1])
      for (const wp of [0, 1])
        for (const cpl of [0, 3] as const)
          for (const write of [false, true]) {
            const user = cpl === 3;
            const faults = (user && us === 0) || (write && rw === 0 && (user || wp === 1));
            const name = `U/S=${us} R/W=${rw} WP=${wp} CPL=${cpl} ${write ? "write" : "read"} → ${faults ? "#PF" : "ok"}`;
            it(name, () => {
              const src = write ? `mov dword [${TEST_PAGE}], 0x55` : `mov eax, dword [${TEST_PAGE}]`;
              const t = paged(src, cpl);
              t.memory.write32(pte(TEST_PAGE), TEST_PAGE | PTE_P | (rw ? PTE_W : 0) | (us ? PTE_U : 0));
              t.memory.write32(TEST_PAGE, 0x1234);
              if (wp) t.cpu.cr0 = t.cpu.cr0 | CR0_WP;
              const r = t.run();
              if (faults) {
                expect(r).toBe(StopReason.Trap);
                expect(t.cpu.trap.vector).toBe(Vector.PF);
                expect(t.cpu.trap.errorCode).toBe(PF_P | (write ? PF_W : 0) | (user ? PF_U : 0));
                expect(t.cpu.cr2).toBe(TEST_PAGE);
                expect(t.cpu.eip).toBe(CODE);
                expect(t.memory.read32(TEST_PAGE)).toBe(0x1234);
              } else {
                // CPL 0 ends at hlt (idle); CPL 3 reaches hlt, which is #GP there.
                if (user) expect(t.cpu.trap.vector).toBe(Vector.GP);
                else expect(r).toBe(StopReason.Idle);
                if (write) expect(t.memory.read32(TEST_PAGE)).toBe(0x55);
                else expect(t.cpu.regs[EAX]).toBe(0x1234);
              }
            });
          }
  it("not present: error code without P; the PDE's U/S restricts too", () => {
    const t = paged(`mov dword [${TEST_PAGE}], 1`, 3);
    t.memory.write32(pte(TEST_PAGE), TEST_PAGE | PTE_W | PTE_U);
    t.run();
    expect(t.cpu.trap.errorCode).toBe(PF_W | PF_U);
    const s = paged(`mov eax, dword [${TEST_PAGE}]`, 3);
    s.memory.write32(PD, PT | PTE_P | PTE_W); // PDE supervisor-only
    // Code itself is mapped through the same PDE: the first fetch already faults.
    s.run();
    expect(s.cpu.trap.vector).toBe(Vector.PF);
    expect(s.cpu.trap.errorCode).toBe(PF_P | PF_U);
    expect(s.cpu.cr2).toBe(CODE);
  });
});

describe("x86 accessed and dirty bits", () => {
  it("a read sets A in the PDE and PTE; a write sets D in the PTE only", () => {
    const t = paged(`mov eax, dword [${TEST_PAGE}]`, 0);
    t.memory.write32(PD, PT | PTE_P | PTE_W | PTE_U);
    t.memory.write32(pte(TEST_PAGE), TEST_PAGE | PTE_P | PTE_W);
    t.run();
    expect(t.memory.read32(PD) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(t.memory.read32(pte(TEST_PAGE)) & (PTE_A | PTE_D)).toBe(PTE_A);
    const w = paged(`mov eax, dword [${TEST_PAGE}]; mov dword [${TEST_PAGE}], 1`, 0);
    w.memory.write32(pte(TEST_PAGE), TEST_PAGE | PTE_P | PTE_W);
    w.run();
    expect(w.memory.read32(pte(TEST_PAGE)) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(w.memory.read32(PD) & PTE_D).toBe(0);
  });
  it("a 4 MiB page (CR4.PSE) maps through the PDE, whose A/D bits are set", () => {
    const t = paged("mov eax, dword [0x803000]; mov dword [0x803004], 9", 0);
    t.cpu.cr4 = CR4_PSE;
    t.memory.write32(PD + 2 * 4, 0x000000 | PTE_P | PTE_W | PTE_PS);
    t.memory.write32(0x3000, 0xabcd);
    t.run();
    expect(t.cpu.regs[EAX]).toBe(0xabcd);
    expect(t.memory.read32(0x3004)).toBe(9);
    expect(t.memory.read32(PD + 8) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
  });
});

describe("x86 TLB", () => {
  it("a stale entry survives a PTE change until INVLPG; CR3 reloads flush; PGE keeps global pages", () => {
    const src = `mov eax, dword [${TEST_PAGE}]; mov dword [${pte(TEST_PAGE)}], 0x301007; mov ebx, dword [${TEST_PAGE}]; invlpg byte [${TEST_PAGE}]; mov ecx, dword [${TEST_PAGE}]`;
    const t = paged(src, 0);
    t.memory.write32(TEST_PAGE, 1);
    t.memory.write32(0x301000, 2);
    t.run();
    expect([t.cpu.regs[EAX], t.cpu.regs[3], t.cpu.regs[1]]).toEqual([1, 1, 2]);
    const g = paged(
      `mov eax, dword [${TEST_PAGE}]; mov dword [${pte(TEST_PAGE)}], 0x301007; mov edx, cr3; mov cr3, edx; mov ebx, dword [${TEST_PAGE}]`,
      0,
    );
    g.memory.write32(TEST_PAGE, 1);
    g.memory.write32(0x301000, 2);
    g.run();
    expect(g.cpu.regs[3]).toBe(2);
    const k = paged(
      `mov eax, dword [${TEST_PAGE}]; mov dword [${pte(TEST_PAGE)}], 0x301007; mov edx, cr3; mov cr3, edx; mov ebx, dword [${TEST_PAGE}]`,
      0,
    );
    k.cpu.cr4 = CR4_PGE;
    k.memory.write32(pte(TEST_PAGE), TEST_PAGE | PTE_P | PTE_W | PTE_G);
    k.memory.write32(TEST_PAGE, 1);
    k.memory.write32(0x301000, 2);
    k.run();
    expect(k.cpu.regs[3]).toBe(1);
  });
});

describe("x86 page-fault restart", () => {
  it("a read-modify-write that faults leaves memory and registers unchanged and completes after mapping", () => {
    const src = "mov eax, 5; add dword [0x205000], eax; mov ebx, 1";
    const t = paged(src, 0);
    t.memory.write32(pte(0x205000), 0x205000 | PTE_W); // not present
    t.memory.write32(0x205000, 10);
    expect(t.run()).toBe(StopReason.Trap);
    expect(t.cpu.trap.errorCode).toBe(PF_W);
    expect(t.cpu.cr2).toBe(0x205000);
    expect(t.cpu.eip).toBe(CODE + 5);
    const flagsBefore = t.cpu.getEflags();
    t.memory.write32(pte(0x205000), 0x205000 | PTE_W | PTE_P);
    expect(t.run()).toBe(StopReason.Idle);
    expect(t.memory.read32(0x205000)).toBe(15);
    expect(t.cpu.regs[3]).toBe(1);
    expect(flagsBefore).not.toBe(t.cpu.getEflags());
  });
  it("a PUSH that faults on a not-present stack page keeps ESP; a write to a read-only page is W=1 even for RMW", () => {
    const t = paged("push 1", 3);
    t.cpu.regs[ESP] = 0x206004;
    t.memory.write32(pte(0x206000), 0x206000 | PTE_U | PTE_W);
    t.run();
    expect(t.cpu.trap.errorCode).toBe(PF_W | PF_U);
    expect(t.cpu.regs[ESP]).toBe(0x206004);
    const r = paged("inc dword [0x207000]", 3);
    r.memory.write32(pte(0x207000), 0x207000 | PTE_U | PTE_P);
    r.run();
    expect(r.cpu.trap.errorCode).toBe(PF_P | PF_W | PF_U);
  });
  it("a string copy crossing into an unmapped page faults after the completed iterations", () => {
    const t = paged("mov esi, 0x3000; mov edi, 0x208ff8; mov ecx, 4; cld; rep movsd", 0);
    t.memory.write32(pte(0x209000), 0x209000 | PTE_W);
    t.run();
    expect(t.cpu.trap.vector).toBe(Vector.PF);
    expect(t.cpu.regs[1]).toBe(2);
    expect(t.cpu.regs[7]).toBe(0x209000);
    expect(t.cpu.cr2).toBe(0x209000);
  });
  it("without a monitor, #PF is delivered through the IDT with its error code on the stack", () => {
    const t = paged("mov dword [0x205000], 1", 3, false);
    t.memory.write32(pte(0x205000), 0x205000 | PTE_U | PTE_P); // present, read-only
    t.run();
    expect(t.cpu.eip).toBe(HANDLERS + 16 * 14 + 1);
    expect(t.memory.read32(t.cpu.regs[ESP]!)).toBe(PF_P | PF_W | PF_U);
    expect(t.memory.read32(t.cpu.regs[ESP]! + 4)).toBe(CODE);
    expect(t.cpu.cr2).toBe(0x205000);
  });
});
