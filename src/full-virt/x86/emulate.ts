/**
 * Instruction emulation for the x86 monitor, against the vCPU's virtual system state:
 *
 * - `emulateGp`: a #GP in ring 1 (the guest's ring 0) or ring 3. Privileged instructions (class
 *   `privileged` in the opcode table: MOV CRn/DRn, LGDT, LIDT, LLDT, LTR, LMSW, CLTS, INVLPG,
 *   HLT, INVD, WBINVD), IOPL-sensitive ones (CLI, STI, IN, OUT, INS, OUTS — IOPL is 0 for the
 *   guest, so they always fault; the guest's virtual IOPL decides), segment loads of ring-0
 *   selectors (RPL 0 ≠ CPL 1 for SS), and IRET/RETF back to ring 0. Anything else is the
 *   guest's own #GP and is reflected. Also the emulated access to a guest mapping in the hole.
 * - `emulatePatched`: a sensitive instruction scan_for_nonvirtualizable replaced with INT3,
 *   emulated as bare hardware would run it at the guest's virtual CPL 0.
 *
 * Faults found while emulating are recorded on the vCPU (`raise`) and reflected by the caller,
 * with EIP still at the instruction (nothing committed before the last access succeeds, except
 * where the SDM itself commits in steps).
 */
import { x86 } from "../../machine/index.js";
import { CODE_WINDOW_BYTES, HOLE_BASE } from "./layout.js";
import type { X86FullVcpu } from "./vcpu.js";

type DecodedInstruction = x86.DecodedInstruction;
const { CS, SS, DS, ES, FS, GS, EAX, ECX, EDX, ESI, EDI, ESP } = x86;
const ZF = 0x40;
const OF = 0x800;
const NT = 0x4000;
const RF = 0x10000;
const VM = 0x20000;
const DF = 0x400;

/** A fault recorded during emulation. */
export interface Fault {
  pending: boolean;
  vector: number;
  code: number;
  lin: number;
}

function effectiveAddress(v: X86FullVcpu, d: DecodedInstruction): number {
  const m = d.modrm!;
  const r = v.machine.cpu.regs;
  let off = m.disp;
  if (m.base >= 0) off += r[m.base]!;
  if (m.index >= 0) off += r[m.index]! << m.scale;
  off = d.addressSize === 4 ? off >>> 0 : off & 0xffff;
  const seg = d.segmentOverride >= 0 ? d.segmentOverride : m.defaultSeg;
  return (v.segBase(seg) + off) >>> 0;
}

function getReg(v: X86FullVcpu, r: number, size: number): number {
  const regs = v.machine.cpu.regs;
  if (size === 4) return regs[r]! >>> 0;
  if (size === 2) return regs[r]! & 0xffff;
  return r < 4 ? regs[r]! & 0xff : (regs[r - 4]! >>> 8) & 0xff;
}

function setReg(v: X86FullVcpu, r: number, size: number, val: number): void {
  const regs = v.machine.cpu.regs;
  if (size === 4) regs[r] = val | 0;
  else if (size === 2) regs[r] = (regs[r]! & ~0xffff) | (val & 0xffff);
  else if (r < 4) regs[r] = (regs[r]! & ~0xff) | (val & 0xff);
  else regs[r - 4] = (regs[r - 4]! & ~0xff00) | ((val & 0xff) << 8);
}

/** Reads the r/m operand (register or memory) of `size` bytes. */
function readRm(v: X86FullVcpu, d: DecodedInstruction, size: number): number {
  const m = d.modrm!;
  if (m.mod === 3) return getReg(v, m.rm, size);
  return v.read(effectiveAddress(v, d), size);
}

function writeRm(v: X86FullVcpu, d: DecodedInstruction, size: number, val: number): boolean {
  const m = d.modrm!;
  if (m.mod === 3) {
    setReg(v, m.rm, size, val);
    return true;
  }
  return v.write(effectiveAddress(v, d), size, val);
}

function pop(v: X86FullVcpu, size: number, index: number): number {
  const cpu = v.machine.cpu;
  return v.read((v.segBase(SS) + ((cpu.regs[ESP]! + index) >>> 0)) >>> 0, size);
}

