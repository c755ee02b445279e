/**
 * Per-arch hypercall register conventions, as data the CPU back ends and the C header read.
 *
 * x86_32: Xen's legacy trap `int $0x82`; EAX = number, EBX ECX EDX ESI EDI = args 1–5,
 * EAX = result; a PV kernel starts with ESI = start_info (xen.h comment "x86_32: EAX = vector;
 * EBX, ECX, EDX, ESI, EDI = args 1, 2, 3, 4, 5"; arch-x86/xen-x86_32.h TRAP_INSTR "int $0x82").
 * MIPS: pvkit's own (docs/mips-pv-abi.md): the VZ `hypcall` encoding 0x42000028, v0 = number,
 * a0–a3, t0 = args 1–5, v0 = result; the PV kernel starts with a0 = start_info.
 */

/** i386 general register numbers in ModRM/instruction-encoding order (Intel SDM Vol. 2, Table 2-2). */
export const X86Reg = { eax: 0, ecx: 1, edx: 2, ebx: 3, esp: 4, ebp: 5, esi: 6, edi: 7 } as const;
/** MIPS GPR numbers (MIPS32 o32 register names). */
export const MipsReg = {
  zero: 0,
  at: 1,
  v0: 2,
  v1: 3,
  a0: 4,
  a1: 5,
  a2: 6,
  a3: 7,
  t0: 8,
  sp: 29,
  ra: 31,
} as const;

/** How a guest of each arch enters the hypervisor and where arguments and results live. */
export const HypercallConvention = {
  x86: {
    entry: "int $0x82",
    /** The IDT vector of the hypercall trap. */
    vector: 0x82,
    /** Encoding of `int $0x82`: CD 82. */
    bytes: [0xcd, 0x82],
    number: X86Reg.eax,
    args: [X86Reg.ebx, X86Reg.ecx, X86Reg.edx, X86Reg.esi, X86Reg.edi],
    result: X86Reg.eax,
    argNames: ["ebx", "ecx", "edx", "esi", "edi"],
    startInfo: X86Reg.esi,
  },
  mips: {
    entry: "hypcall",
    /** MIPS32 R5 VZ HYPCALL with code 0: 0x42000028 | (code << 11). R1 CPUs trap on it (RI in kernel, CpU otherwise). */
    instruction: 0x42000028,
    number: MipsReg.v0,
    args: [MipsReg.a0, MipsReg.a1, MipsReg.a2, MipsReg.a3, MipsReg.t0],
    result: MipsReg.v0,
    argNames: ["a0", "a1", "a2", "a3", "t0"],
    startInfo: MipsReg.a0,
  },
} as const;

/** Maximum arguments of one hypercall on both arches. */
export const MAX_HYPERCALL_ARGS = 5;
