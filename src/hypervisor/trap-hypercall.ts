/**
 * The hypercall path of a machine-code guest: once a CPU back end has recognised `int $0x82`
 * (x86) or `hypcall` (MIPS) at the trapping PC, it calls `hypercallFromRegisters`, which reads
 * the number and arguments from the register file by the arch's convention
 * (src/hypercalls/registers.ts), dispatches, and writes the result register. The back end then
 * advances the PC past the instruction. No allocation: the caller owns the scratch array.
 */
import { HypercallConvention } from "../hypercalls/index.js";
import type { Domain } from "./domain.js";
import type { Hypervisor } from "./hypervisor.js";

/** A CPU's general registers in encoding order (x86: EAX ECX EDX EBX ESP EBP ESI EDI; MIPS: $0–$31). */
export type RegisterFile = Int32Array | Uint32Array;

export function hypercallFromRegisters(
  hv: Hypervisor,
  domain: Domain,
  regs: RegisterFile,
  scratch: Uint32Array,
): number {
  const conv = HypercallConvention[domain.arch];
  const a = conv.args;
  scratch[0] = regs[a[0]]!;
  scratch[1] = regs[a[1]]!;
  scratch[2] = regs[a[2]]!;
  scratch[3] = regs[a[3]]!;
  scratch[4] = regs[a[4]]!;
  const result = hv.hypercall(domain, regs[conv.number]! >>> 0, scratch);
  regs[conv.result] = result;
  return result;
}
