/**
 * pvkit/hypercalls — the hypercall ABI, single source of truth: Xen's numbers, errno values,
 * argument and shared-structure layouts per arch, register conventions, and the guest contract.
 */

export { Errno, type ErrnoName, type ErrnoValue, errnoName, isHypercallError, isXenErrno } from "./errno.js";
export { GuestFault, HypercallError } from "./errors.js";
export type {
  GuestContext,
  GuestMemoryAccess,
  GuestPortIo,
  PortWidth,
  TsGuest,
  UpcallHandler,
} from "./guest-context.js";
export * from "./io/index.js";
export * from "./layouts.js";
export * from "./numbers.js";
export { HypercallConvention, MAX_HYPERCALL_ARGS, MipsReg, X86Reg } from "./registers.js";
export {
  ABI_I386,
  ABI_MIPS_O32,
  type Abi,
  C_TYPE,
  type FieldLayout,
  type FieldValue,
  layoutStruct,
  type Prim,
  readStruct,
  type StructLayout,
  type StructSpec,
  type StructValue,
  type TypeSpec,
  writeStruct,
} from "./struct.js";
export { NS_PER_CYCLE, TSC_SHIFT, TSC_TO_SYSTEM_MUL } from "./time.js";
export * from "./x86-pv.js";
