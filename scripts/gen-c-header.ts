/**
 * Generates samples/guests/include/pvkit_hypercall.h from src/hypercalls — numbers, errno
 * values, structures (laid out by the C compiler exactly as src/hypercalls/struct.ts computes,
 * which test/hypercalls checks with _Static_assert where the cross compilers exist) and inline
 * hypercall wrappers for i386 (`int $0x82`) and MIPS (`hypcall`).
 *
 *   npx tsx scripts/gen-c-header.ts          # rewrite the header
 *   npx tsx scripts/gen-c-header.ts --check  # exit 1 if the committed header is stale
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AbiLayouts,
  C_TYPE,
  ConsoleIo,
  DomId,
  Errno,
  EvtchnOp,
  EvtchnStat,
  FlatSelector,
  GntMap,
  GntSt,
  GnttabOp,
  Gtf,
  HEADER_STRUCTS,
  Hypercall,
  HypercallConvention,
  LayoutsMips32,
  LayoutsX86_32,
  MipsTlbOp,
  MmuCmd,
  MmuextOp,
  NR_EVENT_CHANNELS_32,
  PVKIT_X86_HYPERVISOR_VIRT_START,
  PVKIT_X86_PV_VIRT_BASE,
  SchedOp,
  ShutdownReason,
  StartInfoFlags,
  type StructSpec,
  TrapInfoFlags,
  type TypeSpec,
  Uvmf,
  VcpuOp,
  Virq,
  XenMem,
  XenVer,
} from "../src/hypercalls/index.js";

export const HEADER_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "samples",
  "guests",
  "include",
  "pvkit_hypercall.h",
);

function defines(prefix: string, table: Readonly<Record<string, number>>, comment: string): string {
  const lines = [`/* ${comment} */`];
  for (const [k, v] of Object.entries(table)) lines.push(`#define ${prefix}${k} ${v < 0 ? `(${v})` : v}`);
  return lines.join("\n");
}

/** C declaration of one field. */
function fieldDecl(name: string, t: TypeSpec, emitted: string[], seen: Set<string>): string {
  if (typeof t === "string") return `${C_TYPE[t]} ${name};`;
  if ("array" in t) {
    const inner = fieldDecl(name, t.array, emitted, seen);
    return inner.replace(/;$/, `[${t.count}];`);
  }
  const spec = "struct" in t ? t.struct : t.union;
  const kw = "struct" in t ? "struct" : "union";
  emitAggregate(spec, kw, emitted, seen);
  return `${kw} ${spec.name} ${name};`;
}

function emitAggregate(spec: StructSpec, kw: "struct" | "union", emitted: string[], seen: Set<string>): void {
  if (seen.has(spec.name)) return;
  const body: string[] = [];
  for (const [name, t] of spec.fields) body.push(`    ${fieldDecl(name, t, emitted, seen)}`);
  seen.add(spec.name);
  emitted.push(`${kw} ${spec.name} {\n${body.join("\n")}\n};`);
}

function structs(layouts: AbiLayouts): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const key of HEADER_STRUCTS) {
    const l = layouts[key];
    if (!l || typeof l !== "object" || !("spec" in l)) continue;
    emitAggregate(l.spec, "struct", out, seen);
  }
  return out;
}

const X86_WRAPPER = `static inline long _pvkit_hypercall(unsigned long nr, unsigned long a1, unsigned long a2,
                                    unsigned long a3, unsigned long a4, unsigned long a5)
{
    /* ${HypercallConvention.x86.entry}: EAX = number; EBX ECX EDX ESI EDI = args; EAX = result. */
    long ret = (long)nr;
    __asm__ __volatile__("int $0x82"
                         : "+a"(ret), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4), "+D"(a5)
                         :
                         : "memory");
    return ret;
}`;

const MIPS_WRAPPER = `static inline long _pvkit_hypercall(unsigned long nr, unsigned long a1, unsigned long a2,
                                    unsigned long a3, unsigned long a4, unsigned long a5)
{
    /* hypcall (0x${HypercallConvention.mips.instruction.toString(16)}): v0 = number; a0-a3, t0 = args; v0 = result. */
    register unsigned long v0 __asm__("$2") = nr;
    register unsigned long r4 __asm__("$4") = a1;
    register unsigned long r5 __asm__("$5") = a2;
    register unsigned long r6 __asm__("$6") = a3;
    register unsigned long r7 __asm__("$7") = a4;
    register unsigned long r8 __asm__("$8") = a5;
    __asm__ __volatile__(".word 0x${HypercallConvention.mips.instruction.toString(16)}"
                         : "+r"(v0), "+r"(r4), "+r"(r5), "+r"(r6), "+r"(r7), "+r"(r8)
                         :
                         : "memory");
    return (long)v0;
}`;

