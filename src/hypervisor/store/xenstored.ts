/**
 * The store daemon (a XenStore in the spirit of C xenstored, tools/xenstore/xenstored_core.c):
 * a tree of nodes with Xen permissions, watches, transactions and per-domain quotas, spoken
 * to in the xsd_sockmsg wire format (xen/include/public/io/xs_wire.h).
 *
 * Transport-independent: `handle(domid, msg)` runs one request and replies through the
 * connection's sink; `StoreRingServer` carries messages over a guest's store ring page, and the
 * toolstack uses the `host*` methods as the privileged local client. Errors go back as an
 * ERROR message whose payload is the errno name ("ENOENT\0"); a misbehaving client only ever
 * gets errors — the daemon and other domains are unaffected.
 *
 * Transactions work on a private snapshot of the tree and record the generation of every node
 * they read or change; TRANSACTION_END "T" commits only if none of those nodes changed since
 * (else EAGAIN, and the client retries), which is the per-node conflict check of xenstored
 * since Xen 4.9.
 */
import {
  formatPerm,
  parsePerm,
  permits,
  type StorePerm,
  splitXsStrings,
  XENSTORE_ABS_PATH_MAX,
  XENSTORE_PAYLOAD_MAX,
  XENSTORE_REL_PATH_MAX,
  type XsMessage,
  XsType,
  xsBytes,
  xsStrings,
  xsText,
} from "../../hypercalls/index.js";
import { PvkitError } from "../../machine/errors.js";
import {
  cloneTree,
  components,
  isUnder,
  lookup,
  newNode,
  parentPath,
  type StoreNode,
  walk,
} from "./store-tree.js";

/**
 * Per-domain limits. Defaults are C xenstored's: payload XENSTORE_PAYLOAD_MAX (xs_wire.h),
 * quota-nodes 1000 (ENOSPC), quota-watches 128 (E2BIG), quota-transactions 10 (ENOSPC),
 * quota-entry-size 2048 (ENOSPC). Dom0 is exempt, as in xenstored.
 */
export interface StoreQuotas {
  maxPayload: number;
  maxNodesPerDomain: number;
  maxWatchesPerDomain: number;
  maxTransactionsPerDomain: number;
  maxValueSize: number;
}

export const DEFAULT_STORE_QUOTAS: Readonly<StoreQuotas> = {
  maxPayload: XENSTORE_PAYLOAD_MAX,
  maxNodesPerDomain: 1000,
  maxWatchesPerDomain: 128,
  maxTransactionsPerDomain: 10,
  maxValueSize: 2048,
};

/** Receives the daemon's replies and watch events for one connection. */
export type StoreSink = (msg: XsMessage) => void;

/** One request as the daemon saw it (for `--trace store` and tests). */
export interface StoreTraceEvent {
  domid: number;
  type: number;
  txId: number;
  /** First string of the payload (usually the path). */
  arg: string;
  /** "OK" or the errno name. */
  result: string;
}

/** Callback for INTRODUCE: the hypervisor side wires the domain's ring page and event channel. */
export type IntroduceHandler = (domid: number, storeFrame: number, port: number) => void;

/** JSON form of a store tree (what `--store-dump` writes and `pvkit store-ls` prints). */
export interface StoreDumpNode {
  value: string;
  perms: string[];
  children: Record<string, StoreDumpNode>;
}

/** A host-API call (toolstack) failed; `code` is the errno name the store would have sent. */
export class StoreDaemonError extends PvkitError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

class XsFail {
  constructor(readonly code: string) {}
}

interface Watch {
  path: string;
  token: string;
  /** Registered with a relative path: events are reported relative too. */
  relative: boolean;
}

type Op =
  | { kind: "write"; path: string; value: Uint8Array }
  | { kind: "mkdir"; path: string }
  | { kind: "rm"; path: string }
  | { kind: "setperms"; path: string; perms: StorePerm[] };

interface Tx {
  id: number;
  domid: number;
  root: StoreNode;
  /** Generation of each node the transaction touched, as first seen (−1: absent). */
  accessed: Map<string, number>;
  ops: Op[];
}

interface Conn {
  domid: number;
  sink: StoreSink;
  watches: Watch[];
  txs: Map<number, Tx>;
}

interface Ctx {
  domid: number;
  root: StoreNode;
  tx: Tx | undefined;
  /** Paths changed by this operation: (path, recursive) for watch firing. */
  changed: Array<[string, boolean]>;
}

const PATH_CHARS = /^[A-Za-z0-9\-/_@]+$/;
const OK = xsStrings("OK");

