import { describe, expect, it } from "vitest";
import { BufferCache, type CacheFrames } from "../../../src/pv-drivers/index.js";

/** Frames as plain arrays; `mapped` stands for grants a front end holds mapped. */
function fakeFrames(limit = 1000) {
  const content = new Map<number, Uint8Array>();
  const grants = new Map<number, { domid: number; pfn: number }>();
  const mapped = new Set<number>();
  let nextPfn = 100;
  let nextRef = 8;
  const frames: CacheFrames = {
    allocFrame: () => (nextPfn - 100 < limit ? nextPfn++ : -1),
    fill: (pfn, data) => {
      const page = new Uint8Array(4096);
      page.set(data);
      content.set(pfn, page);
    },
    grantReadOnly: (domid, pfn) => {
      const ref = nextRef++;
      grants.set(ref, { domid, pfn });
      return ref;
    },
    inUse: (ref) => mapped.has(ref),
    endAccess: (ref) => {
      if (mapped.has(ref)) throw new Error("ended a mapped grant");
      grants.delete(ref);
    },
  };
  return { frames, content, grants, mapped };
}

describe("BufferCache", () => {
  it("shares one frame among domains: one grant per domain, counted as shared", () => {
    const f = fakeFrames();
    const c = new BufferCache(f.frames, 8);
    c.validate("f", "v1");
    const p = c.put("f", 0, new Uint8Array([1, 2, 3]))!;
    const refs = [1, 2, 3].map((d) => c.grantFor(p, d));
    expect(new Set(refs).size).toBe(3);
    expect(c.grantFor(p, 2)).toBe(refs[1]);
    expect(c.stats.sharedGrants).toBe(2);
    expect(c.framesInUse).toBe(1);
    expect(c.sharedPages).toBe(1);
    expect([...f.grants.values()].every((g) => g.pfn === p.pfn)).toBe(true);
  });

  it("a version change drops the pages; a mapped page is retired with its old bytes, never refilled", () => {
    const f = fakeFrames();
    const c = new BufferCache(f.frames, 8);
    c.validate("f", "v1");
    const old = c.put("f", 0, new Uint8Array([1]))!;
    const ref = c.grantFor(old, 5);
    f.mapped.add(ref);
    c.validate("f", "v2");
    expect(c.peek("f", 0)).toBeUndefined();
    expect(c.retiredPages).toBe(1);
    const fresh = c.put("f", 0, new Uint8Array([2]))!;
    expect(fresh.pfn).not.toBe(old.pfn);
    expect(f.content.get(old.pfn)![0]).toBe(1);
    expect(f.content.get(fresh.pfn)![0]).toBe(2);
    // Unmapped: the retired frame comes back and its grant is ended.
    f.mapped.delete(ref);
    expect(c.reclaim()).toBe(1);
    expect(f.grants.has(ref)).toBe(false);
    expect(c.framesInUse).toBe(1);
  });

  it("evicts the least recently used unmapped page when full; ENOSPC (null) when every frame is mapped", () => {
    const f = fakeFrames();
    const c = new BufferCache(f.frames, 2);
    c.validate("f", "v");
    const a = c.put("f", 0, new Uint8Array(1))!;
    c.put("f", 1, new Uint8Array(1));
    expect(c.lookup("f", 0)).toBe(a); // 0 becomes most recently used
    c.put("f", 2, new Uint8Array(1));
    expect(c.peek("f", 1)).toBeUndefined();
    expect(c.peek("f", 0)).toBeDefined();
    expect(c.stats.evictions).toBe(1);
    for (const i of [0, 2]) f.mapped.add(c.grantFor(c.peek("f", i)!, 1));
    expect(c.put("f", 3, new Uint8Array(1))).toBeNull();
    expect(c.stats.hits).toBe(1);
  });

  it("invalidate drops a file; forgetDomain ends a departed domain's unmapped grants", () => {
    const f = fakeFrames();
    const c = new BufferCache(f.frames, 4);
    c.validate("f", "v");
    const p = c.put("f", 0, new Uint8Array(1))!;
    c.grantFor(p, 1);
    c.grantFor(p, 2);
    c.forgetDomain(1);
    expect(p.grants.map((g) => g.domid)).toEqual([2]);
    c.invalidate("f");
    expect(c.residentPages).toBe(0);
    expect(c.versionOf("f")).toBeUndefined();
    expect(f.grants.size).toBe(0);
  });
});