const WRAPPERS = `#define _PVKIT_U(x) ((unsigned long)(x))

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{ return _pvkit_hypercall(__HYPERVISOR_sched_op, _PVKIT_U(cmd), _PVKIT_U(arg), 0, 0, 0); }

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{ return _pvkit_hypercall(__HYPERVISOR_event_channel_op, _PVKIT_U(cmd), _PVKIT_U(arg), 0, 0, 0); }

static inline long HYPERVISOR_console_io(int cmd, int count, const char *buffer)
{ return _pvkit_hypercall(__HYPERVISOR_console_io, _PVKIT_U(cmd), _PVKIT_U(count), _PVKIT_U(buffer), 0, 0); }

/* timeout: absolute system time in ns (1 simulated cycle = 1 ns); 0 cancels. */
static inline long HYPERVISOR_set_timer_op(uint64_t timeout)
{ return _pvkit_hypercall(__HYPERVISOR_set_timer_op, _PVKIT_U((uint32_t)timeout), _PVKIT_U((uint32_t)(timeout >> 32)), 0, 0, 0); }

static inline long HYPERVISOR_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{ return _pvkit_hypercall(__HYPERVISOR_grant_table_op, cmd, _PVKIT_U(uop), count, 0, 0); }

static inline long HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{ return _pvkit_hypercall(__HYPERVISOR_memory_op, cmd, _PVKIT_U(arg), 0, 0, 0); }

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{ return _pvkit_hypercall(__HYPERVISOR_xen_version, _PVKIT_U(cmd), _PVKIT_U(arg), 0, 0, 0); }

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned int vcpuid, void *extra)
{ return _pvkit_hypercall(__HYPERVISOR_vcpu_op, _PVKIT_U(cmd), vcpuid, _PVKIT_U(extra), 0, 0); }

static inline long HYPERVISOR_mmu_update(struct mmu_update *req, unsigned int count, unsigned int *success_count, domid_t domid)
{ return _pvkit_hypercall(__HYPERVISOR_mmu_update, _PVKIT_U(req), count, _PVKIT_U(success_count), domid, 0); }

static inline long HYPERVISOR_mmuext_op(struct mmuext_op *op, unsigned int count, unsigned int *success_count, domid_t domid)
{ return _pvkit_hypercall(__HYPERVISOR_mmuext_op, _PVKIT_U(op), count, _PVKIT_U(success_count), domid, 0); }

static inline long HYPERVISOR_multicall(struct multicall_entry *calls, unsigned int nr_calls)
{ return _pvkit_hypercall(__HYPERVISOR_multicall, _PVKIT_U(calls), nr_calls, 0, 0, 0); }

#if defined(__i386__)
/* x86_32 PV CPU and MMU hypercalls (docs/x86-pv-abi.md). */
static inline long HYPERVISOR_set_trap_table(const struct trap_info *table)
{ return _pvkit_hypercall(__HYPERVISOR_set_trap_table, _PVKIT_U(table), 0, 0, 0, 0); }

static inline long HYPERVISOR_stack_switch(unsigned long ss, unsigned long esp)
{ return _pvkit_hypercall(__HYPERVISOR_stack_switch, ss, esp, 0, 0, 0); }

static inline long HYPERVISOR_set_callbacks(unsigned long event_selector, unsigned long event_address,
                                            unsigned long failsafe_selector, unsigned long failsafe_address)
{ return _pvkit_hypercall(__HYPERVISOR_set_callbacks, event_selector, event_address, failsafe_selector, failsafe_address, 0); }

/* 2-level (non-PAE) form: EBX va, ECX new PTE, EDX flags (UVMF_*). */
static inline long HYPERVISOR_update_va_mapping(unsigned long va, uint32_t pte, unsigned long flags)
{ return _pvkit_hypercall(__HYPERVISOR_update_va_mapping, va, pte, flags, 0, 0); }
#endif

static inline long pvkit_console_write(const char *s, int len)
{ return HYPERVISOR_console_io(CONSOLEIO_write, len, s); }

static inline long pvkit_shutdown(unsigned int reason)
{ struct sched_shutdown s; s.reason = reason; return HYPERVISOR_sched_op(SCHEDOP_shutdown, &s); }

static inline long pvkit_evtchn_send(evtchn_port_t port)
{ struct evtchn_send s; s.port = port; return HYPERVISOR_event_channel_op(EVTCHNOP_send, &s); }`;

