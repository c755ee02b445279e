/**
 * MOUNT version 3 protocol data (RFC 1813 appendix I): program, procedures, mountstat3.
 */

/** MOUNT program number and version (RFC 1813 §5.0). */
export const MOUNT_PROGRAM = 100005;
export const MOUNT_V3 = 3;

/** MOUNT v3 procedures (RFC 1813 §5.2). */
export const Mount3Proc = { Null: 0, Mnt: 1, Dump: 2, Umnt: 3, Umntall: 4, Export: 5 } as const;
export const MOUNT3_PROC_NAMES: readonly string[] = ["NULL", "MNT", "DUMP", "UMNT", "UMNTALL", "EXPORT"];

/** mountstat3 (RFC 1813 §5.1.5). */
export const MountStat3 = {
  Ok: 0,
  Perm: 1,
  NoEnt: 2,
  Io: 5,
  Acces: 13,
  NotDir: 20,
  Inval: 22,
  NameTooLong: 63,
  NotSupp: 10004,
  ServerFault: 10006,
} as const;

/** MNTPATHLEN and MNTNAMLEN (RFC 1813 §5.1). */
export const MNTPATHLEN = 1024;
export const MNTNAMLEN = 255;

/** Portmapper (RFC 1833 §3) program 100000 version 2: just enough for GETPORT. */
export const PMAP_PROGRAM = 100000;
export const PMAP_V2 = 2;
export const PmapProc = { Null: 0, Set: 1, Unset: 2, Getport: 3, Dump: 4, Callit: 5 } as const;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
