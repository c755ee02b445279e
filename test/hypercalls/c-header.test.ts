import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateHeader, HEADER_PATH } from "../../scripts/gen-c-header.js";
import {
  type AbiLayouts,
  HEADER_STRUCTS,
  LayoutsMips32,
  LayoutsX86_32,
  type StructLayout,
} from "../../src/hypercalls/index.js";

function has(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
}
const hasMipsGcc = has("mipsel-linux-gnu-gcc", ["--version"]);
const hasClang = has("clang", ["--version"]);

/** _Static_assert lines for every named offset and size of every header struct of one arch. */
function assertions(layouts: AbiLayouts): string[] {
  const out: string[] = [];
  const visit = (l: StructLayout, cname: string, prefix: string, base: number) => {
    for (const f of l.fields) {
      const path = `${prefix}${f.name}`;
      out.push(`_Static_assert(offsetof(${cname}, ${path}) == ${base + f.offset}, "${cname}.${path}");`);
      if (f.layout && f.count) {
        // arrays of structs: check the second element's members too
        visit(f.layout, cname, `${path}[1].`, base + f.offset + f.elementSize!);
      } else if (f.layout) {
        visit(f.layout, cname, `${path}.`, base + f.offset);
      }
    }
  };
  for (const key of HEADER_STRUCTS) {
    const l = layouts[key] as StructLayout | undefined;
    if (!l || !("spec" in l)) continue;
    const cname = `struct ${l.name}`;
    out.push(`_Static_assert(sizeof(${cname}) == ${l.size}, "sizeof ${cname}");`);
    visit(l, cname, "", 0);
  }
  return out;
}

function cFile(layouts: AbiLayouts): string {
  return [
    "#include <stddef.h>",
    '#include "pvkit_hypercall.h"',
    ...assertions(layouts),
    "long use_all(void) {",
    "  long r = 0; struct sched_shutdown s = { SHUTDOWN_poweroff };",
    '  r += pvkit_console_write("hi", 2); r += HYPERVISOR_sched_op(SCHEDOP_yield, 0);',
    "  r += HYPERVISOR_set_timer_op(1000000ull); r += pvkit_evtchn_send(1);",
    "  r += HYPERVISOR_grant_table_op(GNTTABOP_query_size, 0, 1); r += HYPERVISOR_memory_op(XENMEM_current_reservation, 0);",
    "  r += HYPERVISOR_xen_version(XENVER_version, 0); r += HYPERVISOR_vcpu_op(0, 0, 0);",
    "  r += HYPERVISOR_mmu_update(0, 0, 0, DOMID_SELF); r += HYPERVISOR_mmuext_op(0, 0, 0, DOMID_SELF);",
    "  r += HYPERVISOR_multicall(0, 0); r += HYPERVISOR_sched_op(SCHEDOP_shutdown, &s); r += pvkit_shutdown(0);",
    "  return r;",
    "}",
    "",
  ].join("\n");
}

function compile(
  cc: string,
  args: string[],
  layouts: AbiLayouts,
): { ok: boolean; stderr: string; objdump?: string } {
  const dir = mkdtempSync(join(tmpdir(), "pvkit-hdr-"));
  const src = join(dir, "check.c");
  writeFileSync(src, cFile(layouts));
  const r = spawnSync(
    cc,
    [
      ...args,
      "-std=c11",
      "-O2",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-ffreestanding",
      "-c",
      "-I",
      dirname(HEADER_PATH),
      src,
      "-o",
      join(dir, "check.o"),
    ],
    { encoding: "utf8" },
  );
  return { ok: r.status === 0, stderr: r.stderr };
}

describe("generated C header", () => {
  it("is up to date with src/hypercalls (run `npx tsx scripts/gen-c-header.ts` if this fails)", () => {
    expect(readFileSync(HEADER_PATH, "utf8")).toBe(generateHeader());
  });

  it("carries Xen's numbers", () => {
    const h = generateHeader();
    expect(h).toContain("#define __HYPERVISOR_console_io 18");
    expect(h).toContain("#define __HYPERVISOR_event_channel_op 32");
    expect(h).toContain("#define EVTCHNOP_alloc_unbound 6");
    expect(h).toContain("#define GNTST_eagain (-12)");
    expect(h).toContain("#define XEN_EINVAL 22");
  });

  it.skipIf(!hasMipsGcc)(
    "compiles for MIPS with every offset and size equal to the TS layout (skipped without mipsel-linux-gnu-gcc)",
    () => {
      const r = compile(
        "mipsel-linux-gnu-gcc",
        ["-mno-abicalls", "-fno-pic", "-march=mips32"],
        LayoutsMips32,
      );
      expect(r.stderr).toBe("");
      expect(r.ok).toBe(true);
    },
  );

  it.skipIf(!hasClang)(
    "compiles for i386 with every offset and size equal to the TS layout (skipped without clang)",
    () => {
      const r = compile("clang", ["--target=i686-unknown-none-elf"], LayoutsX86_32);
      expect(r.stderr).toBe("");
      expect(r.ok).toBe(true);
    },
  );

  it.skipIf(!hasMipsGcc)("a deliberately wrong offset fails to compile (the check can fail)", () => {
    const bad = {
      ...LayoutsMips32,
      startInfo: {
        ...LayoutsMips32.startInfo,
        fields: LayoutsMips32.startInfo.fields.map((f) => (f.name === "cmd_line" ? { ...f, offset: 84 } : f)),
      },
    };
    const r = compile("mipsel-linux-gnu-gcc", ["-mno-abicalls", "-fno-pic"], bad as AbiLayouts);
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain("struct start_info.cmd_line");
  });

  it.skipIf(!hasMipsGcc)("the MIPS wrapper emits hypcall with v0 = number", () => {
    const dir = mkdtempSync(join(tmpdir(), "pvkit-hdr-"));
    writeFileSync(
      join(dir, "w.c"),
      '#include "pvkit_hypercall.h"\nlong f(void){ return HYPERVISOR_sched_op(SCHEDOP_yield, 0); }\n',
    );
    execFileSync("mipsel-linux-gnu-gcc", [
      "-O2",
      "-mno-abicalls",
      "-fno-pic",
      "-ffreestanding",
      "-c",
      "-I",
      dirname(HEADER_PATH),
      join(dir, "w.c"),
      "-o",
      join(dir, "w.o"),
    ]);
    const dis = execFileSync("mipsel-linux-gnu-objdump", ["-d", join(dir, "w.o")], { encoding: "utf8" });
    expect(dis).toMatch(/42000028/);
    expect(dis).toMatch(/li\s+v0,29/);
  });
});
