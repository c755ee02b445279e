import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DomId,
  GntMap,
  GntSt,
  GnttabOp,
  Gtf,
  Hypercall,
  Layouts,
  writeStruct,
} from "../../../src/hypercalls/index.js";
import type { Domain } from "../../../src/hypervisor/domain.js";
import {
  GRANT_ENTRY_DOMID,
  GRANT_ENTRY_FLAGS,
  GRANT_ENTRY_FRAME,
  GRANT_ENTRY_SIZE,
  GrantTables,
} from "../../../src/hypervisor/grant-table/index.js";
import { Hypervisor } from "../../../src/hypervisor/hypervisor.js";
import { PhysicalMemory } from "../../../src/machine/index.js";
import { requires } from "../../setup/requires.js";
import { PageAccess } from "./page-access.js";

const PAGE = 4096;

/** Two auto-translated domains (A grants, B maps) and the grant tables. */
function world(limits = {}) {
  const hv = new Hypervisor({ memory: new PhysicalMemory(1 << 20) });
  const gt = new GrantTables(hv, limits);
  const a = hv.createDomain({ name: "A", arch: "mips", pages: 16 });
  const b = hv.createDomain({ name: "B", arch: "mips", pages: 16 });
  return { hv, gt, a, b };
}

/** Granter-side helper: write entry `ref` in A's table (frame at pfn 4) as a guest would. */
function grant(
  hv: Hypervisor,
  a: Domain,
  ref: number,
  to: number,
  pfn: number,
  flags: number = Gtf.permit_access,
) {
  const p = new PageAccess(hv, a, 4);
  p.write32(ref * GRANT_ENTRY_SIZE + GRANT_ENTRY_FRAME, pfn);
  p.write16(ref * GRANT_ENTRY_SIZE + GRANT_ENTRY_DOMID, to);
  p.write16(ref * GRANT_ENTRY_SIZE + GRANT_ENTRY_FLAGS, flags);
}

function entryFlags(hv: Hypervisor, a: Domain, ref: number): number {
  return new PageAccess(hv, a, 4).read16(ref * GRANT_ENTRY_SIZE);
}

/** Issues grant_table_op(map_grant_ref) as domain `d` with the op struct at gpa 0x5000 (pfn 5). */
function hypercallMap(hv: Hypervisor, d: Domain, dom: number, ref: number, hostAddr: number, flags: number) {
  const L = d.layouts.gnttabMapGrantRef;
  const bytes = new Uint8Array(L.size);
  writeStruct(
    L,
    { host_addr: BigInt(hostAddr), flags, ref, dom, status: 0, handle: 0, dev_bus_addr: 0n },
    new DataView(bytes.buffer),
    0,
  );
  expect(hv.copier.copyOut(d, 0x5000, bytes)).toBe(true);
  const rc = hv.hypercall(
    d,
    Hypercall.grant_table_op,
    Uint32Array.of(GnttabOp.map_grant_ref, 0x5000, 1, 0, 0),
  );
  const out = new DataView(hv.copier.copyIn(d, 0x5000, L.size)!.buffer);
  return {
    rc,
    status: out.getInt16(L.offsets.status!, true),
    handle: out.getUint32(L.offsets.handle!, true),
  };
}

