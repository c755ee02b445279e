/**
 * Each mechanism of the x86 monitor, checked against the same code run natively: sensitive
 * instructions behave as on bare hardware at the guest's virtual CPL 0, POPF's IF behaviour,
 * SGDT in ring 0, self-modifying and self-examining code, page-table writes, A/D bits, a guest
 * mapping inside the monitor hole, and what ring-3 SGDT sees (the monitor's GDT, as under VMware).
 */
import { describe, expect, it } from "vitest";
import { vmware } from "../../../src/full-virt/index.js";
import { x86 } from "../../../src/machine/index.js";
import { CODE, exit, le32, runFull, runNative } from "./raw.js";

const EAX = 0;
const ECX = 1;
const EBX = 3;
const ESI = 6;
const EDI = 7;

describe("sensitive instructions at virtual CPL 0 (patched with INT3, emulated)", () => {
  it("PUSHF/POPF: IF as the guest set it; POPF restores IF; IOPL reads 0", () => {
    const code = [
      0xb0,
      0xff,
      0xe6,
      0x21,
      0xe6,
      0xa1, // mask both 8259As: no timer interrupt during the snippet
      0xfb, // sti
      0x9c,
      0x58, // pushf; pop eax
      0xfa, // cli
      0x9c,
      0x5b, // pushf; pop ebx
      0x50,
      0x9d, // push eax; popf  (IF back to 1)
      0x9c,
      0x59, // pushf; pop ecx
      0x6a,
      0x00,
      0x9d, // push 0; popf  (IF to 0)
      0x9c,
      0x5e, // pushf; pop esi
      0xb0,
      0x00,
      ...exit(),
    ];
    const n = runNative(code);
    const f = runFull(code);
    expect(f.d.crash).toBeNull();
    expect(f.exit).toBe(0);
    for (const r of [EAX, EBX, ECX, ESI]) expect(f.regs[r]! & ~0xff).toBe(n.regs[r]! & ~0xff);
    expect(n.regs[EAX]! & 0x3200).toBe(0x200);
    expect(n.regs[EBX]! & 0x200).toBe(0);
    expect(n.regs[ECX]! & 0x200).toBe(0x200);
    expect(n.regs[ESI]! & 0x200).toBe(0);
    expect(f.d.vcpu.vIF).toBe(false);
    expect(f.d.vcpu.stats.breakpointHits.get("pushfw|pushf")).toBe(4);
    expect(f.d.vcpu.stats.breakpointHits.get("popfw|popf")).toBe(2);
    expect(f.d.vcpu.stats.privileged.get("sti")).toBe(1);
    expect(f.d.vcpu.stats.ioEmulations).toBe(3);
  });

  it("unpatched (scan off), PUSHF in ring 1 leaks the real IF — why scanning is needed", () => {
    const code = [0xfa, 0x9c, 0x58, 0xb0, 0x00, ...exit()];
    const n = runNative(code);
    const f = runFull(code, [], { scan: false });
    expect(n.regs[EAX]! & 0x200).toBe(0);
    expect(f.regs[EAX]! & 0x200).toBe(0x200);
  });

  it("SGDT, SIDT, SMSW, STR, SLDT in ring 0 see the guest's own tables", () => {
    const code = [
      0x0f,
      0x01,
      0x05,
      ...le32(0x3000), // sgdt [0x3000]
      0x0f,
      0x01,
      0x0d,
      ...le32(0x3008), // sidt [0x3008]
      0x0f,
      0x01,
      0xe0, // smsw eax
      0x0f,
      0x00,
      0xcb, // str ebx
      0x0f,
      0x00,
      0xc1, // sldt ecx
      0xb0,
      0x00,
      ...exit(),
    ];
    const n = runNative(code);
    const f = runFull(code);
    expect(f.d.crash).toBeNull();
    expect(f.peek(0x3000, 14)).toEqual(n.peek(0x3000, 14));
    expect(f.peek(0x3002, 4)).toEqual(le32(0x8000));
    expect(f.regs[EAX]! & 0xffff).toBe(n.regs[EAX]! & 0xffff);
    expect(f.regs[EBX]! & 0xffff).toBe(n.regs[EBX]! & 0xffff);
    expect(f.regs[ECX]! & 0xffff).toBe(n.regs[ECX]! & 0xffff);
  });

  it("PUSH CS, PUSH SS, MOV r/m, Sreg show RPL 0 (the CPU holds RPL 1)", () => {
    const code = [
      0x0e,
      0x5e, // push cs; pop esi
      0x16,
      0x5b, // push ss; pop ebx
      0x8c,
      0xc9, // mov ecx, cs
      0x8c,
      0xd7, // mov edi, ss
      0x8c,
      0x1d,
      ...le32(0x3000), // mov [0x3000], ds
      0xb0,
      0x00,
      ...exit(),
    ];
    const n = runNative(code);
    const f = runFull(code);
    expect(f.d.crash).toBeNull();
    for (const r of [ESI, EBX, ECX, EDI]) expect(f.regs[r]! & 0xffff).toBe(n.regs[r]! & 0xffff);
    expect(f.regs[ESI]! & 0xffff).toBe(0x08);
    expect(f.regs[EDI]! & 0xffff).toBe(0x10);
    expect(f.peek(0x3000, 2)).toEqual(n.peek(0x3000, 2));
    expect(f.m.machine.cpu.segSel[1]! & 3).toBe(1); // really ring 1
  });

  it("LAR, LSL, VERR, VERW see the guest's descriptors (DPL 0, not the compressed 1)", () => {
    const code = [
      0x66,
      0xb9,
      0x08,
      0x00, // mov cx, 0x08
      0x0f,
      0x02,
      0xc1, // lar eax, ecx
      0x0f,
      0x03,
      0xd9, // lsl ebx, ecx
      0x66,
      0xb9,
      0x10,
      0x00, // mov cx, 0x10
      0x0f,
      0x00,
      0xe9, // verw cx
      0x9c,
      0x5e, // pushf; pop esi
      0x66,
      0xb9,
      0x08,
      0x00,
      0x0f,
      0x00,
      0xe9, // verw on code: ZF = 0
      0x9c,
      0x5f, // pushf; pop edi
      0xb0,
      0x00,
      ...exit(),
    ];
    const n = runNative(code);
    const f = runFull(code);
    expect(f.d.crash).toBeNull();
    expect(f.regs[EAX]).toBe(n.regs[EAX]);
    expect((f.regs[EAX]! >>> 13) & 3).toBe(0);
    expect(f.regs[EBX]).toBe(n.regs[EBX]);
    expect(f.regs[ESI]! & 0x40).toBe(n.regs[ESI]! & 0x40);
    expect(f.regs[EDI]! & 0x40).toBe(n.regs[EDI]! & 0x40);
    expect(n.regs[ESI]! & 0x40).toBe(0x40);
    expect(n.regs[EDI]! & 0x40).toBe(0);
  });

  it("a far JMP reloads CS through the shadow GDT", () => {
    const target = CODE + 7;
    const code = [0xea, ...le32(target), 0x08, 0x00, 0x8c, 0xce, 0xb0, 0x00, ...exit()];
    const n = runNative(code);
    const f = runFull(code);
    expect(f.d.crash).toBeNull();
    expect(f.regs[ESI]! & 0xffff).toBe(0x08);
    expect(f.regs[ESI]! & 0xffff).toBe(n.regs[ESI]! & 0xffff);
    expect(f.d.vcpu.stats.breakpointHits.get("jmp")).toBe(1);
  });
});