export class XenStore {
  root: StoreNode;
  private gen = 1;
  private nextTxId = 1;
  private readonly conns = new Map<number, Conn>();
  private readonly introduced = new Set<number>([0]);
  readonly quotas: StoreQuotas;
  /** Called for every request handled (trace hook); null when nobody listens. */
  onTrace: ((e: StoreTraceEvent) => void) | null = null;
  /** Called when dom0 sends INTRODUCE. */
  onIntroduce: IntroduceHandler | null = null;

  constructor(quotas: Partial<StoreQuotas> = {}) {
    this.quotas = { ...DEFAULT_STORE_QUOTAS, ...quotas };
    // Root owned by dom0, no access for others: a guest sees only what the toolstack grants.
    this.root = newNode([{ domid: 0, perm: "n" }], this.gen);
  }

  /** Opens (or replaces) the connection of `domid`; replies and watch events go to `sink`. */
  connect(domid: number, sink: StoreSink): void {
    this.disconnect(domid);
    this.conns.set(domid, { domid, sink, watches: [], txs: new Map() });
  }

  /** Closes the connection of `domid`: its watches and open transactions are dropped. */
  disconnect(domid: number): void {
    this.conns.delete(domid);
  }

  isConnected(domid: number): boolean {
    return this.conns.has(domid);
  }

  /** Number of watches and open transactions of a domain (tests, dumps). */
  connectionStats(domid: number): { watches: number; transactions: number } | undefined {
    const c = this.conns.get(domid);
    return c ? { watches: c.watches.length, transactions: c.txs.size } : undefined;
  }

  /** Handles one request of `domid`; the reply goes to the domain's sink. */
  handle(domid: number, msg: XsMessage): void {
    const conn = this.conns.get(domid);
    if (!conn) return;
    let reply: Uint8Array;
    let replyType = msg.type;
    let result = "OK";
    const post: Array<() => void> = [];
    const strings = splitXsStrings(msg.payload);
    try {
      if (msg.payload.length > this.quotas.maxPayload) throw new XsFail("E2BIG");
      reply = this.dispatch(conn, msg, strings, post);
    } catch (e) {
      if (!(e instanceof XsFail)) throw e;
      replyType = XsType.Error;
      result = e.code;
      reply = xsStrings(e.code);
    }
    conn.sink({ type: replyType, reqId: msg.reqId, txId: msg.txId, payload: reply });
    this.onTrace?.({ domid, type: msg.type, txId: msg.txId, arg: strings[0] ?? "", result });
    for (const f of post) f();
  }

  // --- host API: the toolstack is dom0 talking to its local daemon --------------------------

  hostRead(path: string): string | undefined {
    const n = lookup(this.root, path);
    return n ? xsText(n.value) : undefined;
  }

  hostDirectory(path: string): string[] {
    const n = lookup(this.root, path);
    return n ? [...n.children.keys()].sort() : [];
  }

  /** Writes as dom0 (creating parents); `perms` (Xen strings, e.g. ["n5", "r0"]) if given. */
  hostWrite(path: string, value: string, perms?: string[]): void {
    this.hostDo((c) => {
      this.opWrite(c, path, xsBytes(value));
      if (perms) this.opSetPerms(c, path, this.parsePerms(perms));
    });
  }

  hostMkdir(path: string, perms?: string[]): void {
    this.hostDo((c) => {
      this.opMkdir(c, path);
      if (perms) this.opSetPerms(c, path, this.parsePerms(perms));
    });
  }

  hostRm(path: string): void {
    this.hostDo((c) => {
      if (lookup(c.root, path)) this.opRm(c, path);
    });
  }

  hostSetPerms(path: string, perms: string[]): void {
    this.hostDo((c) => this.opSetPerms(c, path, this.parsePerms(perms)));
  }

  hostGetPerms(path: string): string[] | undefined {
    return lookup(this.root, path)?.perms.map(formatPerm);
  }

  /** Marks a domain introduced (its ring is served) and fires @introduceDomain. */
  hostIntroduce(domid: number): void {
    this.introduced.add(domid);
    this.fireSpecial("@introduceDomain");
  }

  /** Forgets a domain (destroyed): closes its connection and fires @releaseDomain. */
  hostRelease(domid: number): void {
    this.introduced.delete(domid);
    this.disconnect(domid);
    this.fireSpecial("@releaseDomain");
  }

  /** The whole tree as JSON (values as UTF-8 text). */
  dump(path = "/"): StoreDumpNode | undefined {
    const n = lookup(this.root, path);
    return n ? dumpNode(n) : undefined;
  }

