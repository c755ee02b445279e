import { firstValueFrom, take, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { StoreError } from "../../../src/guest-sdk/errors.js";
import {
  encodeXsMessage,
  XS_REQ,
  XS_REQ_PROD,
  XS_RSP_PROD,
  XsType,
  xsStrings,
} from "../../../src/guest-sdk/store/index.js";
import { settle, setup } from "./harness.js";

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return "OK";
  } catch (e) {
    if (e instanceof StoreError) return e.code;
    throw e;
  }
};

describe("store daemon over the ring", () => {
  it("reads, writes, mkdir, directory, rm with relative paths under the domain's home", async () => {
    const { g, store } = setup([1]);
    const c = g(1).client;
    expect(await c.read("name")).toBe("guest1");
    await c.write("data/a/b", "hello");
    expect(store.hostRead("/local/domain/1/data/a/b")).toBe("hello");
    expect(await c.read("/local/domain/1/data/a/b")).toBe("hello");
    await c.mkdir("data/m");
    expect(await c.directory("data")).toEqual(["a", "m"]);
    await c.rm("data/a");
    expect(await c.directory("data")).toEqual(["m"]);
    expect(await code(c.read("data/a/b"))).toBe("ENOENT");
    expect(await c.getDomainPath(7)).toBe("/local/domain/7");
    expect(await c.getPerms("data/m")).toEqual(["n1"]);
    expect(await code(c.read("bad//path"))).toBe("EINVAL");
  });

  it("a guest sees only its subtree unless granted", async () => {
    const { g } = setup([1, 2]);
    const one = g(1).client;
    const two = g(2).client;
    expect(await code(one.read("/local/domain/2/name"))).toBe("EACCES");
    expect(await code(one.directory("/"))).toBe("EACCES");
    expect(await code(one.write("/local/domain/2/x", "1"))).toBe("EACCES");
    await two.write("data/shared", "for one");
    await two.setPerms("data/shared", ["n2", "r1"]);
    expect(await one.read("/local/domain/2/data/shared")).toBe("for one");
    expect(await code(one.write("/local/domain/2/data/shared", "no"))).toBe("EACCES");
    expect(await code(one.setPerms("/local/domain/2/data/shared", ["n1"]))).toBe("EACCES");
  });

  it("conflicting transactions: one commits, the other gets EAGAIN", async () => {
    const { g, store } = setup([1, 2]);
    store.hostWrite("/shared/counter", "0", ["n0", "b1", "b2"]);
    const one = g(1).client;
    const two = g(2).client;
    const t1 = Number(
      new TextDecoder().decode(await one.request(XsType.TransactionStart, xsStrings(""))).replace("\0", ""),
    );
    const t2 = Number(
      new TextDecoder().decode(await two.request(XsType.TransactionStart, xsStrings(""))).replace("\0", ""),
    );
    expect(t1).not.toBe(t2);
    const readIn = async (c: typeof one, tx: number) =>
      new TextDecoder().decode(await c.request(XsType.Read, xsStrings("/shared/counter"), tx));
    expect(await readIn(one, t1)).toBe("0");
    expect(await readIn(two, t2)).toBe("0");
    const enc = new TextEncoder();
    const w = (v: string) => new Uint8Array([...enc.encode("/shared/counter\0"), ...enc.encode(v)]);
    await one.request(XsType.Write, w("1"), t1);
    await two.request(XsType.Write, w("2"), t2);
    // Not visible outside the transaction before commit.
    expect(store.hostRead("/shared/counter")).toBe("0");
    expect(await code(one.request(XsType.TransactionEnd, xsStrings("T"), t1))).toBe("OK");
    expect(await code(two.request(XsType.TransactionEnd, xsStrings("T"), t2))).toBe("EAGAIN");
    expect(store.hostRead("/shared/counter")).toBe("1");
  });

  it("transaction() retries on EAGAIN until it commits", async () => {
    const { g, store } = setup([1, 2]);
    store.hostWrite("/shared/counter", "0", ["n0", "b1", "b2"]);
    const inc = (c: ReturnType<typeof g>["client"]) =>
      c.transaction(async (tx) => {
        const v = Number(await tx.read("/shared/counter"));
        await tx.write("/shared/counter", String(v + 1));
        return v;
      });
    const results = await Promise.all([
      inc(g(1).client),
      inc(g(2).client),
      inc(g(1).client),
      inc(g(2).client),
    ]);
    expect(store.hostRead("/shared/counter")).toBe("4");
    expect([...results].sort()).toEqual([0, 1, 2, 3]);
  });

  it("watches fire once on registration and on changes in the subtree", async () => {
    const { g, store } = setup([1]);
    const c = g(1).client;
    const events = firstValueFrom(c.watch("data/w").pipe(take(4), toArray()));
    await settle();
    await c.write("data/w/x", "1");
    await c.write("data/other", "not watched");
    store.hostWrite("/local/domain/1/data/w", "v");
    await c.rm("data/w");
    expect(await events).toEqual(["data/w", "data/w/x", "data/w", "data/w"]);
    expect(store.connectionStats(1)?.watches).toBe(0); // unsubscribed → UNWATCH
  });

  it("a watch below a removed node fires with its own path", async () => {
    const { g } = setup([1]);
    const c = g(1).client;
    await c.write("data/a/b/c", "1");
    const events = firstValueFrom(c.watch("/local/domain/1/data/a/b/c").pipe(take(2), toArray()));
    await settle();
    await c.rm("data/a");
    expect(await events).toEqual(["/local/domain/1/data/a/b/c", "/local/domain/1/data/a/b/c"]);
  });
});

