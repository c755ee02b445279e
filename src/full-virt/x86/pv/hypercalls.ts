/**
 * Plugs the x86 PV CPU and MMU hypercalls into the hypervisor's dispatcher (src/full-virt does not
 * import src/hypervisor: DESIGN.md "Layers"): set_trap_table 0, mmu_update 1, stack_switch 3,
 * fpu_taskswitch 5, update_va_mapping 14, iret 23, mmuext_op 26 — argument registers as Xen's
 * x86_32 (EBX ECX EDX ESI EDI). Each is routed to the x86 PV vCPU of the calling domain; any
 * other domain gets -ENOSYS, as before.
 */
import { Errno, Hypercall } from "../../../hypercalls/index.js";
import type { X86PvVcpu } from "./pv-vcpu.js";

/** What `registerX86PvHypercalls` needs of the hypervisor's dispatcher. */
export interface X86PvDispatcher {
  register(
    nr: number,
    handler: (call: { readonly domain: { readonly domid: number }; readonly args: Uint32Array }) => number,
    replace?: boolean,
  ): void;
  has(nr: number): boolean;
}

export function registerX86PvHypercalls(
  dispatcher: X86PvDispatcher,
  lookup: (domid: number) => X86PvVcpu | undefined,
  /** MMU_MACHPHYS_UPDATE's effect on the hypervisor's M2P. */
  setPfn: (mfn: number, pfn: number) => void,
): void {
  if (dispatcher.has(Hypercall.set_trap_table)) return;
  const on =
    (f: (v: X86PvVcpu, a: Uint32Array) => number) =>
    ({ domain, args }: { readonly domain: { readonly domid: number }; readonly args: Uint32Array }) => {
      const v = lookup(domain.domid);
      return v ? f(v, args) : Errno.ENOSYS;
    };
  dispatcher.register(
    Hypercall.set_trap_table,
    on((v, a) => v.setTrapTable(a[0]!)),
  );
  dispatcher.register(
    Hypercall.mmu_update,
    on((v, a) => v.mmuUpdate(a[0]!, a[1]!, a[2]!, a[3]!, setPfn)),
  );
  dispatcher.register(
    Hypercall.stack_switch,
    on((v, a) => v.stackSwitch(a[0]!, a[1]!)),
  );
  // No FPU on pvkit's i386 (guests build soft-float): CR0.TS has nothing to guard.
  dispatcher.register(
    Hypercall.fpu_taskswitch,
    on(() => 0),
  );
  dispatcher.register(
    Hypercall.update_va_mapping,
    on((v, a) => v.updateVaMapping(a[0]!, a[1]!, a[2]!)),
  );
  dispatcher.register(
    Hypercall.iret,
    on((v) => v.iret()),
  );
  dispatcher.register(
    Hypercall.mmuext_op,
    on((v, a) => v.mmuextOp(a[0]!, a[1]!, a[2]!, a[3]!)),
  );
}
