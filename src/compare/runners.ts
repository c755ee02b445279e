/**
 * Providers of the `GuestRunner` role: one machine-code guest image run natively on its board or
 * fully virtualized through the hypervisor (Disco on MIPS, the VMware-style monitor on x86).
 * Profiles register them (profiles.ts); workloads only see the role.
 */

import { disco } from "../full-virt/index.js";
import { runFullVirt, runFullVirtX86, runNative, runX86Domains } from "../hypervisor/index.js";
import { type CostName, createBoard, StopReason } from "../machine/index.js";
import type { CellFigures } from "./types.js";

export interface GuestImage {
  readonly name: string;
  readonly file: string;
  readonly bytes: Uint8Array;
}

export interface GuestRunResult {
  readonly figures: CellFigures;
  readonly output: string;
  /** The guest reached its exit port with 0 (false when capped by the budget). */
  readonly finished: boolean;
  readonly diagnostic: string;
}

/** The role: run one image; `budget` caps the run (native: instructions, full: cycles). */
export interface GuestRunner {
  run(image: GuestImage, budget?: number): Promise<GuestRunResult>;
}

type Costs = Readonly<Record<CostName, number>>;

const X86_VECTOR_NAMES: Readonly<Record<number, string>> = {
  3: "#BP (patched IRET/PUSHF…)",
  13: "#GP (privileged, I/O)",
  14: "#PF",
  32: "timer IRQ",
  128: "int 0x80",
};

export class MipsNativeRunner implements GuestRunner {
  async run(image: GuestImage, budget?: number): Promise<GuestRunResult> {
    const t0 = performance.now();
    const r = runNative([image], { out: () => {}, ...(budget ? { maxInstructions: budget } : {}) })[0]!;
    return {
      figures: { cycles: r.cycles, instructions: r.instructions, wallMs: performance.now() - t0 },
      output: r.output,
      finished: r.exitValue === 0,
      diagnostic: r.diagnostic,
    };
  }
}

/** Disco: the image fully virtualized, or with `pv` as a PV domain (Disco's PV mode, docs/mips-pv-abi.md). */
export class MipsFullRunner implements GuestRunner {
  constructor(
    private readonly costs: Costs,
    private readonly pv = false,
  ) {}

  async run(image: GuestImage, budget?: number): Promise<GuestRunResult> {
    const res = await runFullVirt([{ ...image, ...(this.pv ? { pv: true } : {}) }], {
      out: () => {},
      costs: this.costs,
      ...(budget ? { maxCycles: budget } : {}),
    });
    const d = res.domains[0]!;
    const s = d.stats;
    const traps: Record<string, number> = {};
    // Rows 0–2 are direct and interpreted execution (instructions), the rest monitor work.
    // The domain's hypercalls (monitor calls of a PV kernel, console/shutdown of the others).
    let hypercalls = 0;
    for (let id = 0; id < 8; id++) {
      const dom = res.hypervisor.domain(id);
      if (dom?.name === d.name) for (const n of dom.stats.hypercallsByNumber) hypercalls += n;
    }
    for (let i = 3; i < disco.DISCO_ROW_NAMES.length; i++)
      if (s.counts[i]) traps[disco.DISCO_ROW_NAMES[i]!] = s.counts[i]!;
    return {
      figures: {
        cycles: res.cycles,
        instructions: s.counts[0]! + s.counts[1]! + s.counts[2]!,
        traps,
        worldSwitches: s.worldSwitches,
        monitorCycles: d.monitorCycles,
        hypercalls,
        machineBytes: s.pagesAllocated * 4096,
        wallMs: res.wallMs,
      },
      output: d.output,
      finished: d.exitValue === 0,
      diagnostic: d.diagnostic ?? (d.exitValue === 0 ? "" : d.state),
    };
  }
}

export class X86NativeRunner implements GuestRunner {
  async run(image: GuestImage, budget?: number): Promise<GuestRunResult> {
    let output = "";
    const board = createBoard("x86", { console: (b) => (output += String.fromCharCode(b)) });
    board.loadGuest(image.bytes, image.file);
    const t0 = performance.now();
    const stop = board.run(budget ?? 4e9);
    const wallMs = performance.now() - t0;
    const st = board.stats();
    const finished = stop === StopReason.Exit && board.stop.exitCode === 0;
    return {
      figures: { cycles: Number(st.cycles), instructions: Number(st.instructions), wallMs },
      output,
      finished,
      diagnostic: finished ? "" : board.diagnostic(),
    };
  }
}

/**
 * The image as a PV domain in the x86 PV mode of the VMware-style monitor (docs/x86-pv-abi.md):
 * traps are the exceptions and software interrupts bounced to the guest, by vector; hypercalls
 * are every `int $0x82`.
 */
export class X86PvRunner implements GuestRunner {
  constructor(private readonly costs: Costs) {}

  async run(image: GuestImage, budget?: number): Promise<GuestRunResult> {
    const res = await runX86Domains([{ ...image, pv: true }], {
      out: () => {},
      costs: this.costs,
      ...(budget ? { maxCycles: budget } : {}),
    });
    const d = res.domains[0]!;
    const v = res.vcpus[0]!;
    const s = "bouncesByVector" in d.stats ? d.stats : null;
    const traps: Record<string, number> = {};
    let hypercalls = 0;
    if (s) {
      s.bouncesByVector.forEach((n, vec) => {
        if (n) traps[X86_VECTOR_NAMES[vec] ?? `vector ${vec}`] = n;
      });
      if (s.upcalls) traps["event upcall"] = s.upcalls;
      for (const n of s.hypercallsByNumber) hypercalls += n;
    }
    return {
      figures: {
        cycles: res.cycles,
        instructions: v.machine.cpu.stats.instructions,
        traps,
        worldSwitches: s?.worldSwitches ?? 0,
        monitorCycles: d.monitorCycles,
        hypercalls,
        wallMs: res.wallMs,
      },
      output: d.output,
      finished: d.exitValue === 0,
      diagnostic: d.diagnostic ?? (d.exitValue === 0 ? "" : d.state),
    };
  }
}

export class X86FullRunner implements GuestRunner {
  constructor(private readonly costs: Costs) {}

  async run(image: GuestImage, budget?: number): Promise<GuestRunResult> {
    const res = await runFullVirtX86([image], {
      out: () => {},
      ramMib: 32,
      costs: this.costs,
      ...(budget ? { maxCycles: budget } : {}),
    });
    const d = res.domains[0]!;
    const traps: Record<string, number> = {};
    let worldSwitches = 0;
    d.stats.trapsByVector.forEach((n, v) => {
      if (n) {
        traps[X86_VECTOR_NAMES[v] ?? `vector ${v}`] = n;
        worldSwitches += n;
      }
    });
    return {
      figures: {
        cycles: res.cycles,
        instructions: res.vcpus[0]!.machine.cpu.stats.instructions,
        traps,
        worldSwitches,
        monitorCycles: d.monitorCycles,
        wallMs: res.wallMs,
      },
      output: d.output,
      finished: d.exitValue === 0,
      diagnostic: d.diagnostic ?? (d.exitValue === 0 ? "" : d.state),
    };
  }
}
