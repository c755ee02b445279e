/**
 * Hostile guests: random instruction streams (valid encodings from the decode table with random
 * operands, plus raw random words) run as full-virtualized guests — relinked (direct, ksseg) or
 * kseg0 (interpreted) — next to a hello domain, with the hypervisor's isolation oracle installed.
 * The monitor must never raise a host exception, no guest access may touch a frame outside its
 * domain, and the hello domain's output must be intact. A guest that hangs in an exception storm
 * is crashed with a diagnostic.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runFullVirt, runNative } from "../../../src/hypervisor/index.js";
import { OPCODES } from "../../../src/machine/mips/index.js";

const HELLO = "samples/guests/mips/hello.elf";
const helloBytes = new Uint8Array(readFileSync(HELLO));
const helloOut = runNative([{ name: "h", file: HELLO, bytes: helloBytes }], { out: () => {} })[0]!.output;

/** A word: a decode-table entry with random operand bits (mostly), or any 32-bit value. */
const word = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: OPCODES.length - 1 }), fc.integer({ min: 0, max: 0xffffffff }))
      .map(([i, r]) => {
        const d = OPCODES[i]!;
        return (d.match | (r & ~d.mask)) >>> 0;
      }),
    weight: 4,
  },
  { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 1 },
);

function image(code: number[], vec: number[]): Uint8Array {
  // Guest-physical 0..0x2000: refill vector at 0, general at 0x180, code at 0x1000.
  const img = new Uint32Array(0x2000 / 4);
  vec.forEach((w, i) => {
    img[i] = w;
    img[0x180 / 4 + i] = w;
  });
  code.forEach((w, i) => {
    img[0x1000 / 4 + i] = w;
  });
  return new Uint8Array(img.buffer);
}

describe("hostile full-virtualized guests (fast-check)", () => {
  it("random instruction streams: no host exception, no access outside the domain, neighbour intact", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(word, { minLength: 8, maxLength: 48 }),
        fc.array(word, { minLength: 0, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        async (body, vec, relinked, compileBlocks, clearStatus) => {
          // Half the streams first clear Status (BEV, ERL) so their exceptions reach the random vectors.
          const code = clearStatus ? [0x40806000, ...body] : body;
          const base = relinked ? 0xc0000000 : 0x80000000;
          const res = await runFullVirt(
            [
              {
                name: "rnd",
                file: "random",
                bytes: image(code, vec),
                raw: { physical: 0, entry: base + 0x1000, relinked },
              },
              { name: "hello", file: HELLO, bytes: helloBytes },
            ],
            {
              out: () => {},
              oracle: true,
              ramMib: 4,
              machineMib: 16,
              maxCycles: 150_000,
              sliceCycles: 20_000,
              compileBlocks,
            },
          );
          expect(res.hypervisor.oracleViolations).toEqual([]);
          const hello = res.domains[1]!;
          expect(hello.output).toBe(helloOut);
          expect(hello.state).toBe("shutdown");
          const rnd = res.domains[0]!;
          expect(["running", "shutdown", "crashed"]).toContain(rnd.state);
          if (rnd.state === "crashed") expect(rnd.diagnostic).toMatch(/PC 0x[0-9a-f]{8}/);
        },
      ),
      {
        numRuns: Number(process.env.PVKIT_FC_RUNS ?? 30),
        seed: Number(process.env.PVKIT_FC_SEED ?? 0x5d15c0),
      },
    );
  }, 120_000);

  it("an exception storm (vector full of faulting code) crashes that domain only, with a diagnostic", async () => {
    // The program clears Status (BEV, ERL) and loads from kuseg 0 with no TLB entry; the refill
    // and general vectors hold the same load, so every reflection faults again at once.
    const lwZero = 0x8c080000;
    const mtc0StatusZero = 0x40806000;
    const res = await runFullVirt(
      [
        {
          name: "storm",
          file: "storm",
          bytes: image([mtc0StatusZero, lwZero], [lwZero]),
          raw: { physical: 0, entry: 0xc0001000, relinked: true },
        },
        { name: "hello", file: HELLO, bytes: helloBytes },
      ],
      { out: () => {}, oracle: true, ramMib: 4, machineMib: 16, maxCycles: 50_000_000 },
    );
    const [storm, hello] = res.domains;
    expect(storm!.state).toBe("crashed");
    expect(storm!.diagnostic).toMatch(/exception storm: 64 exceptions in a row with no guest progress/);
    expect(storm!.diagnostic).toMatch(/PC 0xc0000180/);
    expect(storm!.diagnostic).toMatch(/last instructions/);
    expect(hello!.output).toBe(helloOut);
    expect(res.end).toBe("all-halted");
  });
});