  /** Number of nodes owned by `domid` (quota accounting). */
  nodesOwnedBy(domid: number, root: StoreNode = this.root): number {
    let count = 0;
    walk(root, "/", (n) => {
      if (n.perms[0]?.domid === domid) count++;
    });
    return count;
  }

  // --- request dispatch ---------------------------------------------------------------------

  private dispatch(conn: Conn, msg: XsMessage, s: string[], post: Array<() => void>): Uint8Array {
    const domid = conn.domid;
    const tx = msg.txId === 0 ? undefined : conn.txs.get(msg.txId);
    if (msg.txId !== 0 && !tx) throw new XsFail("ENOENT");
    const ctx: Ctx = { domid, root: tx ? tx.root : this.root, tx, changed: [] };
    const path = () => this.canonical(domid, s[0]);
    const done = (r: Uint8Array) => {
      if (!tx) post.push(() => this.fireAll(ctx.changed));
      return r;
    };
    switch (msg.type) {
      case XsType.Read:
        return this.opRead(ctx, path()).value;
      case XsType.Directory:
        return xsStrings(...[...this.opRead(ctx, path()).children.keys()].sort());
      case XsType.GetPerms:
        return xsStrings(...this.opRead(ctx, path()).perms.map(formatPerm));
      case XsType.Write: {
        const p = path();
        // The value is everything after the path's NUL (not NUL-terminated itself).
        const nul = msg.payload.indexOf(0);
        if (nul < 0) throw new XsFail("EINVAL");
        const value = msg.payload.slice(nul + 1);
        this.opWrite(ctx, p, value);
        tx?.ops.push({ kind: "write", path: p, value });
        return done(OK);
      }
      case XsType.Mkdir: {
        const p = path();
        this.opMkdir(ctx, p);
        tx?.ops.push({ kind: "mkdir", path: p });
        return done(OK);
      }
      case XsType.Rm: {
        const p = path();
        this.opRm(ctx, p);
        tx?.ops.push({ kind: "rm", path: p });
        return done(OK);
      }
      case XsType.SetPerms: {
        const p = path();
        const perms = this.parsePerms(s.slice(1));
        this.opSetPerms(ctx, p, perms);
        tx?.ops.push({ kind: "setperms", path: p, perms });
        return done(OK);
      }
      case XsType.Watch:
        return this.opWatch(conn, s, post);
      case XsType.Unwatch: {
        const [wp, token] = this.watchArgs(conn, s);
        const i = conn.watches.findIndex((w) => w.path === wp && w.token === token);
        if (i < 0) throw new XsFail("ENOENT");
        conn.watches.splice(i, 1);
        return OK;
      }
      case XsType.ResetWatches:
        conn.watches.length = 0;
        return OK;
      case XsType.TransactionStart: {
        if (msg.txId !== 0) throw new XsFail("EBUSY");
        if (domid !== 0 && conn.txs.size >= this.quotas.maxTransactionsPerDomain) throw new XsFail("ENOSPC");
        const id = this.nextTxId++;
        conn.txs.set(id, { id, domid, root: cloneTree(this.root), accessed: new Map(), ops: [] });
        return xsStrings(String(id));
      }
      case XsType.TransactionEnd: {
        if (!tx) throw new XsFail("ENOENT");
        const arg = s[0];
        if (arg !== "T" && arg !== "F") throw new XsFail("EINVAL");
        conn.txs.delete(tx.id);
        if (arg === "T") this.commit(tx, post);
        return OK;
      }
      case XsType.GetDomainPath: {
        const id = this.parseDomid(s[0]);
        return xsStrings(`/local/domain/${id}`);
      }
      case XsType.Introduce: {
        if (domid !== 0) throw new XsFail("EACCES");
        const id = this.parseDomid(s[0]);
        const frame = Number(s[1]);
        const port = Number(s[2]);
        if (!Number.isInteger(frame) || !Number.isInteger(port)) throw new XsFail("EINVAL");
        post.push(() => {
          this.onIntroduce?.(id, frame, port);
          this.hostIntroduce(id);
        });
        return OK;
      }
      case XsType.Release: {
        if (domid !== 0) throw new XsFail("EACCES");
        const id = this.parseDomid(s[0]);
        post.push(() => this.hostRelease(id));
        return OK;
      }
      case XsType.IsDomainIntroduced:
        return xsStrings(this.introduced.has(this.parseDomid(s[0])) ? "T" : "F");
      default:
        throw new XsFail("EINVAL");
    }
  }

