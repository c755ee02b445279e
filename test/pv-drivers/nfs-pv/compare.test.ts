/** The nfs-mix workload's NfsPath: registration per profile, sharing figures, determinism. */
import { describe, expect, it } from "vitest";
import {
  EmulatedNfsPath,
  isUnavailable,
  NfsPathToken,
  PvNfsPath,
  profileContainer,
  REASONS,
  WORKLOADS,
} from "../../../src/compare/index.js";
import { CostTable } from "../../../src/machine/index.js";

const JOB = { guests: 3, files: 1, fileBytes: 32 * 1024, writes: 2 };

describe("compare: nfs-mix", () => {
  it("is registered: pv runs PvNfsPath, native/full the UDP path through the NE2000 (direct/trapped), full+pv says why not", () => {
    expect(WORKLOADS.find((w) => w.name === "nfs-mix")?.roles).toEqual(["NfsPath"]);
    expect(profileContainer("pv", "x86", CostTable).resolve(NfsPathToken)).toBeInstanceOf(PvNfsPath);
    const native = profileContainer("native", "x86", CostTable).resolve<EmulatedNfsPath>(NfsPathToken);
    const full = profileContainer("full", "x86", CostTable).resolve<EmulatedNfsPath>(NfsPathToken);
    expect([native.mode, full.mode]).toEqual(["direct", "trapped"]);
    const v = profileContainer("full+pv", "x86", CostTable).resolve(NfsPathToken);
    expect(isUnavailable(v) && v.unavailable).toBe(REASONS.nfsFullPv);
  });

  it("the emulated path carries the same RPCs over UDP/IP through trapped NE2000s to the same server", async () => {
    const job = { guests: 2, files: 1, fileBytes: 8 * 1024, writes: 1 };
    const f = await new EmulatedNfsPath("trapped").run(job);
    // MNT, READDIR, LOOKUP, GETATTR, 8 + 8 READs of 1 KiB (before and after the rewrite), CREATE,
    // 4 WRITEs of 1 KiB per guest; guest 0 also rewrites 4 KiB.
    expect(f.rpcs).toBe(2 * (1 + 1 + 1 + 1 + 8 + 1 + 4 + 8) + 4);
    expect(f.traps?.["port I/O"]).toBeGreaterThan(0);
    expect(f.worldSwitches).toBeGreaterThan(0);
    expect(f.bytesCopied).toBeGreaterThan(2 * 2 * job.fileBytes); // every READ's data crossed a card
    expect(f.bytesMapped).toBe(0);
  });

  it("file data takes one copy of the shared files on the map path, one per guest (plus the cache) on the copy path; runs repeat exactly", async () => {
    const map = await new PvNfsPath("map").run(JOB);
    const again = await new PvNfsPath("map").run(JOB);
    const copy = await new PvNfsPath("copy").run(JOB);
    expect(map.sharedPages).toBe(8);
    expect(map.dataFrames).toBe(8);
    expect(map.machineBytes).toBe(8 * 4096);
    expect(map.bytesCopied).toBe(0);
    expect(copy.dataFrames).toBe((JOB.guests + 1) * 8);
    // Every guest read the file twice (before and after the rewrite): 2 × 32 KiB each.
    expect(copy.bytesCopied).toBe(JOB.guests * 2 * JOB.fileBytes);
    expect(again.cycles).toBe(map.cycles);
    expect(again.hypercalls).toBe(map.hypercalls);
    expect(again.rpcs).toBe(map.rpcs);
  });
});