function setZf(v: X86FullVcpu, on: boolean): void {
  const cpu = v.machine.cpu;
  cpu.setEflags((cpu.getEflags() & ~ZF) | (on ? ZF : 0));
}

function count(v: X86FullVcpu, d: DecodedInstruction): void {
  v.stats.count(v.stats.privileged, d.entry!.mnemonic);
}

function charge(v: X86FullVcpu, name: "emulatePrivileged" | "emulateDeviceRegister"): void {
  const c = v.machine.costs[name];
  v.machine.clock.cycles += c;
  v.host.stats.monitorCycles += c;
}

/** Handles a #GP (or an access into a guest mapping in the hole, `hole`) at the vCPU's EIP. */
export function emulateGp(v: X86FullVcpu, err: number, hole = false): void {
  const cpu = v.machine.cpu;
  const eip = cpu.eip >>> 0;
  const cpl = v.vCpl;
  if (
    cpl === 0 &&
    v.scanEnabled &&
    v.segBase(CS) === 0 &&
    cpu.segBase[CS]! !== 0 &&
    eip >= CODE_WINDOW_BYTES
  ) {
    v.crash(
      `ring-0 guest code at ${eip.toString(16)} lies above the ${CODE_WINDOW_BYTES >>> 20} MiB code window (run without scanning)`,
    );
    return;
  }
  const d = x86.decodeInstruction(v.fetchInstruction(eip), true);
  if (d.length === 0 || d.entry === undefined) {
    v.raise(13, err);
    return;
  }
  if (hole) {
    emulateMove(v, d);
    if (!v.fault.pending) cpu.eip = (eip + d.length) >>> 0;
    return;
  }
  const op = d.opcode;
  const reg = d.modrm?.reg ?? 0;
  const os = d.operandSize;
  const next = (eip + d.length) >>> 0;
  if (cpl !== 0 && d.vclass !== "privileged" && d.vclass !== "iopl") {
    // Ring 3: the guest's own #GP, unless it touched the hole through a truncated segment.
    if (inHoleOperand(v, d)) {
      v.stats.holeEmulations++;
      emulateMove(v, d);
      if (!v.fault.pending) cpu.eip = next;
    } else v.raise(13, err);
    return;
  }
  if (d.vclass === "privileged" && cpl !== 0) {
    v.raise(13, 0);
    return;
  }
  switch (op) {
    case 0xf4: // HLT
      cpu.eip = next;
      cpu.halted = true;
      break;
    case 0xfa:
    case 0xfb: // CLI / STI
      if (cpl > v.vIOPL) {
        v.raise(13, 0);
        return;
      }
      if (op === 0xfb && !v.vIF) v.intShadow = true;
      v.vIF = op === 0xfb;
      v.updateIntr();
      cpu.eip = next;
      break;
    case 0xe4:
    case 0xe5:
    case 0xe6:
    case 0xe7:
    case 0xec:
    case 0xed:
    case 0xee:
    case 0xef:
    case 0x6c:
    case 0x6d:
    case 0x6e:
    case 0x6f:
      if (cpl > v.vIOPL) {
        v.raise(13, 0);
        return;
      }
      emulateIo(v, d);
      v.stats.ioEmulations++;
      charge(v, "emulateDeviceRegister");
      if (!v.fault.pending) cpu.eip = next;
      return;
    case 0x120: {
      // MOV r32, CRn
      const val = reg === 0 ? v.vCr0 : reg === 2 ? v.vCr2 : reg === 3 ? v.vCr3 : reg === 4 ? v.vCr4 : -1;
      if (val === -1) {
        v.raise(6, 0);
        return;
      }
      cpu.regs[d.modrm!.rm] = val | 0;
      cpu.eip = next;
      break;
    }
    case 0x122: {
      const val = cpu.regs[d.modrm!.rm]! >>> 0;
      if (!writeCr(v, reg, val)) return;
      cpu.eip = next;
      break;
    }
    case 0x121:
      cpu.regs[d.modrm!.rm] = v.vDr[reg]!;
      cpu.eip = next;
      break;
    case 0x123:
      v.vDr[reg] = cpu.regs[d.modrm!.rm]!;
      cpu.eip = next;
      break;
    case 0x106: // CLTS
      v.vCr0 &= ~x86.CR0_TS;
      cpu.eip = next;
      break;
    case 0x108:
    case 0x109: // INVD, WBINVD: no caches to flush
      cpu.eip = next;
      break;
    case 0x101:
      if (!group7(v, d, reg)) return;
      cpu.eip = next;
      break;
    case 0x100:
      if (!group6(v, d, reg)) return;
      cpu.eip = next;
      break;
    case 0x8e: {
      // MOV Sreg, r/m16 (a ring-0 selector into SS faults at CPL 1)
      const sel = readRm(v, d, 2);
      if (v.fault.pending || !v.loadSeg(reg, sel, cpl)) return;
      if (reg === SS) holdInterrupts(v);
      cpu.eip = next;
      break;
    }
    case 0x07:
    case 0x17:
    case 0x1f:
    case 0x1a1:
    case 0x1a9: {
      const seg = op === 0x07 ? ES : op === 0x17 ? SS : op === 0x1f ? DS : op === 0x1a1 ? FS : GS;
      const sel = pop(v, os, 0) & 0xffff;
      if (v.fault.pending || !v.loadSeg(seg, sel, cpl)) return;
      if (seg === SS) holdInterrupts(v);
      cpu.regs[ESP] = (cpu.regs[ESP]! + os) | 0;
      cpu.eip = next;
      break;
    }
    case 0x1b2:
    case 0xc4:
    case 0xc5:
    case 0x1b4:
    case 0x1b5: {
      const seg = op === 0x1b2 ? SS : op === 0xc4 ? ES : op === 0xc5 ? DS : op === 0x1b4 ? FS : GS;
      const a = effectiveAddress(v, d);
      const off = v.read(a, os);
      const sel = v.read(a + os, 2);
      if (v.fault.pending || !v.loadSeg(seg, sel, cpl)) return;
      setReg(v, reg, os, off);
      cpu.eip = next;
      break;
    }
    case 0xcf:
    case 0xca:
    case 0xcb:
      // IRET / RETF to a ring-0 selector (RPL 0 < CPL 1) faults: emulate it.
      if (cpl !== 0) {
        v.raise(13, err);
        return;
      }
      v.stats.count(v.stats.privileged, d.entry.mnemonic);
      if (op === 0xcf) emulateIret(v, os);
      else emulateRetf(v, os, op === 0xca ? d.immediates[0]! : 0);
      charge(v, "emulatePrivileged");
      return;
    default:
      if (inHoleOperand(v, d)) {
        v.stats.holeEmulations++;
        emulateMove(v, d);
        if (!v.fault.pending) cpu.eip = next;
        return;
      }
      v.raise(13, err);
      return;
  }
  count(v, d);
  charge(v, "emulatePrivileged");
}

