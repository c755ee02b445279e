import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LocalSharedPage, ringSize } from "../../../src/guest-sdk/index.js";
import {
  inlineReplySegRoom,
  NFSIF_INLINE_REQUEST,
  NFSIF_INLINE_RESPONSE,
  NFSIF_SLOT_SIZE,
  type NfsifRequest,
  type NfsifResponse,
  nfsifRequestCodec,
  nfsifResponseCodec,
} from "../../../src/pv-drivers/index.js";

describe("nfsif codecs", () => {
  it("a 248-byte slot gives a 16-slot ring", () => {
    expect(nfsifRequestCodec.size).toBe(NFSIF_SLOT_SIZE);
    expect(ringSize(NFSIF_SLOT_SIZE)).toBe(16);
  });

  it("requests round-trip (inline record with reply grefs after it, or page grefs)", () => {
    const page = new LocalSharedPage();
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: NFSIF_INLINE_REQUEST }),
        fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 16 }),
        fc.boolean(),
        fc.nat({ max: 0xffffffff }),
        (record, refs, inline, id) => {
          const req: NfsifRequest = inline
            ? {
                id,
                operation: 1,
                nrSegs: 0,
                nrReplySegs: Math.min(refs.length, inlineReplySegRoom(record.length)),
                flags: 0,
                recordLen: record.length,
                replyMax: 4096,
                inline: record,
                grefs: refs.slice(0, inlineReplySegRoom(record.length)),
              }
            : {
                id,
                operation: 1,
                nrSegs: Math.max(1, refs.length),
                nrReplySegs: 0,
                flags: 0,
                recordLen: 5000,
                replyMax: 164,
                inline: new Uint8Array(0),
                grefs: refs.length > 0 ? refs : [7],
              };
          nfsifRequestCodec.write(req, page, 64);
          const back = nfsifRequestCodec.read(page, 64);
          expect(back).toEqual({ ...req, inline: inline ? record : new Uint8Array(0) });
        },
      ),
    );
  });

  it("responses round-trip; int16 status keeps its sign", () => {
    const page = new LocalSharedPage();
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: NFSIF_INLINE_RESPONSE }),
        fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 16 }),
        fc.integer({ min: -32768, max: 32767 }),
        (reply, refs, status) => {
          const rsp: NfsifResponse = {
            id: 9,
            status,
            flags: 0,
            recordLen: reply.length,
            dataLen: refs.length * 4096,
            dataOffset: 12,
            dataGrefs: refs,
            inline: reply,
          };
          nfsifResponseCodec.write(rsp, page, 64);
          expect(nfsifResponseCodec.read(page, 64)).toEqual(rsp);
        },
      ),
    );
  });

  it("an inline record_len beyond the slot is read as no record (the back end answers E2BIG)", () => {
    const page = new LocalSharedPage();
    page.write32(64 + 8, 100_000); // record_len
    const req = nfsifRequestCodec.read(page, 64);
    expect(req.recordLen).toBe(100_000);
    expect(req.inline.length).toBe(0);
  });
});
