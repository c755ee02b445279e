/** The nfs-mix workload's NfsPath: registration per profile, sharing figures, determinism. */
import { describe, expect, it } from "vitest";
import {
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
  it("is registered: pv runs PvNfsPath, the emulated (UDP/NE2000) and full+pv cells say why not", () => {
    expect(WORKLOADS.find((w) => w.name === "nfs-mix")?.roles).toEqual(["NfsPath"]);
    expect(profileContainer("pv", "x86", CostTable).resolve(NfsPathToken)).toBeInstanceOf(PvNfsPath);
    for (const p of ["native", "full"] as const) {
      const v = profileContainer(p, "x86", CostTable).resolve(NfsPathToken);
      expect(isUnavailable(v) && v.unavailable).toBe(REASONS.nfsEmulated);
    }
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
