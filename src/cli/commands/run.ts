/**
 * `pvkit run [--arch mips|x86] [--max-instructions N] [--stats] guest.elf`: runs a guest on the
 * simulated board of its architecture. Standard output carries the guest's console and nothing
 * else (so it can be piped and compared with QEMU's); diagnostics and statistics go to stderr.
 *
 * Exit status: the value the guest wrote to the exit port (port 0x501; only its low 8 bits
 * survive as a process status); 124 when --max-instructions stopped it; 125 when the board
 * stopped it (an exception with no handler, an exception loop, WAIT with nothing able to wake
 * the CPU); 1 for an image that cannot be loaded.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { FileDiskImage } from "../../machine/devices/ata-disk.js";
import {
  type Arch,
  archOfElf,
  costTableHash,
  createBoard,
  type GuestBoard,
  StopReason,
} from "../../machine/index.js";
import { runMipsCli } from "./run-full.js";

/** Exit statuses of `pvkit run` besides the guest's own. */
export const RunExit = { LoadError: 1, InstructionLimit: 124, BoardStop: 125 } as const;

export interface RunOptions {
  arch?: string;
  maxInstructions?: string | number;
  stats?: boolean;
  input?: string;
  stdin?: boolean;
  ramMib?: string | number;
  /** Raw disk image for the emulated IDE master (both boards; the PC adds PCI bus-master DMA). */
  disk?: string;
  /** NE2000 on the PC board: "loopback" (frames sent come back to it). */
  nic?: string;
}

/** Where `runGuest` writes; the CLI passes process.stdout/stderr, tests pass collectors. */
export interface RunIo {
  stdout: (data: Uint8Array) => void;
  stderr: (text: string) => void;
  /** Reads all of standard input (for --stdin). */
  readStdin?: () => Uint8Array;
  /** Lets the host event loop run between slices (Ctrl-C, pipes). */
  yieldToHost?: () => Promise<void>;
}

const ARCHES: readonly Arch[] = ["mips", "x86"];
/** Instructions between flushes of the console and yields to the host. */
const CHUNK = 50_000_000;

function parseCount(what: string, v: string | number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = typeof v === "number" ? v : Number(String(v).replace(/_/g, ""));
  if (!Number.isFinite(n) || n <= 0 || !Number.isInteger(n))
    throw new Error(`${what} must be a positive integer, got "${v}"`);
  return n;
}

/** Runs `file` and returns the process exit status. */
export async function runGuest(file: string, opts: RunOptions, io: RunIo): Promise<number> {
  const bytes = new Uint8Array(readFileSync(file));
  let arch: Arch;
  if (opts.arch !== undefined) {
    if (!ARCHES.includes(opts.arch as Arch))
      throw new Error(`--arch must be one of ${ARCHES.join(", ")}, got "${opts.arch}"`);
    arch = opts.arch as Arch;
  } else {
    const guessed = archOfElf(bytes);
    if (!guessed)
      throw new Error(`${file}: not an EM_MIPS or EM_386 ELF file; give --arch to say which board to use`);
    arch = guessed;
  }
  const limit = parseCount("--max-instructions", opts.maxInstructions, Number.POSITIVE_INFINITY);
  const ramBytes =
    opts.ramMib === undefined ? undefined : parseCount("--ram-mib", opts.ramMib, 0) * 1024 * 1024;

  // Console bytes are batched and flushed per chunk of instructions and at the end.
  let out = new Uint8Array(4096);
  let outLen = 0;
  const flush = () => {
    if (outLen > 0) io.stdout(out.slice(0, outLen));
    outLen = 0;
  };
  const input = opts.stdin ? io.readStdin?.() : opts.input;
  if (opts.nic !== undefined && opts.nic !== "loopback")
    throw new Error(`--nic: only "loopback" so far (frames sent come back), got "${opts.nic}"`);
  const disk = opts.disk !== undefined ? new FileDiskImage(opts.disk) : undefined;
  const board: GuestBoard = createBoard(arch, {
    ...(ramBytes !== undefined ? { ramBytes } : {}),
    ...(input !== undefined ? { input } : {}),
    ...(disk ? { disk } : {}),
    ...(opts.nic !== undefined ? { nic: { loopback: true } } : {}),
    console: (b) => {
      if (outLen === out.length) {
        const bigger = new Uint8Array(out.length * 2);
        bigger.set(out);
        out = bigger;
      }
      out[outLen++] = b;
    },
    warn: (m) => io.stderr(`pvkit: ${m}\n`),
  });
  board.loadGuest(bytes, file);

  const t0 = performance.now();
  let why: StopReason = StopReason.Budget;
  let done = 0;
  while (done < limit) {
    const before = instructionsOf(board);
    why = board.run(Math.min(CHUNK, limit - done));
    done += instructionsOf(board) - before;
    flush();
    if (why !== StopReason.Budget) break;
    if (io.yieldToHost) await io.yieldToHost();
  }
  const wallMs = performance.now() - t0;
  flush();
  disk?.close();

  let status: number;
  switch (why) {
    case StopReason.Exit:
      status = board.stop.exitCode & 0xff;
      if (board.stop.exitCode > 0xff) {
        io.stderr(
          `pvkit: the guest exited with ${board.stop.exitCode}; the process status keeps its low 8 bits (${status})\n`,
        );
      }
      break;
    case StopReason.Budget:
      io.stderr(
        `pvkit: stopped after ${done} instructions (--max-instructions ${limit})\n${board.diagnostic()}\n`,
      );
      status = RunExit.InstructionLimit;
      break;
    default:
      io.stderr(
        `pvkit: the machine stopped: ${board.stopDetail || StopReasonName[why]}\n${board.diagnostic()}\n`,
      );
      status = RunExit.BoardStop;
  }
  if (opts.stats) io.stderr(formatStats(arch, board, wallMs));
  return status;
}