  private commit(tx: Tx, post: Array<() => void>): void {
    for (const [p, gen] of tx.accessed) {
      if ((lookup(this.root, p)?.gen ?? -1) !== gen) throw new XsFail("EAGAIN");
    }
    const ctx: Ctx = { domid: tx.domid, root: this.root, tx: undefined, changed: [] };
    for (const op of tx.ops) {
      try {
        if (op.kind === "write") this.opWrite(ctx, op.path, op.value);
        else if (op.kind === "mkdir") this.opMkdir(ctx, op.path);
        else if (op.kind === "rm") this.opRm(ctx, op.path);
        else this.opSetPerms(ctx, op.path, op.perms);
      } catch (e) {
        // Unreachable when the conflict check passed: the snapshot saw the same nodes.
        if (!(e instanceof XsFail)) throw e;
      }
    }
    post.push(() => this.fireAll(ctx.changed));
  }

  // --- operations on a tree (main or a transaction's snapshot) ------------------------------

  private record(ctx: Ctx, path: string): void {
    if (ctx.tx && !ctx.tx.accessed.has(path)) ctx.tx.accessed.set(path, lookup(ctx.root, path)?.gen ?? -1);
  }

  private mayRead(domid: number, n: StoreNode): boolean {
    return domid === 0 || permits(n.perms, domid, "r");
  }

  private opRead(ctx: Ctx, path: string): StoreNode {
    this.record(ctx, path);
    const n = lookup(ctx.root, path);
    if (!n) throw new XsFail("ENOENT");
    if (!this.mayRead(ctx.domid, n)) throw new XsFail("EACCES");
    return n;
  }

  private opWrite(ctx: Ctx, path: string, value: Uint8Array): void {
    if (ctx.domid !== 0 && value.length > this.quotas.maxValueSize) throw new XsFail("ENOSPC");
    this.record(ctx, path);
    const n = lookup(ctx.root, path);
    if (n) {
      if (ctx.domid !== 0 && !permits(n.perms, ctx.domid, "w")) throw new XsFail("EACCES");
      n.value = value;
      n.gen = ++this.gen;
      ctx.changed.push([path, false]);
      return;
    }
    this.create(ctx, path).value = value;
  }

  private opMkdir(ctx: Ctx, path: string): void {
    this.record(ctx, path);
    if (lookup(ctx.root, path)) return;
    this.create(ctx, path);
  }

  /** Creates `path` and any missing parents; write permission on the nearest existing ancestor. */
  private create(ctx: Ctx, path: string): StoreNode {
    const parts = components(path);
    let n = ctx.root;
    let i = 0;
    let at = "/";
    for (; i < parts.length; i++) {
      const c = n.children.get(parts[i]!);
      if (!c) break;
      n = c;
      at = at === "/" ? `/${parts[i]}` : `${at}/${parts[i]}`;
    }
    this.record(ctx, at);
    if (ctx.domid !== 0 && !permits(n.perms, ctx.domid, "w")) throw new XsFail("EACCES");
    const missing = parts.length - i;
    if (ctx.domid !== 0 && this.nodesOwnedBy(ctx.domid, ctx.root) + missing > this.quotas.maxNodesPerDomain) {
      throw new XsFail("ENOSPC");
    }
    n.gen = ++this.gen;
    for (; i < parts.length; i++) {
      // A new node inherits its parent's permissions; an unprivileged creator becomes owner.
      const perms = n.perms.map((p) => ({ ...p }));
      if (ctx.domid !== 0 && perms[0]) perms[0].domid = ctx.domid;
      const child = newNode(perms, ++this.gen);
      n.children.set(parts[i]!, child);
      at = at === "/" ? `/${parts[i]}` : `${at}/${parts[i]}`;
      this.record(ctx, at);
      n = child;
    }
    ctx.changed.push([path, false]);
    return n;
  }

  private opRm(ctx: Ctx, path: string): void {
    if (path === "/") throw new XsFail("EINVAL");
    this.record(ctx, path);
    const pp = parentPath(path);
    this.record(ctx, pp);
    const parent = lookup(ctx.root, pp);
    const n = lookup(ctx.root, path);
    if (!n) {
      // xenstored: removing a missing node under an existing parent succeeds.
      if (parent) return;
      throw new XsFail("ENOENT");
    }
    if (ctx.domid !== 0 && !permits(n.perms, ctx.domid, "w")) throw new XsFail("EACCES");
    parent!.children.delete(path.slice(path.lastIndexOf("/") + 1));
    parent!.gen = ++this.gen;
    ctx.changed.push([path, true]);
  }

  private opSetPerms(ctx: Ctx, path: string, perms: StorePerm[]): void {
    this.record(ctx, path);
    const n = lookup(ctx.root, path);
    if (!n) throw new XsFail("ENOENT");
    if (ctx.domid !== 0 && n.perms[0]?.domid !== ctx.domid) throw new XsFail("EACCES");
    n.perms = perms;
    n.gen = ++this.gen;
    ctx.changed.push([path, false]);
  }

