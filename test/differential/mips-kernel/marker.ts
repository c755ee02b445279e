/** The kernel sample's last console line (proc.c kernel_finish), printed before the exit port write. */
export const END_MARKER_TEXT = "*** PVKIT KERNEL DONE ***\n";
/** The same, for runQemuMips: QEMU's mipssim has no exit device, so the test stops QEMU here. */
export const END_MARKER = /^\*\*\* PVKIT KERNEL DONE \*\*\*\n/m;
