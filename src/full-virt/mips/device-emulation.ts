/**
 * Device emulation for full-virtualized guests (the seed's "Device I/O virtualization": reads and
 * writes of reserved addresses trap into the monitor, which emulates them). A guest kernel runs
 * in supervisor mode, where kseg1 is an address error, so every UART or exit-port register access
 * (ISA window, kseg1 0xBFD00000 + port) traps; the monitor decodes the load or store with the
 * CPU's decode table and performs it on the domain's own device models.
 *
 * An access in a branch delay slot is emulated together with its branch: the branch's outcome
 * is computed from the registers first (the access may overwrite a register the branch reads),
 * then the access, then PC = the branch target (or the fall-through). `branchOutcome` is shared
 * with the privileged-instruction path.
 */
import { mips } from "../../machine/index.js";
import type { DiscoVcpu } from "./disco-vcpu.js";
import { DiscoRow } from "./stats.js";

const { ExcCode, Fields, decodeDef, ISA_IO_BASE, ISA_IO_SIZE } = mips;
type MipsTrap = mips.MipsTrap;

/** True if kseg1 address `va` falls in the ISA I/O window. */
export function isDeviceAddress(va: number): boolean {
  const u = va >>> 0;
  if (u < 0xa0000000 || u >= 0xc0000000) return false;
  const pa = u & 0x1fffffff;
  return pa >= ISA_IO_BASE && pa < ISA_IO_BASE + ISA_IO_SIZE;
}

/**
 * Where the branch `word` at `pc` goes, evaluated on `gpr` as it is now: the target, or pc + 8
 * when not taken. Writes the link register as the branch does. -1 if `word` is not a branch.
 */
export function branchOutcome(word: number, pc: number, gpr: Int32Array): number {
  const d = decodeDef(word);
  const rs = gpr[Fields.rs(word)]!;
  const rt = gpr[Fields.rt(word)]!;
  const boff = (pc + 4 + (Fields.simm(word) << 2)) | 0;
  const jt = ((pc + 4) & 0xf0000000) | (Fields.jindex(word) << 2) | 0;
  const fall = (pc + 8) | 0;
  const link = (r: number) => {
    if (r !== 0) gpr[r] = fall;
  };
  switch (d.name) {
    case "j":
      return jt;
    case "jal":
      link(31);
      return jt;
    case "jr":
      return rs;
    case "jalr":
      link(Fields.rd(word));
      return rs;
    case "beq":
    case "beql":
      return rs === rt ? boff : fall;
    case "bne":
    case "bnel":
      return rs !== rt ? boff : fall;
    case "blez":
    case "blezl":
      return rs <= 0 ? boff : fall;
    case "bgtz":
    case "bgtzl":
      return rs > 0 ? boff : fall;
    case "bltz":
    case "bltzl":
      return rs < 0 ? boff : fall;
    case "bgez":
    case "bgezl":
      return rs >= 0 ? boff : fall;
    case "bltzal":
    case "bltzall":
      link(31);
      return rs < 0 ? boff : fall;
    case "bgezal":
    case "bgezall":
      link(31);
      return rs >= 0 ? boff : fall;
    default:
      return -1;
  }
}

/**
 * Emulates the load or store at `t.instrPc` that touched the ISA window. Returns false if the
 * domain was crashed or an exception was reflected instead.
 */
export function emulateDeviceAccess(v: DiscoVcpu, t: MipsTrap): boolean {
  const c0 = v.machine.clock.cycles;
  const cpu = v.machine.cpu;
  const word = v.fetchWord(t.instrPc);
  if (word === null) {
    v.crash("cannot read the instruction that touched a device", t.instrPc);
    return false;
  }
  const d = decodeDef(word);
  let size: 1 | 2 | 4;
  let store = false;
  let signed = false;
  switch (d.name) {
    case "lb":
      size = 1;
      signed = true;
      break;
    case "lbu":
      size = 1;
      break;
    case "lh":
      size = 2;
      signed = true;
      break;
    case "lhu":
      size = 2;
      break;
    case "lw":
      size = 4;
      break;
    case "sb":
      size = 1;
      store = true;
      break;
    case "sh":
      size = 2;
      store = true;
      break;
    case "sw":
      size = 4;
      store = true;
      break;
    default:
      v.crash(`unsupported device access instruction ${mips.disassemble(word, t.instrPc)}`, t.instrPc);
      return false;
  }
  const gpr = cpu.gpr;
  const addr = (gpr[Fields.rs(word)]! + Fields.simm(word)) >>> 0;
  if (addr & (size - 1)) {
    v.reflect(store ? ExcCode.AdES : ExcCode.AdEL, t, addr, false, DiscoRow.otherReflected);
    return false;
  }
  // The branch first: the access may overwrite a register the branch reads.
  let next = (t.instrPc + 4) | 0;
  if (t.bd) {
    const bw = v.fetchWord(t.pc);
    next = bw === null ? -1 : branchOutcome(bw, t.pc, gpr);
    if (next === -1) {
      v.crash("delay-slot device access whose branch cannot be decoded", t.pc);
      return false;
    }
  }
  const port = (addr & 0x1fffffff) - ISA_IO_BASE;
  const rt = Fields.rt(word);
  if (store) {
    const val = gpr[rt]! >>> 0;
    v.ports.write(port, size, size === 1 ? val & 0xff : size === 2 ? val & 0xffff : val);
  } else {
    let val = v.ports.read(port, size);
    if (signed) val = size === 1 ? (val << 24) >> 24 : (val << 16) >> 16;
    if (rt !== 0) gpr[rt] = val | 0;
  }
  v.setPc(next);
  v.monitorCharge(DiscoRow.device, v.machine.costs.emulateDeviceRegister, v.machine.clock.cycles - c0);
  return true;
}