describe("grant entry layout", () => {
  it("equals Xen's grant_entry_v1 and the ABI layer's spec for both arches", () => {
    expect([GRANT_ENTRY_FLAGS, GRANT_ENTRY_DOMID, GRANT_ENTRY_FRAME, GRANT_ENTRY_SIZE]).toEqual([0, 2, 4, 8]);
    for (const L of [Layouts.x86, Layouts.mips]) {
      expect(L.grantEntryV1.size).toBe(GRANT_ENTRY_SIZE);
      expect(L.grantEntryV1.offsets).toMatchObject({ flags: 0, domid: 2, frame: 4 });
    }
    expect([Gtf.permit_access, Gtf.readonly, Gtf.reading, Gtf.writing]).toEqual([1, 4, 8, 16]);
  });

  const header = join(process.cwd(), "samples/guests/include/pvkit_hypercall.h");
  const canCompileHeader = existsSync("/usr/bin/clang") && existsSync(header);
  describe.skipIf(!canCompileHeader)(
    requires("the generated C header", canCompileHeader, "clang or samples/guests/include/pvkit_hypercall.h"),
    () => {
      it("its grant_entry_v1 and GNTST codes agree with the hypervisor's", () => {
        const file = join(mkdtempSync(join(tmpdir(), "pvkit-gnth-")), "h.c");
        writeFileSync(
          file,
          `#include <stddef.h>
#include "${header}"
_Static_assert(offsetof(struct grant_entry_v1, flags) == ${GRANT_ENTRY_FLAGS}, "flags");
_Static_assert(offsetof(struct grant_entry_v1, domid) == ${GRANT_ENTRY_DOMID}, "domid");
_Static_assert(offsetof(struct grant_entry_v1, frame) == ${GRANT_ENTRY_FRAME}, "frame");
_Static_assert(sizeof(struct grant_entry_v1) == ${GRANT_ENTRY_SIZE}, "size");
_Static_assert(GNTST_bad_handle == ${GntSt.bad_handle} && GNTST_no_device_space == ${GntSt.no_device_space}, "gntst");
`,
        );
        for (const t of ["i686-unknown-none-elf", "mipsel-unknown-linux-gnu"]) {
          execFileSync("clang", [`--target=${t}`, "-ffreestanding", "-fsyntax-only", file]);
        }
      });
    },
  );

  describe.skipIf(!existsSync("/usr/bin/clang"))(
    requires("compiled", existsSync("/usr/bin/clang"), "clang"),
    () => {
      it("a C grant_entry_v1 has the same offsets on i686 and mipsel", () => {
        const file = join(mkdtempSync(join(tmpdir(), "pvkit-gnt-")), "g.c");
        writeFileSync(
          file,
          `#include <stddef.h>
#include <stdint.h>
typedef uint16_t domid_t;
struct grant_entry_v1 { uint16_t flags; domid_t domid; uint32_t frame; };
_Static_assert(offsetof(struct grant_entry_v1, flags) == ${GRANT_ENTRY_FLAGS}, "flags");
_Static_assert(offsetof(struct grant_entry_v1, domid) == ${GRANT_ENTRY_DOMID}, "domid");
_Static_assert(offsetof(struct grant_entry_v1, frame) == ${GRANT_ENTRY_FRAME}, "frame");
_Static_assert(sizeof(struct grant_entry_v1) == ${GRANT_ENTRY_SIZE}, "size");
`,
        );
        for (const t of ["i686-unknown-none-elf", "mipsel-unknown-linux-gnu"]) {
          execFileSync("clang", [`--target=${t}`, "-ffreestanding", "-fsyntax-only", file]);
        }
      });
    },
  );
});