/** True if the instruction's memory operand lies in the monitor hole (a truncated data segment's #GP). */
function inHoleOperand(v: X86FullVcpu, d: DecodedInstruction): boolean {
  const op = d.opcode;
  if (op >= 0xa0 && op <= 0xa3) {
    const seg = d.segmentOverride >= 0 ? d.segmentOverride : DS;
    return (v.segBase(seg) + d.immediates[0]!) >>> 0 >= HOLE_BASE;
  }
  if (d.modrm === null || d.modrm.mod === 3) return false;
  return effectiveAddress(v, d) >= HOLE_BASE;
}

/** MOV SS / POP SS inhibit interrupts until the next instruction completes (SDM Vol. 3A §6.8.3). */
function holdInterrupts(v: X86FullVcpu): void {
  v.intShadow = true;
  v.updateIntr();
}

function writeCr(v: X86FullVcpu, n: number, val: number): boolean {
  if (n === 0) {
    const old = v.vCr0;
    v.vCr0 = ((val | x86.CR0_ET | x86.CR0_PE) & ~((1 << 29) | (1 << 30))) | 0;
    const changed = (old ^ v.vCr0) & (x86.CR0_PG | x86.CR0_WP);
    if ((changed & x86.CR0_WP) !== 0) v.pagingModeChanged();
    else if (changed !== 0) v.activateShadow();
    return true;
  }
  if (n === 2) {
    v.vCr2 = val;
    return true;
  }
  if (n === 3) {
    v.vCr3 = val;
    v.activateShadow();
    return true;
  }
  if (n === 4) {
    const old = v.vCr4;
    v.vCr4 = val & (x86.CR4_TSD | x86.CR4_PSE | x86.CR4_PGE);
    if (((old ^ v.vCr4) & x86.CR4_PSE) !== 0) v.pagingModeChanged();
    return true;
  }
  v.raise(6, 0);
  return false;
}