  // --- watches ------------------------------------------------------------------------------

  private watchArgs(conn: Conn, s: string[]): [string, string] {
    const raw = s[0];
    const token = s[1];
    if (raw === undefined || token === undefined) throw new XsFail("EINVAL");
    const wp = raw.startsWith("@") ? raw : this.canonical(conn.domid, raw);
    return [wp, token];
  }

  private opWatch(conn: Conn, s: string[], post: Array<() => void>): Uint8Array {
    const [wp, token] = this.watchArgs(conn, s);
    if (wp.startsWith("@") && wp !== "@introduceDomain" && wp !== "@releaseDomain")
      throw new XsFail("EINVAL");
    if (conn.watches.some((w) => w.path === wp && w.token === token)) throw new XsFail("EEXIST");
    if (conn.domid !== 0 && conn.watches.length >= this.quotas.maxWatchesPerDomain) throw new XsFail("E2BIG");
    const w: Watch = { path: wp, token, relative: !s[0]!.startsWith("/") && !wp.startsWith("@") };
    conn.watches.push(w);
    // A new watch fires once at once (xs_wire.h convention), after the OK reply.
    post.push(() => this.sendEvent(conn, w, wp));
    return OK;
  }

  private fireAll(changed: Array<[string, boolean]>): void {
    for (const [p, recursive] of changed) this.fire(p, recursive);
  }

  /** Fires watches on `path` or an ancestor of it; with `recursive` (rm) also those below it. */
  private fire(path: string, recursive: boolean): void {
    for (const conn of this.conns.values()) {
      for (const w of conn.watches) {
        if (w.path.startsWith("@")) continue;
        if (isUnder(path, w.path)) {
          const n = lookup(this.root, path);
          if (n && !this.mayRead(conn.domid, n)) continue;
          this.sendEvent(conn, w, path);
        } else if (recursive && isUnder(w.path, path)) {
          this.sendEvent(conn, w, w.path);
        }
      }
    }
  }

  private fireSpecial(name: string): void {
    for (const conn of this.conns.values()) {
      for (const w of conn.watches) if (w.path === name) this.sendEvent(conn, w, name);
    }
  }

  private sendEvent(conn: Conn, w: Watch, path: string): void {
    let p = path;
    const home = `/local/domain/${conn.domid}/`;
    if (w.relative && p.startsWith(home)) p = p.slice(home.length);
    conn.sink({ type: XsType.WatchEvent, reqId: 0, txId: 0, payload: xsStrings(p, w.token) });
  }

  // --- parsing ------------------------------------------------------------------------------

  /** Validates a path and makes it absolute (relative paths are under /local/domain/<domid>). */
  private canonical(domid: number, raw: string | undefined): string {
    if (raw === undefined || raw.length === 0) throw new XsFail("EINVAL");
    const abs = raw.startsWith("/");
    if (raw.length > (abs ? XENSTORE_ABS_PATH_MAX : XENSTORE_REL_PATH_MAX)) throw new XsFail("EINVAL");
    if (!PATH_CHARS.test(raw) || raw.includes("//") || (raw.length > 1 && raw.endsWith("/"))) {
      throw new XsFail("EINVAL");
    }
    return abs ? raw : `/local/domain/${domid}/${raw}`;
  }

  private parseDomid(text: string | undefined): number {
    if (text === undefined || !/^\d{1,5}$/.test(text) || Number(text) > 0xffff) throw new XsFail("EINVAL");
    return Number(text);
  }

  private parsePerms(texts: string[]): StorePerm[] {
    if (texts.length === 0) throw new XsFail("EINVAL");
    return texts.map((t) => {
      const p = parsePerm(t);
      if (!p) throw new XsFail("EINVAL");
      return p;
    });
  }

  private hostDo(fn: (ctx: Ctx) => void): void {
    const ctx: Ctx = { domid: 0, root: this.root, tx: undefined, changed: [] };
    try {
      fn(ctx);
    } catch (e) {
      if (e instanceof XsFail)
        throw new StoreDaemonError(e.code, `store host operation failed with ${e.code}`);
      throw e;
    }
    this.fireAll(ctx.changed);
  }
}

function dumpNode(n: StoreNode): StoreDumpNode {
  const children: Record<string, StoreDumpNode> = {};
  for (const k of [...n.children.keys()].sort()) children[k] = dumpNode(n.children.get(k)!);
  return { value: xsText(n.value), perms: n.perms.map(formatPerm), children };
}
