/**
 * DI tokens of the hypervisor layer (DESIGN.md "Dependency injection"): explicit symbols, never
 * emitted decorator metadata. The monitor's container holds the Hypervisor; each domain's child
 * container adds its Domain and, for TS guests, its GuestContext.
 */
export const HypervisorToken = Symbol.for("pvkit.Hypervisor");
export const DomainToken = Symbol.for("pvkit.Domain");
export const GuestContextToken = Symbol.for("pvkit.GuestContext");
