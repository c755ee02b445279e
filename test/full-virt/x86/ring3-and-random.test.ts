/**
 * Ring 3 under the monitor, and random code.
 *
 * - Ring-3 code is not scanned (as under VMware): a user-mode SGDT runs natively and sees the
 *   monitor's GDT in the hole (base 0xFFF00000), where bare hardware shows the guest's own —
 *   the documented, deliberate difference (Robin & Irvine's point about SGDT in user mode).
 * - fast-check: random instruction streams in a fully virtualized guest's ring 0 never raise a
 *   host exception and never touch a machine frame the domain does not own (ownership oracle on
 *   every CPU access, with a second domain's frames in the machine).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { vmware } from "../../../src/full-virt/index.js";
import { x86 } from "../../../src/machine/index.js";
import { CODE, exit, IDT, le32, runFull, runNative, setupFull } from "./raw.js";

describe("ring 3 is not scanned", () => {
  const user = CODE + 0x40;
  const handler = CODE + 0x20;
  const code = new Array(0x60).fill(0x90);
  // mov ax, 0x28; ltr ax; then an IRET frame to ring 3 (SS 0x23, ESP 0x30000, EFLAGS 2, CS 0x1B, EIP user)
  code.splice(
    0,
    24,
    0x66,
    0xb8,
    0x28,
    0x00,
    0x0f,
    0x00,
    0xd8,
    0x6a,
    0x23,
    0x68,
    ...le32(0x30000),
    0x6a,
    0x02,
    0x6a,
    0x1b,
    0x68,
    ...le32(user),
    0xcf,
  );
  code.splice(0x20, 7, 0xb0, 0x00, ...exit());
  // user: push 0x23; pop ds; sgdt [0x3000]; int 0x80
  code.splice(0x40, 12, 0x6a, 0x23, 0x1f, 0x0f, 0x01, 0x05, ...le32(0x3000), 0xcd, 0x80);
  const gate = x86.makeGate(0x08, handler, x86.SysType.IntGate32, 3);
  const extra: [number, number[]][] = [[IDT + 0x80 * 8, [...le32(gate[0]), ...le32(gate[1])]]];

  it("user-mode SGDT sees the monitor's GDT; INT 0x80 is reflected with the TSS stack switch", () => {
    const n = runNative(code, extra);
    const f = runFull(code, extra);
    expect(n.exit).toBe(0);
    expect(f.d.crash).toBeNull();
    expect(f.exit).toBe(0);
    expect(n.peek(0x3002, 4)).toEqual(le32(0x8000));
    expect(f.peek(0x3002, 4)).toEqual(le32(vmware.HOLE_GDT));
    expect(f.d.vcpu.stats.reflectedByVector[0x80]).toBe(1);
    // The ring-0 frame on the TSS stack: EIP after INT, CS 0x1B, EFLAGS, ESP 0x30000, SS 0x23 — as natively.
    expect(f.peek(0x20000 - 20, 20)).toEqual(n.peek(0x20000 - 20, 20));
  });
});

describe("random ring-0 code under the monitor (fast-check)", () => {
  it("never throws on the host and never touches another domain's frames", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 48 }), (bytes) => {
        const { m, d } = setupFull([...bytes, 0xb0, 0x00, ...exit()], [], { machineMib: 40 });
        const other = m.addDomain({ ramMib: 1 });
        other.vcpu.writePhysical(0, Uint8Array.of(1, 2, 3));
        m.machine.switchTo(d.vcpu);
        let foreign = 0;
        let calls = 0;
        m.memory.oracle = (paddr) => {
          calls++;
          const cur = m.machine.current === d.vcpu ? d.domid : other.domid;
          if (m.allocator.owner(paddr >>> 12) !== cur) foreign++;
        };
        d.vcpu.run(40_000);
        m.memory.oracle = null;
        expect(foreign).toBe(0);
        expect(calls).toBeGreaterThan(0);
        // The domain either still runs, exited, or crashed with a diagnostic — nothing else.
        expect(["running", "blocked", "halted"]).toContain(d.vcpu.state);
        if (d.vcpu.state === "halted") expect(d.exit !== null || d.crash !== null).toBe(true);
      }),
      { numRuns: 60, seed: 0x5eed },
    );
  }, 60_000);
});
