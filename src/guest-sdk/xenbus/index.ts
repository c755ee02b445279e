/** XenBus: the state machine and the PvDriver base classes that carry the handshake. */
export {
  PvBackend,
  PvFrontend,
  RingBackend,
  RingFrontend,
  type RingProtocol,
} from "./pv-driver.js";
export {
  parseXenbusState,
  XenbusState,
  XenbusStateMachine,
  type XenbusStateValue,
  xenbusStateName,
} from "./xenbus-state.js";
