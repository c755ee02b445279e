/**
 * Bus-master DMA for TS guests: IdeDisk with a PIIX3-style bus master whose PRD addresses are
 * guest-physical, resolved through the domain's P2M. Data round-trips; a PRD (or PRD table)
 * outside the domain moves nothing, sets BMIS.Error, and leaves every other domain's memory
 * as it was (isolation oracle on).
 */
import { describe, expect, it } from "vitest";
import {
  IDE_BUS_MASTER_BASE,
  type IdeRunGuest,
  runIde,
} from "../../../samples/ts-guests/emulated/run-ide.js";
import {
  AtaCommand,
  AtaPort,
  BMIC_START,
  BMIC_WRITE_MEMORY,
  BMIS_ERROR,
  BusMaster,
  PRD_EOT,
  type TsGuest,
} from "../../../src/guest-sdk/index.js";
import { launchTsGuest } from "../../../src/hypervisor/index.js";
import { MemoryDiskImage, PAGE_SIZE } from "../../../src/machine/index.js";

const pattern = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 29 + seed) & 0xff);

describe("IdeDisk over bus-master DMA", () => {
  it("writes and reads through PRDs in the guest's memory, few register accesses per request", async () => {
    const image = new MemoryDiskImage(2048);
    let back: Uint8Array | null = null;
    let perRequest = 0;
    let r0: IdeRunGuest | null = null;
    const r = await runIde({
      mode: "trapped",
      oracle: true,
      guests: [
        {
          image,
          busMaster: true,
          workload: async (disk) => {
            const io = r0!.io;
            const a0 = io.accesses;
            await disk.write(1000, pattern(8192, 3)); // 16 sectors: one DMA command
            perRequest = io.accesses - a0;
            back = await disk.read(1000, 16);
          },
        },
      ],
      before: (_hv, gs) => {
        r0 = gs[0]!;
      },
    });
    expect(r.guests[0]!.guest.failure).toBeNull();
    expect(back).toEqual(pattern(8192, 3));
    expect(image.bytes.subarray(1000 * 512, 1016 * 512)).toEqual(pattern(8192, 3));
    // Task file (5) + command + BMIDTP + BMIS clear + BMIC start + Status + BMIC stop + BMIS read + clear.
    expect(perRequest).toBe(13);
    expect(r.guests[0]!.channel.sectorsWritten).toBe(16);
    expect(r.hv.oracleViolations).toHaveLength(0);
  });

  it("a PRD outside the domain moves nothing and sets BMIS.Error; the neighbour is intact", async () => {
    const image = new MemoryDiskImage(64);
    image.bytes.set(pattern(512, 9), 0);
    const findings: { bmis: number; status: number }[] = [];
    let neighbourDomain: { domid: number } | null = null;
    let snapshot: () => number[] = () => [];
    const r = await runIde({
      mode: "trapped",
      oracle: true,
      guests: [
        {
          image,
          busMaster: true,
          pages: 32,
          workload: async (_disk, ctx) => {
            const io = ctx.io!;
            const bm = IDE_BUS_MASTER_BASE;
            const prd = 20 * PAGE_SIZE;
            // Targets: past the end of its 32 pages; the neighbour's machine address as if it
            // were guest-physical (6 MiB, well inside the machine); and a PRD table outside.
            for (const [table, target] of [
              [prd, 32 * PAGE_SIZE],
              [prd, 6 << 20],
              [64 * PAGE_SIZE, 0],
              // pfn 25: its P2M entry made to name a neighbour's frame (as a foreign mapping does).
              [prd, 25 * PAGE_SIZE],
            ] as const) {
              if (table === prd) {
                ctx.mem.write32(prd, target);
                ctx.mem.write32(prd + 4, (PRD_EOT | 512) >>> 0);
              }
              io.write(bm + BusMaster.BMIDTP, 4, table);
              io.write(bm + BusMaster.BMIS, 1, 0x06);
              io.write(0x1f0 + AtaPort.SECTOR_COUNT, 1, 1);
              io.write(0x1f0 + AtaPort.LBA_LOW, 1, 0);
              io.write(0x1f0 + AtaPort.LBA_MID, 1, 0);
              io.write(0x1f0 + AtaPort.LBA_HIGH, 1, 0);
              io.write(0x1f0 + AtaPort.DEVICE, 1, 0xe0);
              io.write(0x1f0 + AtaPort.COMMAND, 1, AtaCommand.READ_DMA);
              io.write(bm + BusMaster.BMIC, 1, BMIC_START | BMIC_WRITE_MEMORY);
              await io.waitForInterrupt(1 << 14);
              const status = io.read(0x1f0 + AtaPort.STATUS, 1);
              io.write(bm + BusMaster.BMIC, 1, 0);
              findings.push({ bmis: io.read(bm + BusMaster.BMIS, 1), status });
            }
          },
        },
      ],
      before: (hv, gs) => {
        const neighbour: TsGuest = { name: "neighbour", main: async () => {} };
        const n = launchTsGuest(hv, neighbour, { pages: 16, paused: true });
        neighbourDomain = n.domain;
        gs[0]!.domain.p2m.set(25, n.domain.p2m.lookup(3));
        // Fill the neighbour's pages with a known byte.
        for (let pfn = 0; pfn < 16; pfn++) {
          const mfn = n.domain.p2m.lookup(pfn);
          hv.memory.writeBytes(mfn * PAGE_SIZE, new Uint8Array(PAGE_SIZE).fill(0xa5));
        }
        snapshot = () => {
          const out: number[] = [];
          for (let pfn = 0; pfn < 16; pfn++)
            out.push(...hv.memory.readBytes(n.domain.p2m.lookup(pfn) * PAGE_SIZE, PAGE_SIZE).subarray(0, 64));
          return out;
        };
      },
    });
    expect(r.guests[0]!.guest.failure).toBeNull();
    expect(findings).toHaveLength(4);
    for (const f of findings) {
      expect(f.bmis & BMIS_ERROR).toBe(BMIS_ERROR);
      expect(f.status & 0x01).toBe(0); // the drive itself finished; the bus master reports
    }
    expect(neighbourDomain).not.toBeNull();
    expect(snapshot().every((b) => b === 0xa5)).toBe(true);
    expect(r.hv.oracleViolations).toHaveLength(0);
    expect(r.guests[0]!.domain.state).toBe("shutdown");
  });
});
