/**
 * `pvkit run --arch x86 --mode full|pv guest.elf [more…]`: x86 guests as fully virtualized domains
 * (VMware-style monitor, src/full-virt/x86) on one simulated i386 CPU, console lines prefixed
 * `[name] ` when several guests run, and with `--stats` the monitor's statistics per domain.
 *
 * `runFullVirtX86` is the adapter between the hypervisor (domains, machine memory, P2M,
 * scheduler, console) and the full-virt layer's x86 vCPUs; tests and benchmarks use it too.
 */
import { readFileSync } from "node:fs";
import { formatX86FullStats, guestNames, runX86Domains } from "../../hypervisor/index.js";
import { costTableHash, createBoard, StopReason } from "../../machine/index.js";

/**
 * The `--mode` path of `pvkit run` for x86 guests: `native` runs each on its own PC board,
 * `full` runs them as fully virtualized domains, `pv` as PV domains in the monitor's x86 PV mode
 * (Xen x86_32 PV kernels, docs/x86-pv-abi.md; exit status 0 for SCHEDOP_shutdown poweroff, 1
 * for any other reason). Exit status as for MIPS: the first nonzero
 * exit-port value (0 if all wrote 0), 125 if a domain crashed or a board stopped a guest, 124 if
 * the run hit --max-cycles with domains alive.
 */
export async function runX86Mode(
  files: readonly string[],
  opts: {
    mode?: string;
    stats?: boolean;
    ramMib?: string | number;
    maxCycles?: string | number;
    input?: string;
    trace?: string;
  },
  io: { stdout: (text: string) => void; stderr: (text: string) => void },
): Promise<number> {
  const mode = opts.mode ?? "native";
  if (mode !== "native" && mode !== "full" && mode !== "pv")
    throw new Error(`--mode must be native, full or pv, got "${mode}"`);
  const names = guestNames(files);
  const guests = files.map((f, i) => ({
    name: names[i]!,
    file: f,
    bytes: new Uint8Array(readFileSync(f)),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(mode === "pv" ? { pv: true } : {}),
  }));
  const ramMib = opts.ramMib === undefined ? undefined : Number(opts.ramMib);
  const out = (line: string) => io.stdout(`${line}\n`);
  const prefix = guests.length > 1;
  if (mode === "native") {
    const t0 = performance.now();
    let status = 0;
    const lines = [`pvkit stats (x86, native, cost table ${costTableHash()})`];
    for (const g of guests) {
      let partial = "";
      const board = createBoard("x86", {
        ...(ramMib ? { ramBytes: ramMib << 20 } : {}),
        ...(g.input !== undefined ? { input: g.input } : {}),
        console: (b) => {
          const ch = String.fromCharCode(b);
          if (ch === "\n") {
            out(prefix ? `[${g.name}] ${partial}` : partial);
            partial = "";
          } else partial += ch;
        },
      });
      board.loadGuest(g.bytes, g.file);
      const stop = board.run(4_000_000_000);
      if (partial) out(prefix ? `[${g.name}] ${partial}` : partial);
      const s = board.stats();
      lines.push(`  ${g.name}: ${s.instructions} instructions, ${s.cycles} cycles`);
      if (stop !== StopReason.Exit) {
        io.stderr(`pvkit: ${g.name}: ${board.diagnostic()}\n`);
        status = status || 125;
      } else if (status === 0) status = board.stop.exitCode & 0xff;
    }
    lines.push(`  wall time ${((performance.now() - t0) / 1000).toFixed(3)} s`);
    if (opts.stats) io.stderr(`${lines.join("\n")}\n`);
    return status;
  }
  const maxCycles = opts.maxCycles === undefined ? undefined : Number(opts.maxCycles);
  const res = await runX86Domains(guests, {
    out,
    ...(ramMib ? { ramMib } : {}),
    ...(maxCycles ? { maxCycles } : {}),
    ...(opts.trace ? { trace: { kinds: opts.trace, write: (l: string) => io.stderr(`${l}\n`) } } : {}),
  });
  for (const d of res.domains) if (d.diagnostic) io.stderr(`pvkit: domain crashed: ${d.diagnostic}\n`);
  if (opts.stats) io.stderr(formatX86FullStats(res));
  if (res.domains.some((d) => d.state === "crashed")) return 125;
  if (res.domains.some((d) => d.exitValue === null)) return 124;
  return (res.domains.find((d) => d.exitValue !== 0)?.exitValue ?? 0) & 0xff;
}
