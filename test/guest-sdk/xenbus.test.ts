import { describe, expect, it } from "vitest";
import {
  parseXenbusState,
  XenbusError,
  XenbusState,
  XenbusStateMachine,
  xenbusStateName,
} from "../../src/guest-sdk/index.js";

describe("XenBus state machine", () => {
  it("has Xen's numbers (io/xenbus.h)", () => {
    expect(XenbusState).toEqual({
      Unknown: 0,
      Initialising: 1,
      InitWait: 2,
      Initialised: 3,
      Connected: 4,
      Closing: 5,
      Closed: 6,
      Reconfiguring: 7,
      Reconfigured: 8,
    });
    expect(parseXenbusState("4")).toBe(XenbusState.Connected);
    expect(parseXenbusState("garbage")).toBe(XenbusState.Unknown);
    expect(parseXenbusState(undefined)).toBe(XenbusState.Unknown);
    expect(xenbusStateName(2)).toBe("InitWait");
  });

  it("walks the handshake and refuses moves outside it", () => {
    const be = new XenbusStateMachine("backend");
    expect(() => be.move(XenbusState.Connected)).toThrow(XenbusError);
    expect(() => be.move(XenbusState.Connected)).toThrow(/backend cannot go from Initialising to Connected/);
    be.move(XenbusState.InitWait);
    be.move(XenbusState.Connected);
    be.move(XenbusState.Closing);
    be.move(XenbusState.Closed);
    const fe = new XenbusStateMachine("frontend");
    expect(fe.canMove(XenbusState.InitWait)).toBe(false); // a back-end state
    fe.move(XenbusState.Initialised);
    expect(fe.canMove(XenbusState.Initialising)).toBe(false);
    fe.move(XenbusState.Connected);
    fe.move(XenbusState.Closed);
    expect(fe.canMove(XenbusState.Closing)).toBe(false);
    fe.move(XenbusState.Initialising); // reconnect after Closed
  });
});
