/**
 * Raw PV guests for the tests beside this file: code at guest-physical 0x10000 (ksseg
 * 0xC0010000, where the PV kernel starts too — pfns 0–4 hold start_info, shared_info, the rings
 * and the privileged-register page), vectors at 0xC0011000, result slots at 0xC0012000. Built
 * with the decode-table assembler of test/machine/mips.
 */

import type { disco } from "../../../src/full-virt/index.js";
import { Hypercall, LayoutsMips32 } from "../../../src/hypercalls/index.js";
import { type MipsGuestImage, runFullVirt } from "../../../src/hypervisor/index.js";
import { type Asm, newAsm } from "../../machine/mips/asm.js";

export const HYPCALL = 0x42000028;
export const PAGE = 0xc0004000;
export const CODE = 0xc0010000;
export const VECTORS = 0xc0011000;
export const SLOTS = 0xc0012000;
/** A zeroed struct sched_shutdown (reason 0 = poweroff). */
const SHUTDOWN_STRUCT_PA = 0x12f00;
export const PR = LayoutsMips32.mipsPrivregs!.offsets as Record<string, number>;

export function hyp(a: Asm, nr: number, a0 = 0, a1 = 0, a2 = 0): Asm {
  return a.li("v0", nr).li("a0", a0).li("a1", a1).li("a2", a2).word(HYPCALL);
}

/** Stores v0 in result slot `i`. */
export function slot(a: Asm, i: number, reg = "v0"): Asm {
  return a.li("t9", SLOTS + 4 * i).sw(reg, 0, "t9");
}

/** Copies privileged-register page field `field` to slot `i`. */
export function pageToSlot(a: Asm, field: string, i: number): Asm {
  return a
    .li("t8", PAGE)
    .lw("t7", PR[field]!, "t8")
    .li("t9", SLOTS + 4 * i)
    .sw("t7", 0, "t9");
}

export function storePage(a: Asm, field: string, value: number): Asm {
  return a.li("t8", PAGE).li("t7", value).sw("t7", PR[field]!, "t8");
}

export function shutdown(a: Asm, label: string): Asm {
  hyp(a, Hypercall.sched_op, 2, SHUTDOWN_STRUCT_PA);
  return a.label(label).b(label).nop();
}

/** One image: code at CODE, optional vector block at VECTORS, optional extra blocks. */
export function pvImage(
  code: Asm,
  vectors?: Asm,
  extra: { pa: number; bytes: Uint8Array }[] = [],
): Uint8Array {
  const img = new Uint8Array(0x20000);
  img.set(code.bytes(), 0);
  if (vectors) img.set(vectors.bytes(), VECTORS - CODE);
  for (const e of extra) img.set(e.bytes, e.pa - 0x10000);
  return img;
}

export function pvGuest(name: string, bytes: Uint8Array): MipsGuestImage {
  return { name, file: name, bytes, pv: true, raw: { physical: 0x10000, entry: CODE, relinked: true } };
}

export async function runPv(guests: MipsGuestImage[], oracle = false) {
  const lines: string[] = [];
  const res = await runFullVirt(guests, { out: (l) => lines.push(l), ramMib: 4, machineMib: 32, oracle });
  return { res, lines };
}

/** Guest-physical word `pa` of a vCPU. */
export function phys(v: disco.DiscoVcpu, pa: number): number {
  const mfn = v.pmap.lookup(pa >>> 12);
  if (mfn < 0) return 0;
  return v.machine.memory.u32[(mfn * 4096 + (pa & 4095)) >>> 2]! >>> 0;
}

export function slotValue(v: disco.DiscoVcpu, i: number): number {
  return phys(v, SLOTS - 0xc0000000 + 4 * i);
}

export { newAsm };
