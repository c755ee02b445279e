/**
 * blkif layouts and codecs: offsets and sizes equal blkif.h's for x86_32 and x86_64 (checked by
 * hand and, where clang is installed, by compiling the C structs with _Static_assert against
 * our tables), byte-exact encoding, each request field read exactly once, unknown ops as data.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CountingSharedPage,
  LocalSharedPage,
  RING_HEADER_SIZE,
  ringSize,
  slotSizeOf,
} from "../../../src/guest-sdk/index.js";
import {
  BLKIF_ABI_X86_32,
  BLKIF_ABI_X86_64,
  type BlkifAbi,
  BlkifOp,
  type BlkifRequest,
  BlkifStatus,
  blkifAbiByName,
  blkifProtocol,
  blkifRequestCodec,
  blkifResponseCodec,
} from "../../../src/pv-drivers/index.js";
import { requires } from "../../setup/requires.js";

/** The structs of xen/include/public/io/blkif.h, asserted against an ABI table. */
function cSource(a: BlkifAbi): string {
  return `#include <stddef.h>
#include <stdint.h>
typedef uint32_t grant_ref_t;
typedef uint16_t blkif_vdev_t;
typedef uint64_t blkif_sector_t;
struct blkif_request_segment { grant_ref_t gref; uint8_t first_sect, last_sect; };
struct blkif_request { uint8_t operation; uint8_t nr_segments; blkif_vdev_t handle; uint64_t id;
  blkif_sector_t sector_number; struct blkif_request_segment seg[11]; };
struct blkif_request_discard { uint8_t operation; uint8_t flag; blkif_vdev_t handle; uint64_t id;
  blkif_sector_t sector_number; uint64_t nr_sectors; };
struct blkif_request_indirect { uint8_t operation; uint8_t indirect_op; uint16_t nr_segments; uint64_t id;
  blkif_sector_t sector_number; blkif_vdev_t handle; grant_ref_t indirect_grefs[8];
#ifdef __i386__
  uint64_t pad;
#endif
};
struct blkif_response { uint64_t id; uint8_t operation; int16_t status; };
#define A(c, v) _Static_assert((c) == (v), #c);
A(sizeof(struct blkif_request_segment), ${a.segment.size})
A(offsetof(struct blkif_request_segment, first_sect), ${a.segment.firstSect})
A(offsetof(struct blkif_request_segment, last_sect), ${a.segment.lastSect})
A(sizeof(struct blkif_request), ${a.request.size})
A(offsetof(struct blkif_request, nr_segments), ${a.request.nrSegments})
A(offsetof(struct blkif_request, handle), ${a.request.handle})
A(offsetof(struct blkif_request, id), ${a.request.id})
A(offsetof(struct blkif_request, sector_number), ${a.request.sectorNumber})
A(offsetof(struct blkif_request, seg), ${a.request.seg})
A(sizeof(struct blkif_request_discard), ${a.discard.size})
A(offsetof(struct blkif_request_discard, flag), ${a.discard.flag})
A(offsetof(struct blkif_request_discard, handle), ${a.discard.handle})
A(offsetof(struct blkif_request_discard, id), ${a.discard.id})
A(offsetof(struct blkif_request_discard, sector_number), ${a.discard.sectorNumber})
A(offsetof(struct blkif_request_discard, nr_sectors), ${a.discard.nrSectors})
A(sizeof(struct blkif_request_indirect), ${a.indirect.size})
A(offsetof(struct blkif_request_indirect, indirect_op), ${a.indirect.indirectOp})
A(offsetof(struct blkif_request_indirect, nr_segments), ${a.indirect.nrSegments})
A(offsetof(struct blkif_request_indirect, id), ${a.indirect.id})
A(offsetof(struct blkif_request_indirect, sector_number), ${a.indirect.sectorNumber})
A(offsetof(struct blkif_request_indirect, handle), ${a.indirect.handle})
A(offsetof(struct blkif_request_indirect, indirect_grefs), ${a.indirect.indirectGrefs})
A(sizeof(struct blkif_response), ${a.response.size})
A(offsetof(struct blkif_response, operation), ${a.response.operation})
A(offsetof(struct blkif_response, status), ${a.response.status})
`;
}

const hasClang = existsSync("/usr/bin/clang");

describe("blkif.h layouts", () => {
  it("sizes: request 108/112, response 12/16, segment 8; 32 slots per ring page", () => {
    expect([BLKIF_ABI_X86_32.request.size, BLKIF_ABI_X86_64.request.size]).toEqual([108, 112]);
    expect([BLKIF_ABI_X86_32.response.size, BLKIF_ABI_X86_64.response.size]).toEqual([12, 16]);
    expect([BLKIF_ABI_X86_32.segment.size, BLKIF_ABI_X86_64.segment.size]).toEqual([8, 8]);
    expect([
      BLKIF_ABI_X86_32.request.id,
      BLKIF_ABI_X86_32.request.sectorNumber,
      BLKIF_ABI_X86_32.request.seg,
    ]).toEqual([4, 12, 20]);
    expect([
      BLKIF_ABI_X86_64.request.id,
      BLKIF_ABI_X86_64.request.sectorNumber,
      BLKIF_ABI_X86_64.request.seg,
    ]).toEqual([8, 16, 24]);
    for (const abi of [BLKIF_ABI_X86_32, BLKIF_ABI_X86_64]) {
      const p = blkifProtocol(abi);
      expect(ringSize(slotSizeOf(p.request, p.response))).toBe(32);
      // Every variant fits in the request slot (blkif.h: sizeof(discard) <= sizeof(request)).
      expect(abi.discard.size).toBeLessThanOrEqual(abi.request.size);
      expect(abi.indirect.size).toBeLessThanOrEqual(abi.request.size);
    }
    expect(blkifAbiByName(undefined)).toBe(BLKIF_ABI_X86_32);
    expect(blkifAbiByName("x86_64-abi")).toBe(BLKIF_ABI_X86_64);
    expect(blkifAbiByName("arm-abi")).toBeNull();
  });

  describe.skipIf(!hasClang)(requires("compiled C structs", hasClang, "clang"), () => {
    for (const [target, abi] of [
      ["i686-unknown-none-elf", BLKIF_ABI_X86_32],
      ["x86_64-unknown-none-elf", BLKIF_ABI_X86_64],
    ] as const) {
      it(`offsets agree for ${target}`, () => {
        const dir = mkdtempSync(join(tmpdir(), "pvkit-blkif-"));
        const file = join(dir, "blkif.c");
        writeFileSync(file, cSource(abi));
        execFileSync("clang", [`--target=${target}`, "-ffreestanding", "-fsyntax-only", file]);
      });
    }
    it("a wrong table fails to compile (the check can fail)", () => {
      const dir = mkdtempSync(join(tmpdir(), "pvkit-blkif-"));
      const file = join(dir, "blkif.c");
      writeFileSync(file, cSource(BLKIF_ABI_X86_64));
      expect(() =>
        execFileSync("clang", ["--target=i686-unknown-none-elf", "-ffreestanding", "-fsyntax-only", file], {
          stdio: "pipe",
        }),
      ).toThrow();
    });
  });
});