/** Group 7 (0F 01): LGDT, LIDT, LMSW, INVLPG trap; SGDT, SIDT, SMSW are patched (emulatePatched). */
function group7(v: X86FullVcpu, d: DecodedInstruction, reg: number): boolean {
  const cpu = v.machine.cpu;
  const m = d.modrm!;
  if (reg === 2 || reg === 3) {
    const a = effectiveAddress(v, d);
    const limit = v.read(a, 2);
    let base = v.read(a + 2, 4);
    if (v.fault.pending) return false;
    if (d.operandSize === 2) base &= 0xffffff;
    if (reg === 2) {
      v.vGdtrBase = base;
      v.vGdtrLimit = limit;
      v.gdt.load(base, limit);
      cpu.gdtrLimit = v.gdt.guestLimit;
    } else {
      v.vIdtrBase = base;
      v.vIdtrLimit = limit;
    }
    return true;
  }
  if (reg === 6) {
    const val = readRm(v, d, 2);
    if (v.fault.pending) return false;
    // LMSW loads PE, MP, EM, TS; it cannot clear PE (SDM Vol. 2 LMSW).
    v.vCr0 = (v.vCr0 & ~0xe) | (val & 0xf) | x86.CR0_PE;
    return true;
  }
  if (reg === 7 && m.mod !== 3) {
    v.shadow.invalidate(effectiveAddress(v, d));
    return true;
  }
  v.raise(13, 0);
  return false;
}

/** Group 6 (0F 00): LLDT and LTR trap; SLDT, STR, VERR, VERW are patched. */
function group6(v: X86FullVcpu, d: DecodedInstruction, reg: number): boolean {
  const sel = readRm(v, d, 2);
  if (v.fault.pending) return false;
  if (reg === 2) return v.loadLdt(sel);
  if (reg === 3) {
    const idx = sel >>> 3;
    if ((sel & 4) !== 0 || (sel & ~3) === 0 || idx * 8 + 7 > v.gdt.guestLimit)
      return v.raise(13, sel & 0xfffc);
    const lo = v.gdt.guestLo[idx]!;
    const hi = v.gdt.guestHi[idx]!;
    const type = (hi >>> 8) & 0x1f;
    if (type !== 9 && type !== 1) return v.raise(13, sel & 0xfffc);
    if ((hi & 0x8000) === 0) return v.raise(11, sel & 0xfffc);
    // LTR marks the descriptor busy in the guest's GDT, as the CPU does.
    if (!v.write(v.vGdtrBase + idx * 8 + 4, 4, hi | 0x200, false)) return false;
    v.vTr = sel;
    v.vTrBase = x86.descBase(lo, hi);
    v.vTrLimit = x86.descLimit(lo, hi);
    return true;
  }
  v.raise(13, 0);
  return false;
}

function emulateIo(v: X86FullVcpu, d: DecodedInstruction): void {
  const cpu = v.machine.cpu;
  const op = d.opcode;
  const size = (op & 1) === 0 ? 1 : d.operandSize;
  const port =
    op === 0xe4 || op === 0xe5 || op === 0xe6 || op === 0xe7 ? d.immediates[0]! : cpu.regs[EDX]! & 0xffff;
  const ports = v.ports;
  if (op >= 0xe4 && op !== 0x6c && op !== 0x6d && op !== 0x6e && op !== 0x6f) {
    const isIn = op === 0xe4 || op === 0xe5 || op === 0xec || op === 0xed;
    if (isIn) setReg(v, EAX, size, ports.read(port, size as 1 | 2 | 4));
    else ports.write(port, size as 1 | 2 | 4, getReg(v, EAX, size));
    return;
  }
  // INS / OUTS, with REP: ECX iterations.
  const rep = d.repPrefix !== 0;
  const step = (cpu.getEflags() & DF) !== 0 ? -size : size;
  let n = rep ? cpu.regs[ECX]! >>> 0 : 1;
  while (n > 0) {
    if (op === 0x6c || op === 0x6d) {
      const a = (v.segBase(ES) + (cpu.regs[EDI]! >>> 0)) >>> 0;
      if (!v.write(a, size, ports.read(port, size as 1 | 2 | 4))) return;
      cpu.regs[EDI] = (cpu.regs[EDI]! + step) | 0;
    } else {
      const seg = d.segmentOverride >= 0 ? d.segmentOverride : DS;
      const val = v.read((v.segBase(seg) + (cpu.regs[ESI]! >>> 0)) >>> 0, size);
      if (v.fault.pending) return;
      ports.write(port, size as 1 | 2 | 4, val);
      cpu.regs[ESI] = (cpu.regs[ESI]! + step) | 0;
    }
    n--;
    if (rep) cpu.regs[ECX] = n;
  }
}

