/**
 * Memory barrier at an ordering point of the ring protocol (`xen_mb`/`xen_wmb`/`xen_rmb` in
 * ring.h). TypeScript guests share pages through accessors that complete in program order
 * within one host thread, so it is a no-op today; calls stay at the exact lines where ring.h
 * needs ordering so a machine-code port knows where its fences go (STYLE.md rule 5).
 */
export function barrier(): void {}
