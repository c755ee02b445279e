/**
 * The exported directory tree as seen through file handles. This is the security boundary:
 *
 * - Every host path is `root + "/" + rel` where `rel` is built only from validated name
 *   components (no "", ".", "..", "/" or NUL), so no name escapes the root.
 * - A handle resolves through an identity → rel map (filled by LOOKUP/CREATE/READDIRPLUS and
 *   rebuilt by walking the export from the root after a restart); the path is trusted only
 *   after lstat shows the same device, inode and birth time, and realpath of its parent
 *   equals the parent (no symlink on the way, the path really lies below the root).
 * - The last component is never followed: callers use lstat, O_NOFOLLOW opens and
 *   l-variants; symlinks are data (READLINK returns their text).
 * - Files outside the export are unreachable: the walk never follows symlinks and a handle
 *   whose identity is not found below the root is NFS3ERR_STALE.
 */
import type { BigIntStats } from "node:fs";
import { lstat, readdir, realpath } from "node:fs/promises";
import { NAME_MAX, Nfs3Status, type Nfs3StatusCode } from "../nfs3-proto.js";
import { statusOfError } from "./attrs.js";
import { type FileHandleCodec, type FileIdentity, identityKey } from "./file-handles.js";
import { NfsServerError } from "./server-secret.js";

/** A file below the export: host path, path relative to the root ("" = root) and its lstat. */
export interface FsNode {
  readonly abs: string;
  readonly rel: string;
  readonly st: BigIntStats;
}

/** Most entries one rebuild walk visits (bounds the cost of a stale handle after restart). */
const WALK_LIMIT = 500_000;
/** How long a handle found nowhere stays known-stale without another walk (ms). */
const NEGATIVE_TTL_MS = 2_000;

/** True when the name can be a single path component below a directory. */
export function nameStatus(name: string): Nfs3StatusCode {
  if (name.length === 0 || name.includes("/") || name.includes("\0")) return Nfs3Status.Acces;
  if (Buffer.byteLength(name, "utf8") > NAME_MAX) return Nfs3Status.NameTooLong;
  return Nfs3Status.Ok;
}

function identityOf(st: BigIntStats): FileIdentity {
  return { dev: st.dev, ino: st.ino, generation: st.birthtimeNs };
}

function matches(st: BigIntStats, id: FileIdentity): boolean {
  return st.dev === id.dev && st.ino === id.ino && st.birthtimeNs === id.generation;
}

async function lstatOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch {
    return undefined;
  }
}

/** Handle ↔ path resolution confined to one export root. */
export class ExportFs {
  /** identityKey(dev, ino) → rel. */
  private readonly paths = new Map<string, string>();
  /** identityKey + generation → time (ms) until which the handle is known stale. */
  private readonly negative = new Map<string, number>();
  private walking: Promise<void> | undefined;

  private constructor(
    /** Real path of the export root (no symlinks, no trailing slash). */
    readonly root: string,
    private readonly handles: FileHandleCodec,
  ) {}

  /** Opens an export; the root must be a directory. */
  static async open(
    dir: string,
    makeCodec: (root: string) => FileHandleCodec | Promise<FileHandleCodec>,
  ): Promise<ExportFs> {
    let root: string;
    try {
      root = await realpath(dir);
    } catch (err) {
      throw new NfsServerError(`export ${dir} does not exist (${(err as Error).message}); create it first.`);
    }
    const st = await lstat(root, { bigint: true });
    if (!st.isDirectory()) throw new NfsServerError(`export ${dir} is not a directory.`);
    const fs = new ExportFs(root, await makeCodec(root));
    fs.paths.set(identityKey(st.dev, st.ino), "");
    return fs;
  }

  /** Host path of a relative path. */
  abs(rel: string): string {
    return rel === "" ? this.root : `${this.root}/${rel}`;
  }

  /** The handle of a file below the export; remembers where it is. */
  handleOf(node: FsNode): Uint8Array {
    this.paths.set(identityKey(node.st.dev, node.st.ino), node.rel);
    return this.handles.encode(identityOf(node.st));
  }

  /** 8-byte cookie verifier of a directory (stable for the directory's life and across restarts). */
  cookieVerifier(st: BigIntStats): Uint8Array {
    return this.handles.derive8(`cookieverf\0${st.dev}:${st.ino}:${st.birthtimeNs}`);
  }

  /** The root directory, freshly stat'ed. */
  async rootNode(): Promise<FsNode | Nfs3StatusCode> {
    const st = await lstatOrUndefined(this.root);
    if (st === undefined || !st.isDirectory()) return Nfs3Status.Stale;
    return { abs: this.root, rel: "", st };
  }