describe("the guest's LDT", () => {
  it("is shadowed (DPL 0 → 1) and write-tracked: an LDT data segment reads the right frame before and after the guest edits its base", () => {
    const desc = x86.makeDescriptor(0x5000, 0xfff, x86.ATTR_P | x86.ATTR_S | x86.ATTR_RW);
    const code = [
      0x66,
      0xb8,
      0x30,
      0x00,
      0x0f,
      0x00,
      0xd0, // mov ax, 0x30; lldt ax
      0x66,
      0xb8,
      0x0c,
      0x00,
      0x8e,
      0xd8, // mov ax, 0x0c; mov ds, ax (LDT entry 1)
      0x8b,
      0x1d,
      ...le32(0), // mov ebx, [0]
      0x66,
      0xb8,
      0x10,
      0x00,
      0x8e,
      0xd8, // mov ax, 0x10; mov ds, ax
      0xc6,
      0x05,
      ...le32(0xb00b),
      0x60, // base 0x5000 → 0x6000 in the guest's LDT
      0x66,
      0xb8,
      0x0c,
      0x00,
      0x8e,
      0xd8,
      0x8b,
      0x0d,
      ...le32(0), // reload DS; mov ecx, [0]
      0x66,
      0xb8,
      0x10,
      0x00,
      0x8e,
      0xd8, // flat DS again
      0x0f,
      0x00,
      0xc6, // sldt esi
      0xb0,
      0x00,
      ...exit(),
    ];
    const extra: [number, number[]][] = [
      [0xb008, [...le32(desc[0]), ...le32(desc[1])]],
      [0x5000, le32(0x11111111)],
      [0x6000, le32(0x22222222)],
    ];
    const n = runNative(code, extra);
    const f = runFull(code, extra);
    expect(f.d.crash).toBeNull();
    expect(n.regs[EBX]).toBe(0x11111111);
    expect(n.regs[ECX]).toBe(0x22222222);
    expect(f.regs[EBX]).toBe(0x11111111);
    expect(f.regs[ECX]).toBe(0x22222222);
    expect(f.regs[ESI]! & 0xffff).toBe(0x30);
    expect(n.regs[ESI]! & 0xffff).toBe(0x30);
    expect((f.d.vcpu.ldt.realHi[1]! >>> 13) & 3).toBe(1);
    expect(f.d.vcpu.stats.gdtWrites).toBeGreaterThanOrEqual(1);
    expect(f.d.vcpu.stats.privileged.get("lldt")).toBe(1);
  });
});

