/**
 * XenStore node permissions in Xen's string form: a letter then a domain id — "n0", "r5",
 * "w3", "b1" (none, read, write, both). The first entry names the owner and the access of
 * every domain not listed; later entries grant listed domains (docs/misc/xenstore.txt,
 * "Permissions"). The owner and dom0 always have full access.
 */

export type PermLetter = "n" | "r" | "w" | "b";

export interface StorePerm {
  domid: number;
  perm: PermLetter;
}

/** Parses "r5"; returns null for a malformed entry. */
export function parsePerm(text: string): StorePerm | null {
  const m = /^([nrwb])(\d{1,5})$/.exec(text);
  if (!m) return null;
  const domid = Number(m[2]);
  return domid <= 0xffff ? { perm: m[1] as PermLetter, domid } : null;
}

export function formatPerm(p: StorePerm): string {
  return `${p.perm}${p.domid}`;
}

/** Does `domid` have `want` access under `perms`? (Privilege of dom0 is checked by the caller.) */
export function permits(perms: readonly StorePerm[], domid: number, want: "r" | "w"): boolean {
  const owner = perms[0];
  if (!owner) return false;
  if (owner.domid === domid) return true;
  let p: PermLetter = owner.perm;
  for (let i = 1; i < perms.length; i++) {
    if (perms[i]!.domid === domid) {
      p = perms[i]!.perm;
      break;
    }
  }
  return p === "b" || p === want;
}
