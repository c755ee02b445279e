/**
 * DI roles of the network layer (DESIGN.md "Dependency injection"): a workload asks for
 * `NetDevice`; the `pv` profile registers a connected NetFrontend under it, the `full` profile
 * an emulated-NE2000 driver. Monitor side, `Switch` names the VirtualSwitch back ends plug
 * vifs into. Explicit symbols (Symbol.for, so every bundle chunk agrees); no decorator metadata.
 */
import type { Observable } from "rxjs";
import type { VirtualSwitch } from "./virtual-switch.js";

/** What a workload needs from a network interface, whatever path carries it. */
export interface NetDevice {
  /** The interface's MAC address (6 bytes). */
  readonly mac: Uint8Array;
  /** Largest Ethernet frame `send` accepts, in bytes (header included, no FCS). */
  readonly maxFrameSize: number;
  /** Sends one Ethernet frame; resolves once the back end has taken it (tx completion). */
  send(frame: Uint8Array): Promise<void>;
  /** Frames received, in arrival order. */
  readonly frames$: Observable<Uint8Array>;
}

export const NetDeviceToken = Symbol.for("pvkit.NetDevice");
export const SwitchToken = Symbol.for("pvkit.Switch");

/** The Switch role is a VirtualSwitch. */
export type Switch = VirtualSwitch;