/** A MOV between a register/immediate and memory inside the hole (the guest's own mapping there). */
function emulateMove(v: X86FullVcpu, d: DecodedInstruction): void {
  const op = d.opcode;
  const os = d.operandSize;
  const reg = d.modrm?.reg ?? 0;
  const user = v.vCpl === 3;
  switch (op) {
    case 0x88:
    case 0x89: {
      const size = op === 0x88 ? 1 : os;
      writeRm(v, d, size, getReg(v, reg, size));
      return;
    }
    case 0x8a:
    case 0x8b: {
      const size = op === 0x8a ? 1 : os;
      const val = readRm(v, d, size);
      if (!v.fault.pending) setReg(v, reg, size, val);
      return;
    }
    case 0xc6:
    case 0xc7: {
      const size = op === 0xc6 ? 1 : os;
      writeRm(v, d, size, d.immediates[0]!);
      return;
    }
    case 0xa0:
    case 0xa1:
    case 0xa2:
    case 0xa3: {
      const size = (op & 1) === 0 ? 1 : os;
      const seg = d.segmentOverride >= 0 ? d.segmentOverride : DS;
      const a = (v.segBase(seg) + d.immediates[0]!) >>> 0;
      if (op <= 0xa1) {
        const val = v.read(a, size, user);
        if (!v.fault.pending) setReg(v, EAX, size, val);
      } else v.write(a, size, getReg(v, EAX, size), user);
      return;
    }
    default:
      v.crash(
        `unsupported instruction ${d.entry!.mnemonic} accessing the guest's mapping in the monitor hole`,
      );
  }
}

/** IRET at guest CPL 0: same-level return or return to ring 3 (with SS:ESP). */
function emulateIret(v: X86FullVcpu, os: number): void {
  const cpu = v.machine.cpu;
  if (os !== 4) {
    v.crash("16-bit IRET is not supported by the monitor");
    return;
  }
  const neip = pop(v, 4, 0);
  const ncs = pop(v, 4, 4) & 0xffff;
  const nfl = pop(v, 4, 8);
  if (v.fault.pending) return;
  if ((nfl & NT) !== 0) {
    v.crash("IRET with NT set (task return) is not supported");
    return;
  }
  const rpl = ncs & 3;
  if (rpl === 3) {
    const nesp = pop(v, 4, 12);
    const nss = pop(v, 4, 16) & 0xffff;
    if (v.fault.pending) return;
    const saved = [cpu.getSegment(CS), cpu.getSegment(SS)];
    v.setGuestFlags(nfl & ~(RF | VM));
    if (!v.loadSeg(CS, ncs, 3) || !v.loadSeg(SS, nss, 3)) {
      cpu.setSegment(CS, saved[0]!);
      cpu.setSegment(SS, saved[1]!);
      return;
    }
    cpu.regs[ESP] = nesp | 0;
    // Data segments the outer ring may not use become null (SDM IRET: "return to outer privilege").
    for (const s of [ES, DS, FS, GS]) {
      const attr = cpu.segAttr[s]!;
      const conformingCode = (attr & 0x0c) === 0x0c;
      if ((cpu.segSel[s]! & ~3) !== 0 && !conformingCode && ((attr >>> 5) & 3) < 3)
        cpu.setSegment(s, { selector: 0, base: 0, limit: 0, attr: 0, valid: false });
    }
  } else if (rpl === 0) {
    if (!v.loadSeg(CS, ncs, 0)) return;
    v.setGuestFlags(nfl & ~(RF | VM));
    cpu.regs[ESP] = (cpu.regs[ESP]! + 12) | 0;
  } else {
    v.raise(13, ncs & 0xfffc);
    return;
  }
  cpu.eip = neip;
}

