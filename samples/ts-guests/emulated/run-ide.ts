/**
 * Runs TS guests on emulated IDE disks, one machine: each guest domain gets its own IDE channel
 * (and, with `busMaster`, a PIIX3-style bus master) on its private port bus, over a raw image
 * file — the format FileBlockStore writes — trapped (`full`) or direct (`native`).
 *
 *   npx tsx samples/ts-guests/emulated/run-ide.ts [image-file] [trapped|direct]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Domain,
  Hypervisor,
  launchTsGuest,
  type PortIoMode,
  type TsGuestPortIo,
} from "../../../src/hypervisor/index.js";
import {
  type CostName,
  type DiskImage,
  FileDiskImage,
  IDE_PRIMARY_IRQ,
  IdeBusMaster,
  IdeChannel,
  PhysicalMemory,
} from "../../../src/machine/index.js";
import { FileBlockStore } from "../../../src/pv-drivers/index.js";
import { IdeGuest, type IdeWorkload } from "./ide-guest.js";

/** The bus-master base the runner wires (QEMU pc's PIIX3 BAR4 default, 0xC000). */
export const IDE_BUS_MASTER_BASE = 0xc000;

export interface IdeRunOptions {
  guests: { image: DiskImage; workload: IdeWorkload; pages?: number; busMaster?: boolean }[];
  mode: PortIoMode;
  costs?: Readonly<Record<CostName, number>>;
  /** Isolation oracle on the machine memory (tests). */
  oracle?: boolean;
  /** Machine memory in bytes (default 32 MiB). */
  memoryBytes?: number;
  /** Called with the machine and the guests (domain, port I/O, channel) before they start. */
  before?: (hv: Hypervisor, guests: readonly IdeRunGuest[]) => void;
}

export interface IdeRunGuest {
  readonly guest: IdeGuest;
  readonly domain: Domain;
  readonly io: TsGuestPortIo;
  readonly channel: IdeChannel;
}

export async function runIde(o: IdeRunOptions) {
  const hv = new Hypervisor({
    memory: new PhysicalMemory(o.memoryBytes ?? 32 << 20),
    ...(o.costs ? { costs: o.costs } : {}),
    ...(o.oracle ? { oracle: true } : {}),
  });
  const guests = o.guests.map((g): IdeRunGuest => {
    const guest = new IdeGuest(g.workload, g.busMaster ? { busMaster: IDE_BUS_MASTER_BASE } : {});
    let channel: IdeChannel | null = null;
    const d = launchTsGuest(hv, guest, {
      paused: true,
      pages: g.pages ?? 64,
      devices: {
        mode: o.mode,
        attach: (h) => {
          channel = new IdeChannel(h.bus, h.clock, g.image, { irq: h.irq(IDE_PRIMARY_IRQ) });
          if (g.busMaster) new IdeBusMaster(h.bus, IDE_BUS_MASTER_BASE, h.dma, channel);
        },
      },
    });
    if (!d.backend.io || !channel) throw new Error("emulated devices were not attached");
    return { guest, domain: d.domain, io: d.backend.io, channel };
  });
  o.before?.(hv, guests);
  for (const g of guests) hv.unpause(g.domain.domid);
  const end = await hv.run(50_000_000_000);
  return { hv, end, guests };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2] || join(mkdtempSync(join(tmpdir(), "pvkit-ide-")), "disk.img");
  if (!process.argv[2]) FileBlockStore.create(path, 8192).close();
  const mode = (process.argv[3] ?? "trapped") as PortIoMode;
  const image = new FileDiskImage(path);
  const r = await runIde({
    mode,
    guests: [
      {
        image,
        workload: async (disk) => {
          const data = new Uint8Array(16 * 512).map((_, i) => (i * 7 + 3) & 0xff);
          await disk.write(100, data);
          const back = await disk.read(100, 16);
          await disk.flush();
          console.log(
            `ide: ${disk.sectors} sectors; wrote 16 at 100, read back ${back.every((b, i) => b === data[i]) ? "identical" : "DIFFERENT"}; flushed`,
          );
        },
      },
    ],
  });
  image.close();
  const g = r.guests[0]!;
  console.log(
    `${mode}: ${g.io.calls} port instructions, ${g.io.accesses} register accesses, ${g.io.interrupts} interrupts, ${g.guest.timing.cycles} cycles; run ended ${r.end}`,
  );
}
