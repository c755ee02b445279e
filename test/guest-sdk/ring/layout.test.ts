import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  LocalSharedPage,
  RING_HEADER_SIZE,
  RING_REQ_EVENT,
  RING_REQ_PROD,
  RING_RSP_EVENT,
  RING_RSP_PROD,
  ringSize,
  sharedRingInit,
} from "../../../src/guest-sdk/ring/index.js";
import { requires } from "../../setup/requires.js";

// The struct as declared by DEFINE_RING_TYPES in xen/include/public/io/ring.h (Xen 4.x), with a
// 108-byte request and 12-byte response as blkif on x86_32.
const C_SOURCE = `
#include <stddef.h>
#include <stdint.h>
typedef unsigned int RING_IDX;
struct req { uint8_t b[108]; };
struct rsp { uint8_t b[12]; };
union sring_entry { struct req req; struct rsp rsp; };
struct sring {
  RING_IDX req_prod, req_event;
  RING_IDX rsp_prod, rsp_event;
  union { struct { uint8_t smartpoll_active; } netif; struct { uint8_t msg; } tapif_user; uint8_t pvt_pad[4]; } pvt;
  uint8_t __pad[44];
  union sring_entry ring[1];
};
_Static_assert(offsetof(struct sring, req_prod) == ${RING_REQ_PROD}, "req_prod");
_Static_assert(offsetof(struct sring, req_event) == ${RING_REQ_EVENT}, "req_event");
_Static_assert(offsetof(struct sring, rsp_prod) == ${RING_RSP_PROD}, "rsp_prod");
_Static_assert(offsetof(struct sring, rsp_event) == ${RING_RSP_EVENT}, "rsp_event");
_Static_assert(offsetof(struct sring, ring) == ${RING_HEADER_SIZE}, "ring");
_Static_assert(sizeof(union sring_entry) == 108, "entry");
`;

const hasClang = existsSync("/usr/bin/clang");

describe("ring.h layout", () => {
  it("header offsets and sizes equal Xen's", () => {
    expect([RING_REQ_PROD, RING_REQ_EVENT, RING_RSP_PROD, RING_RSP_EVENT, RING_HEADER_SIZE]).toEqual([
      0, 4, 8, 12, 64,
    ]);
    // blkif x86_32 (108-byte request) and x86_64 (112) both give 32 slots; netif tx (12) 256.
    expect(ringSize(108)).toBe(32);
    expect(ringSize(112)).toBe(32);
    expect(ringSize(12)).toBe(256);
    expect(ringSize(8)).toBe(256);
    expect(ringSize(4032)).toBe(1);
    expect(() => ringSize(4033)).toThrow(/does not fit/);
  });

  it("SHARED_RING_INIT sets events to 1 and clears the private area", () => {
    const p = new LocalSharedPage();
    p.bytes.fill(0xaa);
    sharedRingInit(p);
    expect([p.read32(0), p.read32(4), p.read32(8), p.read32(12)]).toEqual([0, 1, 0, 1]);
    expect([...p.bytes.subarray(16, 64)].every((b) => b === 0)).toBe(true);
    expect(p.bytes[64]).toBe(0xaa);
  });

  describe.skipIf(!hasClang)(requires("compiled C struct", hasClang, "clang"), () => {
    for (const target of ["i686-unknown-none-elf", "mipsel-unknown-linux-gnu"]) {
      it(`offsets agree for ${target}`, () => {
        const dir = mkdtempSync(join(tmpdir(), "pvkit-ring-"));
        const file = join(dir, "ring.c");
        writeFileSync(file, C_SOURCE);
        // -fsyntax-only evaluates the _Static_asserts: a mismatch is a compile error.
        execFileSync("clang", [`--target=${target}`, "-ffreestanding", "-fsyntax-only", file]);
      });
    }
  });
});