/** RETF (imm16) at guest CPL 0. */
function emulateRetf(v: X86FullVcpu, os: number, extra: number): void {
  const cpu = v.machine.cpu;
  const neip = pop(v, os, 0);
  const ncs = pop(v, os, os) & 0xffff;
  if (v.fault.pending) return;
  const rpl = ncs & 3;
  if (rpl === 3) {
    const nesp = pop(v, os, 2 * os + extra);
    const nss = pop(v, os, 3 * os + extra) & 0xffff;
    if (v.fault.pending || !v.loadSeg(CS, ncs, 3) || !v.loadSeg(SS, nss, 3)) return;
    cpu.regs[ESP] = (nesp + extra) | 0;
  } else {
    if (!v.loadSeg(CS, ncs, 0)) return;
    cpu.regs[ESP] = (cpu.regs[ESP]! + 2 * os + extra) | 0;
  }
  cpu.eip = neip;
}

/** A far JMP/CALL to a code segment at the same (guest) privilege; gates are not supported. */
function farTransfer(
  v: X86FullVcpu,
  sel: number,
  off: number,
  call: boolean,
  os: number,
  next: number,
): void {
  const cpu = v.machine.cpu;
  const idx = sel >>> 3;
  if ((sel & ~3) !== 0 && idx * 8 + 7 <= v.gdt.guestLimit && (v.gdt.guestHi[idx]! & 0x1000) === 0) {
    v.crash("far transfer through a call gate or TSS is not supported by the monitor");
    return;
  }
  const cpl = v.vCpl;
  const oldCs = v.guestSelector(cpu.segSel[CS]!);
  const saved = cpu.getSegment(CS);
  if (!v.loadSeg(CS, sel, cpl)) return;
  if (call) {
    const esp = cpu.regs[ESP]!;
    if (!v.push(oldCs, os) || !v.push(next, os)) {
      cpu.regs[ESP] = esp;
      cpu.setSegment(CS, saved);
      return;
    }
  }
  cpu.eip = os === 4 ? off >>> 0 : off & 0xffff;
}

