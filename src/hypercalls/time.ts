/**
 * Xen system time (ns since boot, set_timer_op's unit) against pvkit's simulated cycles.
 * pvkit's guests see a nominal 1 GHz clock: one simulated cycle is one nanosecond of system
 * time, so vcpu_time_info.tsc_to_system_mul = 2^32 with tsc_shift 0 (xen.h formula:
 * system_time + (((tsc − tsc_timestamp) << tsc_shift) × mul) >> 32).
 */
export const NS_PER_CYCLE = 1;
export const TSC_TO_SYSTEM_MUL = 0xffffffff;
export const TSC_SHIFT = 0;