describe("store quotas and hostile clients", () => {
  it("node, watch, transaction and value quotas give errors; the daemon stays up", async () => {
    const { g, store } = setup([1, 2], {
      maxNodesPerDomain: 12,
      maxWatchesPerDomain: 2,
      maxTransactionsPerDomain: 1,
    });
    const c = g(1).client;
    const owned = store.nodesOwnedBy(1);
    let err = "OK";
    for (let i = 0; err === "OK" && i < 50; i++) err = await code(c.write(`data/n${i}`, "x"));
    expect(err).toBe("ENOSPC");
    expect(store.nodesOwnedBy(1)).toBe(12);
    expect(owned).toBeLessThan(12);
    await c.request(XsType.Watch, xsStrings("data", "t1"));
    await c.request(XsType.Watch, xsStrings("data", "t2"));
    expect(await code(c.request(XsType.Watch, xsStrings("data", "t3")))).toBe("E2BIG");
    await c.request(XsType.TransactionStart, xsStrings(""));
    expect(await code(c.request(XsType.TransactionStart, xsStrings("")))).toBe("ENOSPC");
    expect(await code(c.write("data/n0", "y".repeat(2049)))).toBe("ENOSPC");
    // Domain 2 is unaffected.
    await g(2).client.write("data/fine", "yes");
    expect(await g(2).client.read("data/fine")).toBe("yes");
  });

  it("a message over XENSTORE_PAYLOAD_MAX gets E2BIG and only that connection is dropped", async () => {
    const { g, store } = setup([1, 2]);
    const { page, server } = g(1);
    const hdr = encodeXsMessage({ type: XsType.Write, reqId: 42, txId: 0, payload: new Uint8Array(0) });
    new DataView(hdr.buffer).setUint32(12, 5000, true); // claims 5000 bytes of payload
    for (let i = 0; i < hdr.length; i++) page.write8(XS_REQ + i, hdr[i]!);
    page.write32(XS_REQ_PROD, hdr.length);
    server.onNotification();
    expect(server.broken).toMatch(/^E2BIG/);
    expect(page.read32(XS_RSP_PROD)).toBe(16 + 6); // one ERROR reply: header + "E2BIG\0"
    expect(page.read32(1024 + 4)).toBe(42); // its req_id echoes the offending request's
    expect(store.isConnected(1)).toBe(false);
    expect(await g(2).client.read("name")).toBe("guest2");
  });

  it("corrupt ring indices break only that connection (EIO)", async () => {
    const { g } = setup([1, 2]);
    g(1).page.write32(XS_REQ_PROD, 5000);
    g(1).server.onNotification();
    expect(g(1).server.broken).toMatch(/^EIO/);
    await g(2).client.write("data/x", "1");
    expect(await g(2).client.read("data/x")).toBe("1");
  });

  it("a large reply wraps the 1024-byte ring and arrives intact", async () => {
    const { g } = setup([1]);
    const c = g(1).client;
    const big = "z".repeat(2000);
    for (let i = 0; i < 3; i++) {
      await c.write(`data/big${i}`, big);
      expect(await c.read(`data/big${i}`)).toBe(big);
    }
  });
});

describe("watch delivery across domains", () => {
  it("a change by one domain reaches another domain's watch without it sending anything", async () => {
    const { g, store } = setup([1, 2]);
    store.hostWrite("/shared/flag", "0", ["n0", "b1", "b2"]);
    const seen: string[] = [];
    g(1)
      .client.watch("/shared/flag")
      .subscribe((p) => seen.push(p));
    await settle();
    expect(seen).toEqual(["/shared/flag"]);
    await g(2).client.write("/shared/flag", "1");
    await settle();
    expect(seen).toEqual(["/shared/flag", "/shared/flag"]);
  });
});

describe("domain introduction", () => {
  it("INTRODUCE/RELEASE are dom0's; they fire @introduceDomain and @releaseDomain", async () => {
    const { g, store } = setup([0, 1]);
    const introduced: Array<[number, number, number]> = [];
    store.onIntroduce = (d, f, p) => introduced.push([d, f, p]);
    const events: string[] = [];
    g(0)
      .client.watch("@introduceDomain")
      .subscribe((p) => events.push(p));
    g(0)
      .client.watch("@releaseDomain")
      .subscribe((p) => events.push(p));
    await settle();
    expect(await code(g(1).client.request(XsType.Introduce, xsStrings("7", "100", "3")))).toBe("EACCES");
    await g(0).client.request(XsType.Introduce, xsStrings("7", "100", "3"));
    await settle();
    expect(introduced).toEqual([[7, 100, 3]]);
    expect(
      new TextDecoder().decode(await g(1).client.request(XsType.IsDomainIntroduced, xsStrings("7"))),
    ).toBe("T\0");
    await g(0).client.request(XsType.Release, xsStrings("7"));
    await settle();
    expect(
      new TextDecoder().decode(await g(1).client.request(XsType.IsDomainIntroduced, xsStrings("7"))),
    ).toBe("F\0");
    expect(events).toEqual(["@introduceDomain", "@releaseDomain", "@introduceDomain", "@releaseDomain"]);
  });
});