describe("grant tables", () => {
  it("maps zero-copy: the mapper's pfn aliases the granter's machine page, flags track the pin", () => {
    const { hv, gt, a, b } = world();
    expect(gt.setupTable(a, [4])).toBe(GntSt.okay);
    grant(hv, a, 3, b.domid, 8);
    new PageAccess(hv, a, 8).write32(100, 0xcafe);
    const r = hypercallMap(hv, b, a.domid, 3, 10 * PAGE, GntMap.host_map);
    expect(r).toMatchObject({ rc: 0, status: GntSt.okay });
    expect(b.p2m.lookup(10)).toBe(a.p2m.lookup(8));
    expect(new PageAccess(hv, b, 10).read32(100)).toBe(0xcafe);
    new PageAccess(hv, b, 10).write32(200, 0xbeef);
    expect(new PageAccess(hv, a, 8).read32(200)).toBe(0xbeef);
    expect(entryFlags(hv, a, 3)).toBe(Gtf.permit_access | Gtf.reading | Gtf.writing);
    expect(gt.unmap(b, 10 * PAGE, r.handle)).toBe(GntSt.okay);
    expect(entryFlags(hv, a, 3)).toBe(Gtf.permit_access);
    expect(b.p2m.foreign(10)).toBe(false);
    expect(hv.machineMemory.owner(b.p2m.lookup(10))).toBe(b.domid);
    expect(hv.machineMemory.foreignMappings(b.domid)).toBe(0);
  });

  it("setup_table and query_size through the hypercall path", () => {
    const { hv, a } = world();
    const L = a.layouts;
    // setup_table { dom = DOMID_SELF, nr_frames = 2, frame_list -> [4, 6] } at gpa 0x5000.
    const st = new Uint8Array(L.gnttabSetupTable.size);
    writeStruct(
      L.gnttabSetupTable,
      { dom: DomId.SELF, nr_frames: 2, status: 0, frame_list: 0x5100 },
      new DataView(st.buffer),
      0,
    );
    hv.copier.copyOut(a, 0x5000, st);
    hv.copier.copyOut(a, 0x5100, new Uint8Array([4, 0, 0, 0, 6, 0, 0, 0]));
    expect(
      hv.hypercall(a, Hypercall.grant_table_op, Uint32Array.of(GnttabOp.setup_table, 0x5000, 1, 0, 0)),
    ).toBe(0);
    const out = new DataView(hv.copier.copyIn(a, 0x5000, L.gnttabSetupTable.size)!.buffer);
    expect(out.getInt16(L.gnttabSetupTable.offsets.status!, true)).toBe(GntSt.okay);
    const q = new Uint8Array(L.gnttabQuerySize.size);
    writeStruct(
      L.gnttabQuerySize,
      { dom: DomId.SELF, nr_frames: 0, max_nr_frames: 0, status: 0 },
      new DataView(q.buffer),
      0,
    );
    hv.copier.copyOut(a, 0x5000, q);
    expect(
      hv.hypercall(a, Hypercall.grant_table_op, Uint32Array.of(GnttabOp.query_size, 0x5000, 1, 0, 0)),
    ).toBe(0);
    const qo = new DataView(hv.copier.copyIn(a, 0x5000, L.gnttabQuerySize.size)!.buffer);
    expect(qo.getUint32(L.gnttabQuerySize.offsets.nr_frames!, true)).toBe(2);
    expect(qo.getUint32(L.gnttabQuerySize.offsets.max_nr_frames!, true)).toBe(4);
    // A bad frame_list pointer is a per-op status, a bad op pointer is -EFAULT.
    expect(
      hv.hypercall(a, Hypercall.grant_table_op, Uint32Array.of(GnttabOp.query_size, 0xfff000, 1, 0, 0)),
    ).toBe(-14);
    expect(hv.hypercall(a, Hypercall.grant_table_op, Uint32Array.of(99, 0x5000, 1, 0, 0))).toBe(-38);
  });

  it("read-only grants: read-only maps work, writable maps fail, writes through the mapping are refused", () => {
    const { hv, gt, a, b } = world();
    gt.setupTable(a, [4]);
    grant(hv, a, 1, b.domid, 8, Gtf.permit_access | Gtf.readonly);
    expect(gt.map(b, a.domid, 1, 10 * PAGE, GntMap.host_map).status).toBe(GntSt.general_error);
    const r = gt.map(b, a.domid, 1, 10 * PAGE, GntMap.host_map | GntMap.readonly);
    expect(r.status).toBe(GntSt.okay);
    expect(entryFlags(hv, a, 1)).toBe(Gtf.permit_access | Gtf.readonly | Gtf.reading);
    expect(b.p2m.writable(10)).toBe(false);
    expect(hv.copier.copyOut(b, 10 * PAGE, new Uint8Array([1]))).toBe(false);
  });

  it("returns Xen's GNTST codes for bad requests", () => {
    const { hv, gt, a, b } = world({ maxMaptrack: 2, maxFrames: 2 });
    gt.setupTable(a, [4]);
    grant(hv, a, 0, b.domid, 8);
    grant(hv, a, 1, 99, 8); // granted to someone else
    expect(gt.map(b, 77, 0, 10 * PAGE, GntMap.host_map).status).toBe(GntSt.bad_domain);
    expect(gt.map(b, a.domid, 512, 10 * PAGE, GntMap.host_map).status).toBe(GntSt.bad_gntref);
    expect(gt.map(b, a.domid, 1, 10 * PAGE, GntMap.host_map).status).toBe(GntSt.general_error);
    expect(gt.map(b, a.domid, 2, 10 * PAGE, GntMap.host_map).status).toBe(GntSt.general_error); // invalid entry
    expect(gt.map(b, a.domid, 0, 10 * PAGE + 4, GntMap.host_map).status).toBe(GntSt.bad_virt_addr);
    expect(gt.map(b, a.domid, 0, 500 * PAGE, GntMap.host_map).status).toBe(GntSt.bad_virt_addr);
    expect(gt.unmap(b, 0, 5)).toBe(GntSt.bad_handle);
    expect(gt.map(b, a.domid, 0, 10 * PAGE, GntMap.host_map).status).toBe(GntSt.okay);
    expect(gt.map(b, a.domid, 0, 10 * PAGE, GntMap.host_map).status).toBe(GntSt.bad_virt_addr); // already foreign
    expect(gt.map(b, a.domid, 0, 11 * PAGE, GntMap.host_map).status).toBe(GntSt.okay);
    expect(gt.map(b, a.domid, 0, 12 * PAGE, GntMap.host_map).status).toBe(GntSt.no_device_space);
    expect(gt.setupTable(a, [4, 5, 6])).toBe(GntSt.general_error); // over maxFrames
    expect(gt.setupTable(b, [10])).toBe(GntSt.general_error); // a foreign-mapped pfn is not B's own page
  });

  it("a granter that revokes a mapped grant cannot pull the page: the mapping stays until unmap", () => {
    const { hv, gt, a, b } = world();
    gt.setupTable(a, [4]);
    grant(hv, a, 0, b.domid, 8);
    new PageAccess(hv, a, 8).write32(0, 42);
    const r = gt.map(b, a.domid, 0, 10 * PAGE, GntMap.host_map);
    grant(hv, a, 0, 0, 0, 0); // hostile: wipes the entry while mapped
    expect(new PageAccess(hv, b, 10).read32(0)).toBe(42);
    expect(gt.pinnedOf(a.domid)).toBe(1);
    expect(gt.map(b, a.domid, 0, 11 * PAGE, GntMap.host_map).status).toBe(GntSt.general_error);
    expect(gt.unmap(b, 10 * PAGE, r.handle)).toBe(GntSt.okay);
    expect(gt.pinnedOf(a.domid)).toBe(0);
  });

  it("copies through grants and rejects bad copy arguments", () => {
    const { hv, gt, a, b } = world();
    gt.setupTable(a, [4]);
    grant(hv, a, 0, b.domid, 8);
    grant(hv, a, 1, b.domid, 9, Gtf.permit_access | Gtf.readonly);
    new PageAccess(hv, a, 8).write32(16, 0x11223344);
    const copy = (srcRef: number, dstPfn: number, len: number, off = 16) =>
      gt.copy(b, {
        source: { ref: srcRef, domid: a.domid, offset: off },
        dest: { ref: dstPfn, domid: DomId.SELF, offset: off },
        len,
        flags: 1,
      });
    expect(copy(0, 12, 4)).toBe(GntSt.okay);
    expect(new PageAccess(hv, b, 12).read32(16)).toBe(0x11223344);
    expect(copy(0, 12, 4090)).toBe(GntSt.bad_copy_arg);
    expect(
      gt.copy(b, {
        source: { ref: 12, domid: DomId.SELF, offset: 0 },
        dest: { ref: 1, domid: a.domid, offset: 0 },
        len: 4,
        flags: 2,
      }),
    ).toBe(GntSt.general_error); // write into a read-only grant
    expect(
      gt.copy(b, {
        source: { ref: 8, domid: a.domid, offset: 0 },
        dest: { ref: 12, domid: DomId.SELF, offset: 0 },
        len: 4,
        flags: 0,
      }),
    ).toBe(GntSt.permission_denied); // a raw frame of another domain
    expect(gt.bytesCopied).toBe(4);
  });

  it("accounts every page after unmap and after destroying a granter with live mappings", () => {
    const { hv, gt, a, b } = world();
    const free0 = hv.machineMemory.freePages + 32;
    gt.setupTable(a, [4]);
    for (let ref = 0; ref < 4; ref++) grant(hv, a, ref, b.domid, 8 + ref);
    const own10 = b.p2m.lookup(10);
    const handles = [0, 1, 2, 3].map(
      (ref) => gt.map(b, a.domid, ref, (10 + ref) * PAGE, GntMap.host_map).handle,
    );
    expect(gt.mappingsOf(b.domid)).toBe(4);
    hv.destroy(a.domid); // the granter dies with 4 live mappings
    expect(b.p2m.lookup(10)).toBe(own10); // B has its own page back
    expect(b.p2m.foreign(10)).toBe(false);
    expect(hv.machineMemory.foreignMappings(b.domid)).toBe(0);
    expect(gt.mappingsOf(b.domid)).toBe(0);
    expect(gt.unmap(b, 10 * PAGE, handles[0]!)).toBe(GntSt.okay); // the stale handle still unmaps
    hv.destroy(b.domid);
    expect(hv.machineMemory.freePages).toBe(free0);
    expect(hv.dispatcher.handlerFaults).toBe(0);
  });

  it("random map/unmap/destroy sequences never leak a page or a pin (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              k: fc.constant("map" as const),
              ref: fc.nat(5),
              pfn: fc.integer({ min: 8, max: 15 }),
              ro: fc.boolean(),
            }),
            fc.record({ k: fc.constant("unmap" as const), h: fc.nat(6) }),
            fc.record({ k: fc.constant("hostile" as const), ref: fc.nat(5) }),
          ),
          { maxLength: 40 },
        ),
        fc.boolean(),
        (ops, granterFirst) => {
          const { hv, gt, a, b } = world();
          const free0 = hv.machineMemory.freePages + 32;
          gt.setupTable(a, [4]);
          for (let ref = 0; ref < 6; ref++)
            grant(
              hv,
              a,
              ref,
              b.domid,
              8 + ref,
              ref === 5 ? Gtf.permit_access | Gtf.readonly : Gtf.permit_access,
            );
          const live = new Map<number, number>();
          for (const op of ops) {
            if (op.k === "map") {
              const r = gt.map(
                b,
                a.domid,
                op.ref,
                op.pfn * PAGE,
                GntMap.host_map | (op.ro ? GntMap.readonly : 0),
              );
              if (r.status === GntSt.okay) live.set(r.handle, op.pfn);
            } else if (op.k === "unmap") {
              const pfn = live.get(op.h);
              const st = gt.unmap(b, (pfn ?? 0) * PAGE, op.h);
              expect(st).toBe(pfn === undefined ? GntSt.bad_handle : GntSt.okay);
              live.delete(op.h);
            } else {
              grant(hv, a, op.ref, 0, 0, 0);
            }
            expect(gt.mappingsOf(b.domid)).toBe(live.size);
          }
          hv.destroy(granterFirst ? a.domid : b.domid);
          hv.destroy(granterFirst ? b.domid : a.domid);
          expect(hv.machineMemory.freePages).toBe(free0);
          expect(hv.dispatcher.handlerFaults).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("hostile grant_table_op arguments never fault the hypervisor and never break accounting (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            who: fc.boolean(),
            cmd: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.nat()),
            ptr: fc.oneof(fc.constantFrom(0x5000, 0x5ff8, 0x4000, 0x8000), fc.nat()),
            count: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.nat()),
            bytes: fc.uint8Array({ minLength: 64, maxLength: 64 }),
          }),
          { maxLength: 25 },
        ),
        (calls) => {
          const { hv, gt, a, b } = world();
          const free0 = hv.machineMemory.freePages + 32;
          gt.setupTable(a, [4]);
          for (let ref = 0; ref < 4; ref++) grant(hv, a, ref, b.domid, 8 + ref);
          for (const c of calls) {
            const d = c.who ? a : b;
            hv.copier.copyOut(d, 0x5000, c.bytes);
            const rc = hv.hypercall(d, Hypercall.grant_table_op, Uint32Array.of(c.cmd, c.ptr, c.count, 0, 0));
            expect(Number.isInteger(rc)).toBe(true);
            expect(rc === 0 || [-14, -22, -38].includes(rc)).toBe(true);
          }
          expect(hv.dispatcher.handlerFaults).toBe(0);
          expect(a.alive && b.alive).toBe(true);
          hv.destroy(a.domid);
          hv.destroy(b.domid);
          expect(hv.machineMemory.freePages).toBe(free0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