  /**
   * Resolves a handle: NFS3ERR_BADHANDLE for handles that are not ours, NFS3ERR_STALE when
   * the file no longer exists below the export (deleted, replaced, moved out).
   */
  async resolve(fh: Uint8Array): Promise<FsNode | Nfs3StatusCode> {
    const id = this.handles.decode(fh);
    if (id === undefined) return Nfs3Status.BadHandle;
    const key = identityKey(id.dev, id.ino);
    const known = await this.tryPath(key, id);
    if (known !== undefined) return known;
    const negKey = `${key}:${id.generation}`;
    const until = this.negative.get(negKey);
    if (until !== undefined && until > Date.now()) return Nfs3Status.Stale;
    await this.walk();
    const found = await this.tryPath(key, id);
    if (found !== undefined) return found;
    if (this.negative.size > 10_000) this.negative.clear();
    this.negative.set(negKey, Date.now() + NEGATIVE_TTL_MS);
    return Nfs3Status.Stale;
  }

  private async tryPath(key: string, id: FileIdentity): Promise<FsNode | undefined> {
    const rel = this.paths.get(key);
    if (rel === undefined) return undefined;
    const abs = this.abs(rel);
    const st = await lstatOrUndefined(abs);
    if (st === undefined || !matches(st, id)) {
      this.paths.delete(key);
      return undefined;
    }
    if (rel !== "") {
      const parent = abs.slice(0, abs.lastIndexOf("/"));
      let real: string;
      try {
        real = await realpath(parent);
      } catch {
        return undefined;
      }
      // A symlink on the way (a directory swapped for a link) would take us elsewhere.
      if (real !== parent) {
        this.paths.delete(key);
        return undefined;
      }
    }
    return { abs, rel, st };
  }

  /** Rebuilds the identity map by walking the export (never following symlinks). Shared by concurrent callers. */
  private walk(): Promise<void> {
    this.walking ??= this.walkTree().finally(() => {
      this.walking = undefined;
    });
    return this.walking;
  }

  private async walkTree(): Promise<void> {
    const queue: string[] = [""];
    let visited = 0;
    while (queue.length > 0 && visited < WALK_LIMIT) {
      const rel = queue.shift()!;
      let names: string[];
      try {
        names = await readdir(this.abs(rel));
      } catch {
        continue;
      }
      for (let i = 0; i < names.length; i += 128) {
        const batch = names.slice(i, i + 128);
        const stats = await Promise.all(
          batch.map((n) => lstatOrUndefined(this.abs(rel === "" ? n : `${rel}/${n}`))),
        );
        for (let j = 0; j < batch.length; j++) {
          const st = stats[j];
          if (st === undefined) continue;
          const childRel = rel === "" ? batch[j]! : `${rel}/${batch[j]!}`;
          this.paths.set(identityKey(st.dev, st.ino), childRel);
          if (st.isDirectory()) queue.push(childRel);
        }
        visited += batch.length;
      }
    }
  }

  /** The path of `name` in `dir` after validating the name (not for "." / ".."). */
  childRel(dir: FsNode, name: string): string | Nfs3StatusCode {
    const s = nameStatus(name);
    if (s !== Nfs3Status.Ok) return s;
    if (name === "." || name === "..") return Nfs3Status.Inval;
    return dir.rel === "" ? name : `${dir.rel}/${name}`;
  }

  /** lstat of a path below the root, or an nfsstat3. */
  async stat(rel: string): Promise<FsNode | Nfs3StatusCode> {
    const abs = this.abs(rel);
    try {
      const st = await lstat(abs, { bigint: true });
      return { abs, rel, st };
    } catch (err) {
      return statusOfError(err);
    }
  }

  /**
   * LOOKUP semantics: "." is the directory, ".." its parent except at the root (the export's
   * parent is not reachable), other names are lstat'ed (symlinks are returned, not followed).
   */
  async lookup(dir: FsNode, name: string): Promise<FsNode | Nfs3StatusCode> {
    if (!dir.st.isDirectory()) return Nfs3Status.NotDir;
    if (name === ".") return dir;
    if (name === "..") return this.parentOf(dir);
    const rel = this.childRel(dir, name);
    if (typeof rel === "number") return rel;
    const node = await this.stat(rel);
    if (typeof node !== "number") this.paths.set(identityKey(node.st.dev, node.st.ino), rel);
    return node;
  }

  /** The parent directory; the root is its own parent. */
  async parentOf(dir: FsNode): Promise<FsNode | Nfs3StatusCode> {
    if (dir.rel === "") return dir;
    const cut = dir.rel.lastIndexOf("/");
    return this.stat(cut < 0 ? "" : dir.rel.slice(0, cut));
  }

  /** Forgets a removed file. */
  forget(st: BigIntStats): void {
    this.paths.delete(identityKey(st.dev, st.ino));
  }

  /** Records a rename; descendants of a renamed directory move with it. */
  moved(st: BigIntStats, fromRel: string, toRel: string): void {
    this.paths.set(identityKey(st.dev, st.ino), toRel);
    if (st.isDirectory()) {
      const prefix = `${fromRel}/`;
      for (const [k, rel] of this.paths) {
        if (rel.startsWith(prefix)) this.paths.set(k, toRel + rel.slice(fromRel.length));
      }
    }
    this.namespaceChanged();
  }

  /** Files may have appeared: forget negative results. */
  namespaceChanged(): void {
    this.negative.clear();
  }
}
