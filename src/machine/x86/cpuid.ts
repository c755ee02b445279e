/**
 * The identity CPUID reports: a Pentium-class integer core without an FPU.
 *
 * QEMU's default `qemu32` model reports an FPU and a Pentium Pro feature set (PPRO_FEATURES in
 * target/i386/cpu.c). pvkit implements no x87, MMX or SSE, so it reports FPU absent (EDX bit 0
 * clear) rather than promise instructions that raise #UD here; the differential harness masks
 * CPUID. Bits: SDM Vol. 2A, CPUID, Table 3-11 (feature flags in EDX).
 */

/** "GenuineIntel" split over EBX, EDX, ECX as leaf 0 returns it. */
export const CPUID_VENDOR_EBX = 0x756e6547; // "Genu"
export const CPUID_VENDOR_EDX = 0x49656e69; // "ineI"
export const CPUID_VENDOR_ECX = 0x6c65746e; // "ntel"

/** Highest standard leaf. */
export const CPUID_MAX_LEAF = 1;

/** Leaf 1 EAX: family 5 (Pentium), model 2, stepping 0 (SDM Figure 3-6 layout). */
export const CPUID_SIGNATURE = (5 << 8) | (2 << 4) | 0;

export const CPUID_EDX_PSE = 1 << 3;
export const CPUID_EDX_TSC = 1 << 4;
export const CPUID_EDX_CX8 = 1 << 8;
export const CPUID_EDX_PGE = 1 << 13;

/** Leaf 1 EDX: 4 MiB pages, RDTSC, CMPXCHG8B, global pages. No FPU, no MSR, no CMOV. */
export const CPUID_FEATURES_EDX = CPUID_EDX_PSE | CPUID_EDX_TSC | CPUID_EDX_CX8 | CPUID_EDX_PGE;