/** The header text (deterministic: depends only on src/hypercalls). */
export function generateHeader(): string {
  const x86 = structs(LayoutsX86_32);
  const mips = structs(LayoutsMips32);
  const nameOf = (decl: string) => decl.slice(0, decl.indexOf(" {"));
  const body: string[] = [];
  for (const decl of x86) {
    const other = mips.find((m) => nameOf(m) === nameOf(decl));
    if (other === decl) body.push(decl);
    else if (other) body.push(`#if defined(__i386__)\n${decl}\n#else /* __mips__ */\n${other}\n#endif`);
    else body.push(`#if defined(__i386__)\n${decl}\n#endif`);
  }
  for (const decl of mips) {
    if (!x86.some((x) => nameOf(x) === nameOf(decl))) body.push(`#if defined(__mips__)\n${decl}\n#endif`);
  }
  const xenErrno: Record<string, number> = {};
  for (const [k, v] of Object.entries(Errno)) xenErrno[k] = -v;
  return `/*
 * pvkit_hypercall.h — the pvkit hypercall ABI for machine-code guests (i386 and MIPS32).
 * GENERATED by scripts/gen-c-header.ts from src/hypercalls: do not edit; run
 * \`npx tsx scripts/gen-c-header.ts\` after changing the TypeScript source.
 *
 * Numbers and x86_32 layouts are Xen's (xen/include/public/ headers); the MIPS ABI is pvkit's own
 * (docs/mips-pv-abi.md). Hypercalls return >= 0 on success or -XEN_Exxx.
 */
#ifndef PVKIT_HYPERCALL_H
#define PVKIT_HYPERCALL_H

#include <stdint.h>

#if !defined(__i386__) && !defined(__mips__)
#error "pvkit_hypercall.h supports i386 and MIPS32 guests"
#endif

typedef uint16_t domid_t;
typedef uint32_t evtchn_port_t;
typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;
typedef uint32_t xen_pfn_t;

${defines("__HYPERVISOR_", Hypercall, "Hypercall numbers — xen.h")}

${defines("MIPS_TLBOP_", MipsTlbOp, "HYPERVISOR_mips_tlb_op commands — pvkit, docs/mips-pv-abi.md")}

${defines("SCHEDOP_", SchedOp, "sched_op commands — sched.h")}

${defines("SHUTDOWN_", ShutdownReason, "SCHEDOP_shutdown reasons — sched.h")}

${defines("CONSOLEIO_", ConsoleIo, "console_io commands — xen.h")}

${defines("EVTCHNOP_", EvtchnOp, "event_channel_op commands — event_channel.h")}

${defines("EVTCHNSTAT_", EvtchnStat, "EVTCHNOP_status results — event_channel.h")}

${defines("VIRQ_", Virq, "virtual IRQs — xen.h")}

${defines("GNTTABOP_", GnttabOp, "grant_table_op commands — grant_table.h")}

${defines("GNTST_", GntSt, "grant status codes — grant_table.h")}

${defines("GTF_", Gtf, "grant entry flags — grant_table.h")}

${defines("GNTMAP_", GntMap, "map_grant_ref flags — grant_table.h")}

${defines("XENMEM_", XenMem, "memory_op commands — memory.h")}

${defines("MMU_", MmuCmd, "mmu_update commands (low 2 bits of ptr) — xen.h")}

${defines("MMUEXT_", MmuextOp, "mmuext_op commands — xen.h")}

${defines("XENVER_", XenVer, "xen_version commands — version.h")}

${defines("VCPUOP_", VcpuOp, "vcpu_op commands — vcpu.h")}

${defines("DOMID_", DomId, "reserved domain ids — xen.h")}

${defines("SIF_", StartInfoFlags, "start_info flags — xen.h")}

${defines("FLAT_", FlatSelector, "x86_32 flat selectors of the hypervisor's GDT — arch-x86/xen-x86_32.h")}

${defines("UVMF_", Uvmf, "update_va_mapping flags — xen.h")}

${defines("TI_", TrapInfoFlags, "trap_info.flags — arch-x86/xen.h (TI_GET_DPL, TI_GET_IF)")}

/* pvkit x86 PV: the hole starts here (Xen non-PAE: 0xFC000000) and pfn 0 is mapped at the virtual base. */
#define PVKIT_X86_HYPERVISOR_VIRT_START 0x${PVKIT_X86_HYPERVISOR_VIRT_START.toString(16)}u
#define PVKIT_X86_PV_VIRT_BASE 0x${PVKIT_X86_PV_VIRT_BASE.toString(16)}u

${defines("XEN_", xenErrno, "errno values (returned negated) — errno.h")}

#define NR_EVENT_CHANNELS ${NR_EVENT_CHANNELS_32}
#define PVKIT_START_INFO_MAGIC_X86 "${LayoutsX86_32.startInfoMagic}"
#define PVKIT_START_INFO_MAGIC_MIPS "${LayoutsMips32.startInfoMagic}"
#define PVKIT_MIPS_HYPCALL 0x${HypercallConvention.mips.instruction.toString(16)}u

/* Structures (x86_32: Xen's layouts; MIPS: pvkit's, where they differ) */
${body.join("\n\n")}

#if defined(__i386__)
${X86_WRAPPER}
#else /* __mips__ */
${MIPS_WRAPPER}
#endif

${WRAPPERS}

#endif /* PVKIT_HYPERCALL_H */
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = generateHeader();
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(HEADER_PATH, "utf8");
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      process.stderr.write(`${HEADER_PATH} is stale: run npx tsx scripts/gen-c-header.ts\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(HEADER_PATH, text);
    process.stdout.write(`wrote ${HEADER_PATH}\n`);
  }
}