const StopReasonName: Record<number, string> = {
  [StopReason.Budget]: "instruction budget",
  [StopReason.Idle]: "idle",
  [StopReason.Exit]: "exit",
  [StopReason.Trap]: "trap",
  [StopReason.Shutdown]: "shutdown",
};

function instructionsOf(board: GuestBoard): number {
  const n = board.stats().instructions;
  return typeof n === "number" ? n : 0;
}

/** `--stats` on stderr: counters, exceptions by cause, wall time. */
function formatStats(arch: Arch, board: GuestBoard, wallMs: number): string {
  const s = board.stats();
  const lines = [`pvkit stats (${arch} board, cost table ${costTableHash()})`];
  const pad = (k: string) => k.padEnd(24);
  for (const [k, v] of Object.entries(s)) {
    if (typeof v === "number") {
      lines.push(`  ${pad(k)}${v}`);
    } else {
      const entries = Object.entries(v);
      if (entries.length === 0) lines.push(`  ${pad(k)}none`);
      for (const [k2, v2] of entries) lines.push(`  ${pad(`${k}.${k2}`)}${v2}`);
    }
  }
  const instr = typeof s.instructions === "number" ? s.instructions : 0;
  const mips = wallMs > 0 ? instr / wallMs / 1000 : 0;
  lines.push(`  ${pad("wall time")}${(wallMs / 1000).toFixed(3)} s (${mips.toFixed(1)} M instructions/s)`);
  return `${lines.join("\n")}\n`;
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("Run a guest ELF on the simulated board of its architecture (guest console on stdout)")
    .argument(
      "<guest...>",
      "guest ELF file(s) (e.g. samples/guests/mips/hello.elf); several run as domains of one monitor",
    )
    .option(
      "--mode <mode>",
      "native (own board each), full (domains of the Disco or VMware-style monitor on one CPU) or pv (PV kernels: Disco PV mode on MIPS, the x86 PV mode of the VMware-style monitor on x86)",
    )
    .option("--arch <arch>", "mips or x86 (default: from the ELF's e_machine)")
    .option("--max-instructions <n>", "stop after N guest instructions (exit status 124)")
    .option("--stats", "print instructions, cycles, exceptions by cause and device counters on stderr")
    .option("--input <text>", "bytes the guest's console UART receives")
    .option("--stdin", "read all of standard input first and feed it to the guest's console UART")
    .option("--ram-mib <n>", "RAM size in MiB (default: the QEMU board's default, 128)")
    .option(
      "--disk <image>",
      "raw disk image as the IDE primary master (ports 0x1F0/0x3F6, ISA IRQ14; x86 adds PCI bus-master DMA)",
    )
    .option("--nic <mode>", "NE2000 at port 0x300, ISA IRQ9; mode: loopback (frames sent come back)")
    .option("--trace <kinds>", "with --mode full|pv: trace on stderr (hypercalls,events or all)")
    .addHelpText(
      "after",
      "\nExit status: the guest's exit-port value (low 8 bits); 124 at --max-instructions;\n125 when the board stops the guest (unhandled exception, exception loop, idle forever).",
    )
    .action(async (guests: string[], opts: RunOptions & { mode?: string; trace?: string }) => {
      const several = opts.mode !== undefined || guests.length > 1;
      process.exitCode = several
        ? await runMipsCli(guests, opts)
        : await runGuest(guests[0]!, opts, {
            stdout: (d) => process.stdout.write(d),
            stderr: (t) => process.stderr.write(t),
            readStdin: () => new Uint8Array(readFileSync(0)),
            yieldToHost: () => new Promise((resolve) => setImmediate(resolve)),
          });
    });
}
