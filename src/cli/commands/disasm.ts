/**
 * `pvkit disasm [--arch mips] guest.elf`: disassembles the executable sections of a guest ELF
 * (the PF_X PT_LOAD segments when it has no section table), in the style of `objdump -d`,
 * with symbol labels. Each architecture adds one entry to DISASSEMBLERS.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import {
  type Arch,
  archOfElf,
  type ElfImage,
  EM_386,
  EM_MIPS,
  mips,
  PF_X,
  parseElf32,
  SHF_EXECINSTR,
  x86,
} from "../../machine/index.js";

/** Disassembles `bytes` (an executable range) loaded at `vaddr`: one line per instruction. */
export type Disassembler = (
  bytes: Uint8Array,
  vaddr: number,
) => Array<{ addr: number; raw: string; text: string }>;

function mipsRange(bytes: Uint8Array, vaddr: number): Array<{ addr: number; raw: string; text: string }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Array<{ addr: number; raw: string; text: string }> = [];
  for (let o = 0; o + 4 <= bytes.length; o += 4) {
    const w = view.getUint32(o, true);
    const addr = (vaddr + o) >>> 0;
    out.push({ addr, raw: w.toString(16).padStart(8, "0"), text: mips.disassemble(w, addr | 0) });
  }
  return out;
}

/** One entry per architecture. */
export const DISASSEMBLERS: Partial<Record<Arch, Disassembler>> = {
  mips: mipsRange,
  x86: x86.disassembleRange,
};

const MACHINE_OF: Record<Arch, number> = { mips: EM_MIPS, x86: EM_386 };

/** The disassembly listing of an ELF image, as text. */
export function disassembleElf(bytes: Uint8Array, file: string, arch?: Arch): string {
  const a = arch ?? archOfElf(bytes);
  if (!a) throw new Error(`${file}: not an EM_MIPS or EM_386 ELF file; give --arch`);
  const dis = DISASSEMBLERS[a];
  if (!dis) throw new Error(`no disassembler for architecture "${a}" yet`);
  const image: ElfImage = parseElf32(bytes, { file, machine: MACHINE_OF[a] });
  const labels = new Map<number, string>();
  for (const s of image.symbols)
    if ((s.type === 2 || s.type === 0) && !labels.has(s.value)) labels.set(s.value, s.name);

  const ranges: Array<{ name: string; addr: number; offset: number; size: number }> = [];
  const execSections = image.sections.filter((s) => s.flags & SHF_EXECINSTR && s.type !== 8 && s.size > 0);
  if (execSections.length > 0) {
    for (const s of execSections)
      ranges.push({ name: `section ${s.name}`, addr: s.addr, offset: s.offset, size: s.size });
  } else {
    image.loadSegments.forEach((p, i) => {
      if (p.flags & PF_X)
        ranges.push({ name: `segment ${i}`, addr: p.vaddr, offset: p.offset, size: p.filesz });
    });
  }
  const hex = (v: number) => (v >>> 0).toString(16).padStart(8, "0");
  const lines = [
    `${file}:     file format elf32-${a === "mips" ? "tradlittlemips" : "i386"}, entry 0x${hex(image.entry)}`,
  ];
  for (const r of ranges) {
    lines.push("", `Disassembly of ${r.name}:`);
    for (const ins of dis(image.bytes.subarray(r.offset, r.offset + r.size), r.addr)) {
      const label = labels.get(ins.addr);
      if (label) lines.push("", `${hex(ins.addr)} <${label}>:`);
      lines.push(`${ins.addr.toString(16).padStart(8, " ")}:\t${ins.raw} \t${ins.text}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export function registerDisasm(program: Command): void {
  program
    .command("disasm")
    .description("Disassemble the executable sections of a guest ELF")
    .argument("<guest>", "guest ELF file")
    .option("--arch <arch>", "mips or x86 (default: from the ELF's e_machine)")
    .action((guest: string, opts: { arch?: string }) => {
      if (opts.arch !== undefined && opts.arch !== "mips" && opts.arch !== "x86") {
        throw new Error(`--arch must be mips or x86, got "${opts.arch}"`);
      }
      process.stdout.write(
        disassembleElf(new Uint8Array(readFileSync(guest)), guest, opts.arch as Arch | undefined),
      );
    });
}