/** Emulates the sensitive instruction at the vCPU's EIP (patched with INT3 in the code copy). */
export function emulatePatched(v: X86FullVcpu): void {
  const cpu = v.machine.cpu;
  const eip = cpu.eip >>> 0;
  const d = x86.decodeInstruction(v.fetchInstruction(eip), true);
  if (d.length === 0 || d.entry === undefined) {
    v.crash("a patched instruction no longer decodes");
    return;
  }
  const next = (eip + d.length) >>> 0;
  const os = d.operandSize;
  const op = d.opcode;
  const reg = d.modrm?.reg ?? 0;
  switch (op) {
    case 0x9c: // PUSHF: virtual IF and IOPL, RF and VM read as 0
      if (!v.push(v.guestFlags() & ~(RF | VM) & (os === 2 ? 0xffff : -1), os)) return;
      break;
    case 0x9d: {
      // POPF: at guest CPL 0 it changes IF and IOPL (virtual); RF/VM are never set by POPF.
      const val = pop(v, os, 0);
      if (v.fault.pending) return;
      cpu.regs[ESP] = (cpu.regs[ESP]! + os) | 0;
      v.setGuestFlags(val, os === 2 ? 0xffff : ~(RF | VM));
      break;
    }
    case 0x0e:
    case 0x16:
      if (!v.push(v.guestSelector(cpu.segSel[op === 0x0e ? CS : SS]!), os)) return;
      break;
    case 0x8c: {
      // MOV r/m, Sreg: a register destination takes the selector zero-extended at 32-bit size.
      const sel = v.guestSelector(cpu.segSel[reg]!);
      const size = d.modrm!.mod === 3 ? os : 2;
      if (!writeRm(v, d, size, sel)) return;
      break;
    }
    case 0x101: {
      if (reg === 0 || reg === 1) {
        const a = effectiveAddress(v, d);
        const limit = reg === 0 ? v.vGdtrLimit : v.vIdtrLimit;
        const base = reg === 0 ? v.vGdtrBase : v.vIdtrBase;
        if (!v.write(a, 2, limit) || !v.write(a + 2, 4, os === 2 ? base & 0xffffff : base)) return;
      } else if (reg === 4) {
        const size = d.modrm!.mod === 3 ? os : 2;
        if (!writeRm(v, d, size, v.vCr0)) return;
      } else {
        v.crash(`unexpected patched group-7 instruction /${reg}`);
        return;
      }
      break;
    }
    case 0x100: {
      if (reg === 0 || reg === 1) {
        const size = d.modrm!.mod === 3 ? os : 2;
        if (!writeRm(v, d, size, reg === 0 ? v.vLdtr : v.vTr)) return;
      } else if (reg === 4 || reg === 5) {
        const sel = readRm(v, d, 2);
        if (v.fault.pending) return;
        const desc = visibleDescriptor(v, sel);
        const ok =
          desc !== null &&
          (desc & 0x1000) !== 0 &&
          (reg === 4
            ? (desc & 0x800) === 0 || (desc & 0x200) !== 0
            : (desc & 0x800) === 0 && (desc & 0x200) !== 0);
        setZf(v, ok);
      } else {
        v.crash(`unexpected patched group-6 instruction /${reg}`);
        return;
      }
      break;
    }
    case 0x102:
    case 0x103: {
      const sel = readRm(v, d, 2);
      if (v.fault.pending) return;
      const hi = visibleDescriptor(v, sel);
      const type = hi === null ? 0 : (hi >>> 8) & 0x1f;
      // LAR accepts code/data and TSS/LDT/gates; LSL code/data, TSS and LDT (SDM Vol. 2 LAR, LSL).
      const okTypes = op === 0x102 ? [1, 2, 3, 4, 5, 9, 11, 12] : [1, 2, 3, 9, 11];
      const ok = hi !== null && ((hi & 0x1000) !== 0 || okTypes.includes(type & 0xf));
      if (ok) {
        const idx = sel >>> 3;
        const lo = v.gdt.guestLo[idx]!;
        const val = op === 0x102 ? hi! & 0x00f0ff00 : x86.descLimit(lo, hi!);
        setReg(v, reg, os, val);
      }
      setZf(v, ok);
      break;
    }
    case 0xea:
      farTransfer(v, d.immediates[1]!, d.immediates[0]!, false, os, next);
      return;
    case 0x9a:
      farTransfer(v, d.immediates[1]!, d.immediates[0]!, true, os, next);
      return;
    case 0xff: {
      const a = effectiveAddress(v, d);
      const off = v.read(a, os);
      const sel = v.read(a + os, 2);
      if (v.fault.pending) return;
      farTransfer(v, sel, off, reg === 3, os, next);
      return;
    }
    case 0xca:
    case 0xcb:
      emulateRetf(v, os, op === 0xca ? d.immediates[0]! : 0);
      return;
    case 0xcf:
      emulateIret(v, os);
      return;
    case 0xcc:
      v.reflect(3, 0, false, next, true);
      return;
    case 0xcd:
      v.reflect(d.immediates[0]!, 0, false, next, true);
      return;
    case 0xce:
      if ((cpu.getEflags() & OF) !== 0) v.reflect(4, 0, false, next, true);
      else cpu.eip = next;
      return;
    default:
      v.crash(`patched instruction ${d.entry.mnemonic} has no emulation`);
      return;
  }
  cpu.eip = next;
}

/** The guest's descriptor high dword for `sel` if visible at the guest's CPL and the selector's RPL, else null. */
function visibleDescriptor(v: X86FullVcpu, sel: number): number | null {
  const idx = sel >>> 3;
  if ((sel & ~3) === 0 || (sel & 4) !== 0 || idx * 8 + 7 > v.gdt.guestLimit) return null;
  const hi = v.gdt.guestHi[idx]!;
  const dpl = (hi >>> 13) & 3;
  const conforming = (hi & 0x1c00) === 0x1c00;
  if (!conforming && dpl < Math.max(v.vCpl, sel & 3)) return null;
  return hi;
}
