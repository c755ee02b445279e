/**
 * The built package's DI resolves (DESIGN.md "Dependency injection": esbuild emits no decorator
 * metadata, so explicit tokens must work from dist/). Skipped when dist/ was not built.
 */
import "reflect-metadata";
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const DIST = `${process.cwd()}/dist/compare/index.js`;
const built = existsSync(DIST);

describe.skipIf(!built)("built pvkit/compare resolves its roles (skipped: run `npm run build` first)", () => {
  it("profiles register runners and reasons under explicit tokens", async () => {
    const m = await import(pathToFileURL(DIST).href);
    const costs = (await import(pathToFileURL(`${process.cwd()}/dist/machine/index.js`).href)).CostTable;
    const native = m.profileContainer("native", "mips", costs);
    expect(native.resolve(m.GuestRunnerToken)).toBeInstanceOf(m.MipsNativeRunner);
    const full = m.profileContainer("full", "x86", costs);
    expect(full.resolve(m.GuestRunnerToken)).toBeInstanceOf(m.X86FullRunner);
    const pv = m.profileContainer("pv", "x86", costs);
    expect(pv.resolve(m.GuestRunnerToken)).toBeInstanceOf(m.X86PvRunner);
    expect(pv.resolve(m.GuestFilesToken).kernelSample).toBe("x86/pv-kernel/pv-kernel.elf");
    const fullPv = m.profileContainer("full+pv", "x86", costs);
    expect(m.isUnavailable(fullPv.resolve(m.GuestRunnerToken))).toBe(true);
    expect(fullPv.resolve(m.GuestFilesToken).kernelSample.unavailable).toMatch(/PV/);
  });
});
