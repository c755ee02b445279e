/**
 * Services full virtualization needs from the hypervisor layer above it. The lower layer
 * declares them and src/hypervisor implements them (DESIGN.md "Layers": dependencies point
 * down only), so the Disco and x86 monitors never import the hypervisor.
 */

/** Marks an invalid machine frame in P2M lookups (Xen's INVALID_MFN, truncated to 32 bits). */
export const INVALID_MFN = -1;

/** Machine frames: who owns them and how a monitor gets more. */
export interface MachinePageAllocator {
  /** Machine frames in the machine. */
  readonly machinePages: number;
  /** Allocates a zeroed frame accounted to `domid`; INVALID_MFN if none is free or the domain is at its limit. */
  allocate(domid: number): number;
  /** Returns a frame to the free pool; it must not be mapped anywhere any more. */
  free(mfn: number): void;
  /** Owning domain of a frame, or -1 if free. */
  owner(mfn: number): number;
}

/** A domain's pseudo-physical → machine table (Disco's pmap, Xen's P2M). */
export interface P2m {
  /** Pseudo-physical frames covered. */
  readonly nrPfns: number;
  /** Machine frame backing `pfn`, or INVALID_MFN. */
  lookup(pfn: number): number;
  /** True if the guest may write the frame (false for read-only grant mappings and shared copy-on-write frames). */
  writable(pfn: number): boolean;
}

/** The machine → pseudo-physical table (Xen's M2P, Disco's memmap). */
export interface M2p {
  /** Pseudo-physical frame that `mfn` backs in its owner, or -1. */
  pfnOf(mfn: number): number;
  /** Owning domain of `mfn`, or -1 if free. */
  owner(mfn: number): number;
}
