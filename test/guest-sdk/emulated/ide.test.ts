/**
 * The emulated IDE path of TS guests: the IdeDisk driver through trapped and direct port I/O on
 * a raw image file. Data crosses to the PV path's FileBlockStore and back; costs are exactly the
 * cost table's per trap, register access and interrupt; hostile requests get ATA status or crash
 * only the offender, under the isolation oracle.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBlk } from "../../../samples/ts-guests/blk/run-blk.js";
import { type IdeRunGuest, runIde } from "../../../samples/ts-guests/emulated/run-ide.js";
import { AtaError, type GuestContext, type TsGuest } from "../../../src/guest-sdk/index.js";
import { Hypervisor, launchTsGuest } from "../../../src/hypervisor/index.js";
import {
  CostTable,
  FileDiskImage,
  IDE_PRIMARY_IRQ,
  IdeChannel,
  MemoryDiskImage,
  PhysicalMemory,
} from "../../../src/machine/index.js";
import { FileBlockStore } from "../../../src/pv-drivers/index.js";

const dir = mkdtempSync(join(tmpdir(), "pvkit-ide-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pattern = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 13 + seed) & 0xff);

describe("IdeDisk through the trapped port interface", () => {
  it("writes the image format FileBlockStore reads, and reads what FileBlockStore wrote", async () => {
    const path = join(dir, "shared.img");
    const store = FileBlockStore.create(path, 4096);
    const fromPv = pattern(8 * 512, 7);
    store.write(2000, fromPv); // the PV back end's store writes sectors 2000–2007
    store.close();
    const image = new FileDiskImage(path);
    const fromIde = pattern(24 * 512, 99); // 24 sectors: two commands (16 + 8)
    let seen: Uint8Array | null = null;
    let sectors = 0;
    const r = await runIde({
      mode: "trapped",
      oracle: true,
      guests: [
        {
          image,
          workload: async (disk) => {
            sectors = disk.sectors;
            await disk.write(40, fromIde);
            seen = await disk.read(2000, 8);
            await disk.flush();
          },
        },
      ],
    });
    image.close();
    expect(r.guests[0]!.guest.failure).toBeNull();
    expect(r.end).toBe("all-halted");
    expect(sectors).toBe(4096);
    expect(seen).toEqual(fromPv);
    const back = FileBlockStore.open(path);
    const got = new Uint8Array(24 * 512);
    back.read(40, got);
    back.close();
    expect(got).toEqual(fromIde);
    expect(r.hv.oracleViolations).toHaveLength(0);
    // And a PV guest (blkfront ↔ blkback on the same file) reads what the IDE guest wrote.
    const store2 = FileBlockStore.open(path);
    let viaPv: Uint8Array | null = null;
    const pv = await runBlk({
      guests: [
        {
          store: store2,
          workload: async (disk) => {
            viaPv = await disk.read(40, 24);
          },
        },
      ],
    });
    store2.close();
    expect(pv.fronts[0]!.guest.failure).toBeNull();
    expect(Buffer.from(viaPv!).equals(Buffer.from(fromIde))).toBe(true);
  });

  it("charges worldSwitch per port instruction, emulateDeviceRegister per access, injection per interrupt", async () => {
    const figures: Record<string, { ws: number; mon: number; guest: number; cycles: number }> = {};
    const counts: Record<string, { calls: number; accesses: number; interrupts: number }> = {};
    let cur: IdeRunGuest | null = null;
    for (const mode of ["trapped", "direct"] as const) {
      let base = { ws: 0, mon: 0, guest: 0, cycles: 0, calls: 0, accesses: 0, interrupts: 0 };
      const r = await runIde({
        mode,
        guests: [
          {
            image: new MemoryDiskImage(1024),
            workload: async (disk, ctx) => {
              const g = cur!;
              const s = g.domain.stats;
              base = {
                ws: s.worldSwitches,
                mon: s.monitorCycles,
                guest: s.guestCycles,
                cycles: ctx.now(),
                calls: g.io.calls,
                accesses: g.io.accesses,
                interrupts: g.io.interrupts,
              };
              await disk.write(8, pattern(4096, 1));
              expect(await disk.read(8, 8)).toEqual(pattern(4096, 1));
            },
          },
        ],
        before: (_hv, guests) => {
          cur = guests[0]!;
        },
      });
      const g = r.guests[0]!;
      const s = g.domain.stats;
      figures[mode] = {
        ws: s.worldSwitches - base.ws,
        mon: s.monitorCycles - base.mon,
        guest: s.guestCycles - base.guest,
        cycles: g.guest.timing.cycles,
      };
      counts[mode] = {
        calls: g.io.calls - base.calls,
        accesses: g.io.accesses - base.accesses,
        interrupts: g.io.interrupts - base.interrupts,
      };
    }
    const C = CostTable;
    const t = counts.trapped!;
    // One 4 KiB write and one read in multiple mode: each a task file (5 OUTs), a command, one
    // 1024-dword REP and a Status read; the write polls Alternate Status once.
    expect(t.accesses - t.calls).toBe(2 * 1023);
    expect(t.interrupts).toBe(2);
    expect(counts.direct).toEqual(t); // the same driver code path
    expect(figures.trapped!.ws).toBe(t.calls + t.interrupts);
    expect(figures.trapped!.mon).toBe(
      t.calls * C.worldSwitch +
        t.accesses * C.emulateDeviceRegister +
        t.interrupts * (C.worldSwitch + C.emulatePrivileged),
    );
    expect(figures.direct!.ws).toBe(0);
    expect(figures.direct!.mon).toBe(0);
    // Native: the bus accesses are guest time; full costs more by exactly the monitor's part.
    expect(figures.direct!.guest).toBeGreaterThanOrEqual(t.accesses * C.deviceRegister);
    expect(figures.trapped!.cycles).toBeGreaterThan(figures.direct!.cycles);
  });
});

describe("hostile requests", () => {
  it("a sector beyond the disk is an ATA abort (status 0x41, error ABRT); the disk stays usable", async () => {
    const errs: unknown[] = [];
    let after: Uint8Array | null = null;
    const r = await runIde({
      mode: "trapped",
      oracle: true,
      guests: [
        {
          image: new MemoryDiskImage(256),
          workload: async (disk) => {
            for (const op of [() => disk.read(250, 8), () => disk.write(256, new Uint8Array(512))]) {
              try {
                await op();
              } catch (e) {
                errs.push(e);
              }
            }
            after = await disk.read(248, 8);
          },
        },
      ],
    });
    expect(r.guests[0]!.guest.failure).toBeNull();
    expect(errs).toHaveLength(2);
    for (const e of errs) {
      expect(e).toBeInstanceOf(AtaError);
      expect((e as AtaError).status).toBe(0x41);
      expect((e as AtaError).error).toBe(0x04);
    }
    // The read delivered nothing past 255: the abort came at the first DRQ block (250 + 8 > 256).
    expect((errs[0] as AtaError).command).toBe(0xc4);
    expect(after).toEqual(new Uint8Array(8 * 512));
    expect(r.guests[0]!.domain.state).toBe("shutdown");
  });

  it("bad port, width or string range crash only the offending domain", async () => {
    const hv = new Hypervisor({ memory: new PhysicalMemory(8 << 20), oracle: true });
    const launch = (guest: TsGuest, image: MemoryDiskImage) =>
      launchTsGuest(hv, guest, {
        pages: 32,
        devices: {
          mode: "trapped",
          attach: (h) => void new IdeChannel(h.bus, h.clock, image, { irq: h.irq(IDE_PRIMARY_IRQ) }),
        },
      });
    const victimImage = new MemoryDiskImage(64);
    const hostileImage = new MemoryDiskImage(64);
    const attacks: ((ctx: GuestContext) => unknown)[] = [
      (ctx) => ctx.io!.read(0x10000, 1),
      (ctx) => ctx.io!.write(0x1f0, 3 as 1, 0),
      // 2 MiB of REP INSD from the data port into memory the guest does not have.
      (ctx) => ctx.io!.readString(0x1f0, 4, 30 * 4096, 0x10000),
      (ctx) => ctx.io!.waitForInterrupt(1 << 16),
    ];
    const doms = attacks.map((attack) =>
      launch({ name: "hostile", main: async (ctx) => void (await attack(ctx)) }, hostileImage),
    );
    let victimRead: Uint8Array | null = null;
    const victim = launch(
      {
        name: "victim",
        main: async (ctx) => {
          const { IdeDisk } = await import("../../../src/guest-sdk/index.js");
          const disk = new IdeDisk(ctx);
          await disk.init();
          await disk.write(0, pattern(4096, 5));
          victimRead = await disk.read(0, 8);
        },
      },
      victimImage,
    );
    await hv.run(1_000_000_000);
    for (const d of doms) {
      expect(d.domain.state).toBe("crashed");
      expect(d.domain.crashDiagnostic).toMatch(/port|width|outside its memory|mask/);
    }
    expect(victim.domain.state).toBe("shutdown");
    expect(victimRead).toEqual(pattern(4096, 5));
    expect(hostileImage.bytes.every((b) => b === 0)).toBe(true);
    expect(hv.oracleViolations).toHaveLength(0);
  });
});
