/**
 * The x86 sample guests print the same natively (PcBoard) and fully virtualized (the monitor):
 * hello and the kernel sample run to completion both ways; compute.elf (~260 M instructions,
 * about 3 minutes fully virtualized because ring-1 code is interpreted) is shortened: both runs
 * stop after its first result line (crc32, printed after ~23 M instructions) and must agree.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createBoard } from "../../../src/machine/index.js";
import { loadSample, makeMachine } from "./harness.js";

function native(path: string, maxInstructions = 4e9): { out: string; exit: number } {
  let out = "";
  const board = createBoard("x86", { console: (b) => (out += String.fromCharCode(b)) });
  board.loadGuest(new Uint8Array(readFileSync(path)), path);
  board.run(maxInstructions);
  return { out, exit: board.stop.exitCode };
}

describe("x86 samples: native vs full virtualization", () => {
  it("hello.elf prints the same and exits 0", () => {
    const n = native("samples/guests/x86/hello.elf");
    const m = makeMachine(64);
    const d = m.addDomain();
    loadSample(d, "samples/guests/x86/hello.elf");
    m.run(1e8);
    expect(d.crash).toBeNull();
    expect(d.output).toBe(n.out);
    expect(d.exit).toBe(0);
    // Every UART byte and the exit-port write trapped (#GP) and was emulated.
    expect(d.vcpu.stats.ioEmulations).toBeGreaterThan(n.out.length);
    expect(d.vcpu.stats.trapsByVector[13]).toBe(d.vcpu.stats.ioEmulations);
  });

  it("the kernel sample (GDT/IDT/TSS, paging, two ring-3 processes on the PIT) prints the same", () => {
    const n = native("samples/guests/x86/kernel/kernel.elf");
    const m = makeMachine(96);
    const d = m.addDomain({ ramMib: 32 });
    loadSample(d, "samples/guests/x86/kernel/kernel.elf");
    m.run(3e8);
    expect(d.crash).toBeNull();
    expect(d.output).toBe(n.out);
    expect(d.output).toContain("timer preempted the compute process: yes");
    expect(d.exit).toBe(0);
    const s = d.vcpu.stats;
    // 4000 null syscalls and the rest: int 0x80 from ring 3 reflected through the virtual IDT.
    expect(s.reflectedByVector[0x80]).toBeGreaterThanOrEqual(4000);
    expect(s.interrupts).toBeGreaterThan(0);
    expect(s.breakpointHits.get("iretw|iret")).toBeGreaterThan(4000);
    expect(s.shadowBuilds).toBeGreaterThanOrEqual(3);
    expect(s.shadowReuses).toBeGreaterThan(100);
    expect(s.trackedPtWrites).toBeGreaterThan(0);
    expect(s.truePageFaults).toBeGreaterThanOrEqual(129);
    expect(s.truePageFaults).toBe(s.reflectedByVector[14]);
    expect(s.hiddenPageFaults).toBeGreaterThan(0);
  }, 60_000);

  it("compute.elf (shortened to its first result: 25 M instructions / cycles) prints the same", () => {
    const n = native("samples/guests/x86/compute.elf", 25e6);
    expect(n.out).toMatch(/^compute: crc32 [0-9a-f]{8}\n$/);
    const m = makeMachine(64);
    const d = m.addDomain();
    loadSample(d, "samples/guests/x86/compute.elf");
    m.run(25e6);
    expect(d.crash).toBeNull();
    expect(d.output).toBe(n.out);
  }, 60_000);
});