describe("blkif codecs", () => {
  it("encodes a READ byte-exactly on x86_32", () => {
    const page = new LocalSharedPage();
    const req: BlkifRequest = {
      kind: "rw",
      operation: BlkifOp.Read,
      nrSegments: 2,
      handle: 0x1234,
      id: 0x1_0000_0002,
      sectorNumber: 0x5_0000_0006,
      segments: [
        { gref: 0xaabbccdd, firstSect: 1, lastSect: 7 },
        { gref: 9, firstSect: 0, lastSect: 3 },
      ],
    };
    blkifRequestCodec(BLKIF_ABI_X86_32).write(req, page, RING_HEADER_SIZE);
    const b = [...page.bytes.subarray(RING_HEADER_SIZE, RING_HEADER_SIZE + 36)];
    expect(b).toEqual([
      0,
      2,
      0x34,
      0x12, // operation, nr_segments, handle
      2,
      0,
      0,
      0,
      1,
      0,
      0,
      0, // id (u64 at 4)
      6,
      0,
      0,
      0,
      5,
      0,
      0,
      0, // sector_number (u64 at 12)
      0xdd,
      0xcc,
      0xbb,
      0xaa,
      1,
      7,
      0,
      0, // seg[0]
      9,
      0,
      0,
      0,
      0,
      3,
      0,
      0, // seg[1]
    ]);
    expect(blkifRequestCodec(BLKIF_ABI_X86_32).read(page, RING_HEADER_SIZE)).toEqual(req);
  });

  it("round-trips every variant on both ABIs and reads each field once", () => {
    const reqs: BlkifRequest[] = [
      {
        kind: "rw",
        operation: BlkifOp.Write,
        nrSegments: 11,
        handle: 3,
        id: 77,
        sectorNumber: 2 ** 40 + 5,
        segments: Array.from({ length: 11 }, (_, i) => ({ gref: 100 + i, firstSect: 0, lastSect: i % 8 })),
      },
      {
        kind: "rw",
        operation: BlkifOp.FlushDiskcache,
        nrSegments: 0,
        handle: 0,
        id: 1,
        sectorNumber: 0,
        segments: [],
      },
      {
        kind: "discard",
        operation: BlkifOp.Discard,
        flag: 1,
        handle: 2,
        id: 2 ** 33,
        sectorNumber: 1000,
        nrSectors: 2 ** 35,
      },
      {
        kind: "indirect",
        operation: BlkifOp.Indirect,
        indirectOp: BlkifOp.Read,
        nrSegments: 600,
        handle: 1,
        id: 5,
        sectorNumber: 9,
        indirectGrefs: [40, 41],
      },
      { kind: "unknown", operation: 9, id: 12345 },
    ];
    for (const abi of [BLKIF_ABI_X86_32, BLKIF_ABI_X86_64]) {
      const codec = blkifRequestCodec(abi);
      for (const req of reqs) {
        const local = new LocalSharedPage();
        codec.write(req, local, 64 + 108 * 0);
        const counting = new CountingSharedPage(local);
        expect(codec.read(counting, 64)).toEqual(req);
        expect(Math.max(...counting.reads)).toBe(1);
      }
    }
  });

  it("keeps an oversized nr_segments as data but reads at most 11 segments", () => {
    const page = new LocalSharedPage();
    page.bytes[64] = BlkifOp.Read;
    page.bytes[65] = 200;
    const r = blkifRequestCodec(BLKIF_ABI_X86_32).read(page, 64);
    expect(r.kind).toBe("rw");
    if (r.kind === "rw") {
      expect(r.nrSegments).toBe(200);
      expect(r.segments.length).toBe(11);
    }
  });

  it("responses carry a signed status and the 64-bit id", () => {
    for (const abi of [BLKIF_ABI_X86_32, BLKIF_ABI_X86_64]) {
      const page = new LocalSharedPage();
      const c = blkifResponseCodec(abi);
      c.write({ id: 2 ** 32 + 7, operation: BlkifOp.Write, status: BlkifStatus.EOpNotSupp }, page, 64);
      expect([...page.bytes.subarray(64, 76)]).toEqual([7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0xfe, 0xff]);
      expect(c.read(page, 64)).toEqual({ id: 2 ** 32 + 7, operation: BlkifOp.Write, status: -2 });
    }
  });
});
