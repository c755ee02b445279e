/**
 * Directory listings for READDIR/READDIRPLUS with stable cookies.
 *
 * A cookie is a 52-bit hash of the entry's name (≥ 3; 1 and 2 are "." and ".."), and a
 * listing is sorted by cookie, like ext4's hash-ordered readdir. "Continue after cookie c"
 * therefore stays meaningful when entries are added or removed between pages: nothing that
 * stays in the directory is skipped or returned twice. Listings are cached per directory and
 * rebuilt when its mtime/ctime change (see SETTLE_NS).
 */
import type { BigIntStats } from "node:fs";
import { readdir } from "node:fs/promises";

/** One directory entry (file ids are looked up per page, not per listing). */
export interface ListingEntry {
  readonly cookie: number;
  readonly name: string;
}

/** Cookie of ".". */
export const COOKIE_DOT = 1;
/** Cookie of "..". */
export const COOKIE_DOTDOT = 2;
const FIRST_NAME_COOKIE = 3;
/** 2^32, to combine two 32-bit hashes into one 52-bit number. */
const TWO_32 = 4294967296;

/** 52-bit cookie of a name: two independent 32-bit FNV-1a-style hashes (seeds differ), ≥ 3. */
export function nameCookie(name: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  const hi = (a >>> 0) & 0xfffff; // 20 bits
  const cookie = hi * TWO_32 + (b >>> 0);
  return cookie < FIRST_NAME_COOKIE ? cookie + FIRST_NAME_COOKIE : cookie;
}

/**
 * Host timestamps come from a coarse clock (Linux current_time() advances once per tick, up
 * to 10 ms at HZ=100), so two changes within one tick leave mtime/ctime unchanged. A listing
 * is reused only if it was read at least this long after the directory's last change.
 */
const SETTLE_NS = 50_000_000n;

interface CachedListing {
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  /** Wall-clock time (ns) when the listing was read. */
  readonly readAtNs: bigint;
  readonly entries: readonly ListingEntry[];
}

/** Small LRU of listings keyed by directory identity. */
export class DirListingCache {
  private readonly cache = new Map<string, CachedListing>();

  constructor(private readonly capacity = 16) {}

  /** The listing of `abs` (whose lstat is `st`), sorted by cookie. */
  async get(abs: string, st: BigIntStats): Promise<readonly ListingEntry[]> {
    const key = `${st.dev}:${st.ino}`;
    const hit = this.cache.get(key);
    if (
      hit !== undefined &&
      hit.mtimeNs === st.mtimeNs &&
      hit.ctimeNs === st.ctimeNs &&
      hit.readAtNs - st.ctimeNs > SETTLE_NS
    ) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.entries;
    }
    const readAtNs = BigInt(Date.now()) * 1_000_000n;
    const names = await readdir(abs);
    const entries: ListingEntry[] = names.map((name) => ({ cookie: nameCookie(name), name }));
    entries.sort((x, y) => x.cookie - y.cookie || (x.name < y.name ? -1 : 1));
    // Equal hashes (rare): later names take the next free value so cookies stay unique.
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.cookie <= entries[i - 1]!.cookie) {
        entries[i] = { ...entries[i]!, cookie: entries[i - 1]!.cookie + 1 };
      }
    }
    this.cache.set(key, { mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, readAtNs, entries });
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
    return entries;
  }
}

/** Index of the first entry whose cookie is greater than `cookie` (binary search). */
export function firstAfter(entries: readonly ListingEntry[], cookie: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.cookie <= cookie) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
