/**
 * XenBus device states (xen/include/public/io/xenbus.h, enum xenbus_state) and the handshake
 * between a front end and a back end, each publishing its state in its own store directory
 * (`<dir>/state`) and watching the other's:
 *
 * ```
 *   Front end                                   Back end
 *   ---------                                   --------
 *   Initialising (1)                            Initialising (1)
 *                                               writes features (feature-*, sizes)
 *                                               InitWait (2)  ── "front end, go ahead"
 *   sees InitWait; allocates ring page,
 *   grants it, allocates an event channel;
 *   writes ring-ref, event-channel
 *   Initialised (3) ── "my resources are ready"
 *                                               sees Initialised; maps ring-ref,
 *                                               binds event-channel
 *                                               Connected (4)
 *   sees Connected
 *   Connected (4)                               ... I/O over the ring ...
 *
 *   Closing (5) ── "I am going away"            sees Closing; unmaps, unbinds
 *                                               Closing (5) → Closed (6)
 *   sees Closed; ends grant access,
 *   frees ring and port
 *   Closed (6)
 * ```
 */
import { XenbusError } from "../errors.js";

export const XenbusState = {
  Unknown: 0,
  Initialising: 1,
  InitWait: 2,
  Initialised: 3,
  Connected: 4,
  Closing: 5,
  Closed: 6,
  Reconfiguring: 7,
  Reconfigured: 8,
} as const;
export type XenbusStateValue = (typeof XenbusState)[keyof typeof XenbusState];

/** Name of a state number ("Connected"); unknown values as "state <n>". */
export function xenbusStateName(s: number): string {
  for (const [k, v] of Object.entries(XenbusState)) if (v === s) return k;
  return `state ${s}`;
}

/** Parses a `state` key's value; a missing or garbage value is Unknown. */
export function parseXenbusState(text: string | undefined): XenbusStateValue {
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 && n <= 8 ? (n as XenbusStateValue) : XenbusState.Unknown;
}

/** Legal moves of one side (Closing and Closed are always allowed: either side may give up). */
const NEXT: Record<"frontend" | "backend", Partial<Record<number, readonly number[]>>> = {
  frontend: {
    [XenbusState.Unknown]: [XenbusState.Initialising],
    [XenbusState.Initialising]: [XenbusState.Initialised, XenbusState.Connected],
    [XenbusState.Initialised]: [XenbusState.Connected],
    [XenbusState.Closed]: [XenbusState.Initialising],
  },
  backend: {
    [XenbusState.Unknown]: [XenbusState.Initialising],
    [XenbusState.Initialising]: [XenbusState.InitWait],
    [XenbusState.InitWait]: [XenbusState.Connected],
    [XenbusState.Closed]: [XenbusState.Initialising, XenbusState.InitWait],
  },
};

/** One side's state with transition checking. */
export class XenbusStateMachine {
  state: XenbusStateValue = XenbusState.Initialising;
  constructor(readonly side: "frontend" | "backend") {}

  /** True if moving from the current state to `to` is part of the handshake. */
  canMove(to: XenbusStateValue): boolean {
    if (to === this.state) return true;
    if (to === XenbusState.Closing) return this.state !== XenbusState.Closed;
    if (to === XenbusState.Closed) return true;
    return NEXT[this.side][this.state]?.includes(to) ?? false;
  }

  /** Moves to `to` or throws XenbusError naming the illegal transition. */
  move(to: XenbusStateValue): void {
    if (!this.canMove(to)) {
      throw new XenbusError(
        `${this.side} cannot go from ${xenbusStateName(this.state)} to ${xenbusStateName(to)}`,
      );
    }
    this.state = to;
  }
}
