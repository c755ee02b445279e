/**
 * Xen's errno values as hypercalls return them: negative, Linux-compatible numbers.
 * Source: xen/include/public/errno.h (XEN_EPERM 1 … XEN_ETIMEDOUT 110). EINTR (4) and
 * ERESTART (85) are left out: errno.h marks them "Internal only, should never be exposed to
 * the guest". ENOTEMPTY (39) is in newer versions of errno.h.
 *
 * A hypercall result `r` is an error iff `-4095 <= r < 0` (Linux's IS_ERR_VALUE convention,
 * which Xen's guests also use); everything else is a success value.
 */
export const Errno = {
  EPERM: -1,
  ENOENT: -2,
  ESRCH: -3,
  EIO: -5,
  ENXIO: -6,
  E2BIG: -7,
  ENOEXEC: -8,
  EBADF: -9,
  ECHILD: -10,
  EAGAIN: -11,
  ENOMEM: -12,
  EACCES: -13,
  EFAULT: -14,
  EBUSY: -16,
  EEXIST: -17,
  EXDEV: -18,
  ENODEV: -19,
  EINVAL: -22,
  ENFILE: -23,
  EMFILE: -24,
  ENOSPC: -28,
  EMLINK: -31,
  EDOM: -33,
  ERANGE: -34,
  EDEADLK: -35,
  ENAMETOOLONG: -36,
  ENOLCK: -37,
  ENOSYS: -38,
  ENOTEMPTY: -39,
  EBADRQC: -56,
  EBADSLT: -57,
  ENODATA: -61,
  ETIME: -62,
  EBADMSG: -74,
  EOVERFLOW: -75,
  EILSEQ: -84,
  EUSERS: -87,
  ENOTSOCK: -88,
  EOPNOTSUPP: -95,
  EADDRINUSE: -98,
  EADDRNOTAVAIL: -99,
  ENOBUFS: -105,
  EISCONN: -106,
  ENOTCONN: -107,
  ESHUTDOWN: -108,
  ETOOMANYREFS: -109,
  ETIMEDOUT: -110,
} as const;
export type ErrnoName = keyof typeof Errno;
export type ErrnoValue = (typeof Errno)[ErrnoName];

const names = new Map<number, ErrnoName>();
for (const [name, value] of Object.entries(Errno)) names.set(value, name as ErrnoName);

/** The Xen name of a negative errno (`-22` → "EINVAL"), or undefined if it is not one. */
export function errnoName(value: number): ErrnoName | undefined {
  return names.get(value);
}

/** True for every value Errno defines (the set a hypercall may return as failure). */
export function isXenErrno(value: number): boolean {
  return names.has(value);
}

/** True if a hypercall result is an error (−4095 ≤ r < 0). */
export function isHypercallError(result: number): boolean {
  return result < 0 && result >= -4095;
}