describe("self-modifying and self-examining code", () => {
  it("a write to scanned code invalidates the copy and the new code is re-scanned (a new PUSHF is emulated)", () => {
    // cli; mov byte [patch], 0x9c (pushf); jmp patch; patch: nop; pop eax ... (nop replaced by pushf)
    // Layout: 0: cli (1) 1: mov byte [abs], imm8 (C6 05 addr imm = 7) 8: jmp short +0 (EB 00) 10: patch (nop) 11: ...
    const patchAt = CODE + 10;
    const code = [
      0xfa,
      0xc6,
      0x05,
      ...le32(patchAt),
      0x9c,
      0xeb,
      0x00,
      0x90, // becomes pushf
      0x50, // push eax (so pop eax balances when nop stays)
      0x58, // pop eax
      0xb0,
      0x00,
      ...exit(),
    ];
    const n = runNative(code);
    const f = runFull(code);
    expect(f.d.crash).toBeNull();
    expect(f.regs[EAX]).toBe(n.regs[EAX]);
    expect(f.regs[EAX]! & 0x200).toBe(0); // the guest's IF, not the real one
    expect(f.d.vcpu.stats.codeInvalidations).toBeGreaterThanOrEqual(1);
    expect(f.d.vcpu.stats.breakpointHits.get("pushfw|pushf")).toBe(1);
  });

  it("a store to bytes the scan never copied leaves the copy alone; code later written there still runs new", () => {
    // mov ecx, CODE+0x800; mov dword [CODE+0x800], (mov al, 7; ret); call ecx (indirect: not
    // followed at scan time); mov bl, al; mov al, 0; exit. The store lands in the scanned page but
    // on bytes the scan never reached (still INT3 in the copy): no invalidation, and the call's
    // arrival there traps and scans the new original.
    const target = CODE + 0x800;
    const code = [
      0xb9,
      ...le32(target),
      0xc7,
      0x05,
      ...le32(target),
      ...le32(0x00c307b0),
      0xff,
      0xd1,
      0x88,
      0xc3,
      0xb0,
      0x00,
      ...exit(),
      0xeb, // jmp $: ends the scan here (it would otherwise run on through the zero bytes)
      0xfe,
    ];
    const n = runNative(code);
    const f = runFull(code);
    expect(f.d.crash).toBeNull();
    expect(n.regs[EBX]! & 0xff).toBe(7);
    expect(f.regs[EBX]! & 0xff).toBe(7);
    expect(f.d.vcpu.stats.codeInvalidations).toBe(0);
  });

  it("the guest reads its own code unpatched (data accesses reach the original frame)", () => {
    // pushf at `probe` is patched in the copy; mov al, [probe] must read 0x9C, not 0xCC.
    const probe = CODE + 0;
    const code = [
      0x9c,
      0x58,
      0xa0,
      ...le32(probe),
      0x8a,
      0x1d,
      ...le32(probe),
      0xb0,
      0x00,
      0x88,
      0xd8,
      0x34,
      0x9c,
      ...exit(),
    ];
    const f = runFull(code);
    expect(f.d.crash).toBeNull();
    expect(f.regs[EBX]! & 0xff).toBe(0x9c);
    expect(f.exit).toBe(0); // al = bl ^ 0x9c = 0
    expect(f.d.vcpu.stats.patches).toBeGreaterThanOrEqual(1);
    // The copy really holds INT3 where the original holds PUSHF.
    const copy = [...f.d.vcpu.scanner.copies.values()][0]!;
    expect(f.m.memory.u8[copy.mfn * 4096 + (probe & 0xfff)]).toBe(0xcc);
  });
});

/** Paging setup: PD at 0x10000 maps 0-4 MiB through PT0 (0x11000), 8 MiB through PT2 (0x12000), 0xFFC00000 through PT1023 (0x13000). */
function pagingImage(): [number, number[]][] {
  const pd = new Array(4096).fill(0);
  const put = (arr: number[], i: number, v: number) => arr.splice(i * 4, 4, ...le32(v));
  put(pd, 0, 0x11000 | 7);
  put(pd, 2, 0x12000 | 7);
  put(pd, 1023, 0x13000 | 7);
  const pt0 = new Array(4096).fill(0);
  for (let i = 0; i < 1024; i++) put(pt0, i, (i << 12) | 3);
  return [
    [0x10000, pd],
    [0x11000, pt0],
    [0x5000, le32(0x11111111)],
    [0x6000, le32(0x22222222)],
    [0x7000, [...le32(0x33333333), ...le32(0)]],
  ];
}
const enablePaging = [
  0xb8,
  ...le32(0x10000),
  0x0f,
  0x22,
  0xd8, // mov eax, 0x10000; mov cr3, eax
  0x0f,
  0x20,
  0xc0,
  0x0d,
  ...le32(0x80000000),
  0x0f,
  0x22,
  0xc0, // mov eax, cr0; or eax, PG; mov cr0, eax
];

