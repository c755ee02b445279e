/**
 * netif wire layouts: sizes, offsets, flag and status values as in
 * xen/include/public/io/netif.h — checked by hand and, where clang is installed, by compiling
 * the C structs (copied from netif.h) with _Static_assert against our tables, for i386 and
 * x86_64 (netif has no ABI-dependent field). Codecs round-trip and read each field once.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CountingSharedPage, LocalSharedPage, ringSize, slotSizeOf } from "../../../src/guest-sdk/index.js";
import {
  defaultMac,
  formatMac,
  NETIF_RX_REQUEST,
  NETIF_RX_RESPONSE,
  NETIF_TX_REQUEST,
  NETIF_TX_RESPONSE,
  NetifStatus,
  NetRxFlag,
  NetTxFlag,
  netifRxProtocol,
  netifRxRequestCodec,
  netifRxResponseCodec,
  netifTxProtocol,
  netifTxRequestCodec,
  netifTxResponseCodec,
  parseMac,
} from "../../../src/pv-drivers/index.js";
import { requires } from "../../setup/requires.js";

describe("netif layouts (netif.h)", () => {
  it("has netif.h's sizes and offsets", () => {
    expect(NETIF_TX_REQUEST).toEqual({ size: 12, gref: 0, offset: 4, flags: 6, id: 8, reqSize: 10 });
    expect(NETIF_TX_RESPONSE).toEqual({ size: 4, id: 0, status: 2 });
    expect(NETIF_RX_REQUEST).toEqual({ size: 8, id: 0, pad: 2, gref: 4 });
    expect(NETIF_RX_RESPONSE).toEqual({ size: 8, id: 0, offset: 2, flags: 4, status: 6 });
  });

  it("gives 256 slots per page on both rings", () => {
    const tx = slotSizeOf(netifTxProtocol.request, netifTxProtocol.response);
    const rx = slotSizeOf(netifRxProtocol.request, netifRxProtocol.response);
    expect(tx).toBe(12);
    expect(rx).toBe(8);
    expect(ringSize(tx)).toBe(256);
    expect(ringSize(rx)).toBe(256);
  });

  it("has netif.h's flag and status values", () => {
    expect(NetTxFlag).toEqual({ CsumBlank: 1, DataValidated: 2, MoreData: 4, ExtraInfo: 8 });
    expect(NetRxFlag).toEqual({ DataValidated: 1, CsumBlank: 2, MoreData: 4, ExtraInfo: 8, GsoPrefix: 16 });
    expect(NetifStatus).toEqual({ Dropped: -2, Error: -1, Okay: 0, Null: 1 });
  });

  it("encodes little-endian at the documented offsets", () => {
    const p = new LocalSharedPage();
    netifTxRequestCodec.write(
      { gref: 0x11223344, offset: 0x0102, flags: 0x0004, id: 0xbeef, size: 1514 },
      p,
      100,
    );
    expect([p.read8(100), p.read8(103), p.read16(104), p.read16(106), p.read16(108), p.read16(110)]).toEqual([
      0x44, 0x11, 0x0102, 4, 0xbeef, 1514,
    ]);
    netifRxResponseCodec.write(
      { id: 7, offset: 12, flags: NetRxFlag.MoreData, status: NetifStatus.Error },
      p,
      200,
    );
    expect(p.read16(206)).toBe(0xffff);
    expect(netifRxResponseCodec.read(p, 200)).toEqual({ id: 7, offset: 12, flags: 4, status: -1 });
    netifTxResponseCodec.write({ id: 3, status: NetifStatus.Dropped }, p, 300);
    expect(netifTxResponseCodec.read(p, 300)).toEqual({ id: 3, status: -2 });
    netifRxRequestCodec.write({ id: 9, gref: 0xfffffff0 }, p, 400);
    expect(p.read16(402)).toBe(0); // pad
    expect(netifRxRequestCodec.read(p, 400)).toEqual({ id: 9, gref: 0xfffffff0 });
  });

  it("reads each request field exactly once (RING_COPY_REQUEST)", () => {
    const p = new CountingSharedPage(new LocalSharedPage());
    netifTxRequestCodec.write({ gref: 1, offset: 2, flags: 3, id: 4, size: 5 }, p, 0);
    netifTxRequestCodec.read(p, 0);
    // One read at each field's offset, none elsewhere.
    const touched = [...p.reads.entries()].filter(([, n]) => n > 0);
    expect(touched).toEqual([
      [0, 1],
      [4, 1],
      [6, 1],
      [8, 1],
      [10, 1],
    ]);
  });

  it("parses and formats MACs; the default uses Xen's OUI", () => {
    expect(formatMac(defaultMac(3))).toBe("00:16:3e:00:03:00");
    expect(parseMac("00:16:3E:0a:0b:0c")).toEqual(Uint8Array.of(0, 0x16, 0x3e, 10, 11, 12));
    expect(parseMac("00:16:3e:0a:0b")).toBeNull();
    expect(parseMac("00:16:3e:0a:0b:zz")).toBeNull();
    expect(parseMac(undefined)).toBeNull();
  });
});

const hasClang = existsSync("/usr/bin/clang");
const dir = mkdtempSync(join(tmpdir(), "pvkit-netif-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasClang)(requires("compiled netif.h structs", hasClang, "clang"), () => {
  // The structs as netif.h declares them (grant_ref_t is uint32_t, grant_table.h).
  const src = (
    t: typeof NETIF_TX_REQUEST,
    u: typeof NETIF_TX_RESPONSE,
    q: typeof NETIF_RX_REQUEST,
    r: typeof NETIF_RX_RESPONSE,
  ) => `
typedef unsigned int uint32_t; typedef unsigned short uint16_t; typedef short int16_t;
typedef uint32_t grant_ref_t;
struct netif_tx_request { grant_ref_t gref; uint16_t offset; uint16_t flags; uint16_t id; uint16_t size; };
struct netif_tx_response { uint16_t id; int16_t status; };
struct netif_rx_request { uint16_t id; uint16_t pad; grant_ref_t gref; };
struct netif_rx_response { uint16_t id; uint16_t offset; uint16_t flags; int16_t status; };
#define OF(s, f) __builtin_offsetof(struct s, f)
_Static_assert(sizeof(struct netif_tx_request) == ${t.size}, "tx req size");
_Static_assert(OF(netif_tx_request, gref) == ${t.gref} && OF(netif_tx_request, offset) == ${t.offset} && OF(netif_tx_request, flags) == ${t.flags} && OF(netif_tx_request, id) == ${t.id} && OF(netif_tx_request, size) == ${t.reqSize}, "tx req");
_Static_assert(sizeof(struct netif_tx_response) == ${u.size} && OF(netif_tx_response, status) == ${u.status}, "tx rsp");
_Static_assert(sizeof(struct netif_rx_request) == ${q.size} && OF(netif_rx_request, gref) == ${q.gref} && OF(netif_rx_request, pad) == ${q.pad}, "rx req");
_Static_assert(sizeof(struct netif_rx_response) == ${r.size} && OF(netif_rx_response, offset) == ${r.offset} && OF(netif_rx_response, flags) == ${r.flags} && OF(netif_rx_response, status) == ${r.status}, "rx rsp");
`;
  for (const target of ["i686-unknown-none-elf", "x86_64-unknown-none-elf"]) {
    it(`matches clang's layout for ${target}`, () => {
      const file = join(dir, `netif-${target}.c`);
      writeFileSync(file, src(NETIF_TX_REQUEST, NETIF_TX_RESPONSE, NETIF_RX_REQUEST, NETIF_RX_RESPONSE));
      execFileSync("clang", [`--target=${target}`, "-ffreestanding", "-fsyntax-only", file]);
    });
  }

  it("fails to compile when a table is wrong (the check can fail)", () => {
    const file = join(dir, "netif-wrong.c");
    writeFileSync(
      file,
      src({ ...NETIF_TX_REQUEST, id: 10 } as never, NETIF_TX_RESPONSE, NETIF_RX_REQUEST, NETIF_RX_RESPONSE),
    );
    expect(() =>
      execFileSync("clang", ["--target=i686-unknown-none-elf", "-ffreestanding", "-fsyntax-only", file], {
        stdio: "pipe",
      }),
    ).toThrow();
  });
});