describe("shadow page tables", () => {
  const code = [
    ...enablePaging,
    0xc7,
    0x05,
    ...le32(0x12000),
    ...le32(0x5003), // mov dword [PT2+0], 0x5003 (map 8 MiB → 0x5000)
    0xa1,
    ...le32(0x800000),
    0x89,
    0xc3, // mov eax, [0x800000]; mov ebx, eax
    0xc7,
    0x05,
    ...le32(0x12000),
    ...le32(0x6003), // remap to 0x6000
    0x0f,
    0x01,
    0x3d,
    ...le32(0x800000), // invlpg [0x800000]
    0xa1,
    ...le32(0x800000),
    0x89,
    0xc1, // mov eax, [0x800000]; mov ecx, eax
    0xc7,
    0x05,
    ...le32(0x800004),
    ...le32(0x44), // write through the mapping: D bit
    0xa1,
    ...le32(0xffc01000),
    0x89,
    0xc7, // mov eax, [0xFFC01000]; mov edi, eax (a guest mapping inside the hole)
    0x89,
    0x1d,
    ...le32(0xffc01004), // mov [0xFFC01004], ebx
    0xb0,
    0x00,
    ...exit(),
  ];
  const extra = (): [number, number[]][] => {
    const img = pagingImage();
    const pt1023 = new Array(4096).fill(0);
    pt1023.splice(4, 4, ...le32(0x7000 | 3)); // 0xFFC01000 → 0x7000
    img.push([0x13000, pt1023]);
    return img;
  };

  it("a guest write to its page table updates the shadow; INVLPG and remaps read the right frames", () => {
    const n = runNative(code, extra());
    const f = runFull(code, extra());
    expect(f.d.crash).toBeNull();
    expect(f.exit).toBe(0);
    expect(f.regs[EBX]).toBe(0x11111111);
    expect(f.regs[ECX]).toBe(0x22222222);
    expect(n.regs[EBX]).toBe(0x11111111);
    expect(n.regs[ECX]).toBe(0x22222222);
    const s = f.d.vcpu.stats;
    expect(s.trackedPtWrites).toBeGreaterThanOrEqual(1);
    expect(s.hiddenPageFaults).toBeGreaterThan(0);
    expect(s.shadowBuilds).toBe(2); // paging off (identity), then the guest's CR3
  });

  it("Accessed and Dirty bits propagate back to the guest's PTEs exactly as natively", () => {
    const n = runNative(code, extra());
    const f = runFull(code, extra());
    expect(f.peek(0x12000, 4)).toEqual(n.peek(0x12000, 4));
    expect(f.peek(0x12000, 4)).toEqual(le32(0x6003 | 0x20 | 0x40));
    expect(f.peek(0x10000 + 8, 4)).toEqual(n.peek(0x10000 + 8, 4)); // PDE Accessed
    expect(f.peek(0x13004, 4)).toEqual(n.peek(0x13004, 4));
  });

  it("a guest mapping inside the monitor hole is emulated (reads and writes reach the guest's frame)", () => {
    const n = runNative(code, extra());
    const f = runFull(code, extra());
    expect(f.regs[EDI]).toBe(0x33333333);
    expect(n.regs[EDI]).toBe(0x33333333);
    expect(f.peek(0x7004, 4)).toEqual(le32(0x11111111));
    expect(n.peek(0x7004, 4)).toEqual(le32(0x11111111));
    expect(f.d.vcpu.stats.holeEmulations).toBe(2);
  });

  it("the monitor's tables in the hole are read-only for the guest and absent for ring 3", () => {
    const f = runFull(code, extra());
    const sp = f.d.vcpu.shadow.current!;
    const pte = f.m.memory.read32(sp.hole * 4096 + vmware.holeIndex(vmware.HOLE_GDT) * 4);
    expect(pte & 1).toBe(1);
    expect(pte & 2).toBe(0); // read-only
    expect(pte & 4).toBe(0); // supervisor
    expect(pte & 0x20).toBe(0x20); // Accessed preset
    // GDT descriptors in the hole: DPL 0 compressed to 1, Accessed preset.
    const hi = f.d.vcpu.gdt.realHi[2]!;
    expect((hi >>> 13) & 3).toBe(1);
    expect(hi & 0x100).toBe(0x100);
  });
});
