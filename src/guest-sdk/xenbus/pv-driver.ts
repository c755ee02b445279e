/**
 * Base classes for split drivers that carry the XenBus handshake (diagram in xenbus-state.ts),
 * so a driver is mostly its protocol:
 *
 * - `PvFrontend.connect()` waits for the back end's InitWait, calls `setup()` for the driver's
 *   resources and keys (ring-ref, event-channel, …), publishes them with Initialised in one
 *   transaction, waits for Connected and calls `connected()`.
 * - `PvBackend.connect()` publishes `advertise()`'s keys with InitWait, waits for the front
 *   end's Initialised, calls `attach()` (map the ring, bind the port) and goes Connected.
 * - `RingFrontend` / `RingBackend` add one shared ring with its event channel: the front end
 *   calls `request(req)`; the back end subscribes to `requests$` and calls `respond(rsp)`.
 */
import { filter, firstValueFrom, type Observable, switchMap } from "rxjs";
import { XenbusError } from "../errors.js";
import { EventChannel } from "../event-channel.js";
import type { GrantMapping } from "../grant-table.js";
import { GuestPage } from "../guest-page.js";
import type { PvEnv } from "../pv-env.js";
import { AsyncBackRing, AsyncFrontRing, type FlushMode, type RingIds } from "../ring/async-ring.js";
import type { RingCodec } from "../ring/codec.js";
import { BackRing, FrontRing } from "../ring/shared-ring.js";
import { parseXenbusState, XenbusState, XenbusStateMachine, type XenbusStateValue } from "./xenbus-state.js";

/** Watches `<dir>/state` and resolves once it satisfies `ok`. */
function waitForState(
  env: PvEnv,
  dir: string,
  ok: (s: XenbusStateValue) => boolean,
): Promise<XenbusStateValue> {
  const states$: Observable<XenbusStateValue> = env.store
    .watch(`${dir}/state`)
    .pipe(switchMap(async () => parseXenbusState(await env.store.tryRead(`${dir}/state`))));
  return firstValueFrom(states$.pipe(filter(ok)));
}

abstract class PvDriverBase {
  readonly machine: XenbusStateMachine;
  /** This side's directory. */
  abstract readonly dir: string;

  constructor(
    readonly env: PvEnv,
    side: "frontend" | "backend",
  ) {
    this.machine = new XenbusStateMachine(side);
  }

  /** Moves this side's state (checked) and publishes it. */
  protected async publishState(s: XenbusStateValue): Promise<void> {
    this.machine.move(s);
    await this.env.store.write(`${this.dir}/state`, String(s));
  }
}

export abstract class PvFrontend extends PvDriverBase {
  readonly dir: string;
  backendDir = "";
  backendId = -1;

  constructor(
    env: PvEnv,
    readonly type: string,
    readonly devid: number,
  ) {
    super(env, "frontend");
    this.dir = `/local/domain/${env.domid}/device/${type}/${devid}`;
  }

  /** Allocates the driver's resources for back end `backendId`; returns the keys to publish. */
  protected abstract setup(backendId: number): Promise<Record<string, string>>;
  /** Called once the back end is Connected. */
  protected async connected(): Promise<void> {}
  /** Called while closing, after the back end let go: release what `setup` took. */
  protected async teardown(): Promise<void> {}

  /** Runs the handshake up to Connected. */
  async connect(): Promise<void> {
    this.backendDir = await this.env.store.read(`${this.dir}/backend`);
    this.backendId = Number(await this.env.store.read(`${this.dir}/backend-id`));
    if (!Number.isInteger(this.backendId)) throw new XenbusError(`${this.dir}/backend-id is not a domain id`);
    await waitForState(
      this.env,
      this.backendDir,
      (s) => s >= XenbusState.InitWait && s <= XenbusState.Connected,
    );
    const keys = await this.setup(this.backendId);
    this.machine.move(XenbusState.Initialised);
    await this.env.store.transaction(async (tx) => {
      for (const [k, v] of Object.entries(keys)) await tx.write(`${this.dir}/${k}`, v);
      await tx.write(`${this.dir}/state`, String(XenbusState.Initialised));
    });
    const s = await waitForState(
      this.env,
      this.backendDir,
      (x) => x === XenbusState.Connected || x >= XenbusState.Closing,
    );
    if (s !== XenbusState.Connected)
      throw new XenbusError(`back end ${this.backendDir} went to state ${s} instead of Connected`);
    await this.connected();
    await this.publishState(XenbusState.Connected);
  }

  /** Closing → waits for the back end to close → teardown → Closed. */
  async disconnect(): Promise<void> {
    await this.publishState(XenbusState.Closing);
    await waitForState(
      this.env,
      this.backendDir,
      (s) => s >= XenbusState.Closing || s === XenbusState.Unknown,
    );
    await this.teardown();
    await this.publishState(XenbusState.Closed);
  }
}

export abstract class PvBackend extends PvDriverBase {
  readonly dir: string;
  frontendDir = "";
  /** Resolves once the front end has closed and this side reached Closed. */
  closed: Promise<void> = new Promise<void>(() => {});

  constructor(
    env: PvEnv,
    readonly type: string,
    readonly frontendId: number,
    readonly devid: number,
  ) {
    super(env, "backend");
    this.dir = `/local/domain/${env.domid}/backend/${type}/${frontendId}/${devid}`;
  }

  /** Keys the back end publishes before InitWait (features, sizes). */
  protected async advertise(): Promise<Record<string, string>> {
    return {};
  }
  /** Maps and binds what the front end published (read them with `frontendKey`). */
  protected abstract attach(): Promise<void>;
  /** Releases what `attach` took. */
  protected async detach(): Promise<void> {}

  /** Why this back end disconnected its front end, if it did (also written to `<dir>/error`). */
  error: string | null = null;

  /**
   * Disconnects a misbehaving front end: records `reason` in `<dir>/error` (as Linux's
   * xenbus_dev_fatal does), lets go of its resources (`detach`) and goes Closing; the handshake
   * finishes to Closed when the front end closes. Only the first reason is kept.
   */
  async fail(reason: string): Promise<void> {
    if (this.error !== null) return;
    this.error = reason;
    await this.env.store.write(`${this.dir}/error`, reason);
    await this.detach();
    await this.publishState(XenbusState.Closing);
  }

  /** Reads a key of the front end's directory. */
  protected frontendKey(key: string): Promise<string> {
    return this.env.store.read(`${this.frontendDir}/${key}`);
  }

  /**
   * Runs the handshake up to Connected, then serves the close request when it comes. If the
   * handshake fails (a bad ring-ref, an unknown protocol, the front end closing early), the
   * reason goes to `<dir>/error`, this side goes Closing then Closed — so the front end's connect
   * fails instead of waiting — and the error is rethrown.
   */
  async connect(): Promise<void> {
    try {
      await this.handshake();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (this.error === null) await this.fail(reason);
      await this.publishState(XenbusState.Closed);
      this.closed = Promise.resolve();
      throw err;
    }
  }

  private async handshake(): Promise<void> {
    this.frontendDir = await this.env.store.read(`${this.dir}/frontend`);
    const keys = await this.advertise();
    for (const [k, v] of Object.entries(keys)) await this.env.store.write(`${this.dir}/${k}`, v);
    await this.publishState(XenbusState.InitWait);
    const s = await waitForState(
      this.env,
      this.frontendDir,
      (x) => x === XenbusState.Initialised || x === XenbusState.Connected || x >= XenbusState.Closing,
    );
    if (s >= XenbusState.Closing)
      throw new XenbusError(`front end ${this.frontendDir} closed during the handshake`);
    await this.attach();
    await this.publishState(XenbusState.Connected);
    this.closed = waitForState(this.env, this.frontendDir, (x) => x >= XenbusState.Closing).then(async () => {
      await this.detach();
      await this.publishState(XenbusState.Closing);
      await this.publishState(XenbusState.Closed);
    });
  }
}

/** Ring protocol description shared by a front and a back end. */
export interface RingProtocol<Req, Rsp> {
  readonly request: RingCodec<Req>;
  readonly response: RingCodec<Rsp>;
  readonly ids: RingIds<Req, Rsp>;
}

/** A front end with one shared ring: publishes ring-ref and event-channel. */
export class RingFrontend<Req, Rsp> extends PvFrontend {
  ring: AsyncFrontRing<Req, Rsp> | null = null;
  channel: EventChannel | null = null;
  private ringPfn = -1;
  private ringRef = -1;

  constructor(
    env: PvEnv,
    type: string,
    devid: number,
    readonly protocol: RingProtocol<Req, Rsp>,
    readonly flushMode: FlushMode = "microtask",
  ) {
    super(env, type, devid);
  }

  protected override async setup(backendId: number): Promise<Record<string, string>> {
    this.ringPfn = this.env.ctx.allocPage();
    if (this.ringPfn < 0) throw new XenbusError("no free guest page for the ring");
    const front = new FrontRing(
      new GuestPage(this.env.ctx.mem, this.ringPfn),
      this.protocol.request,
      this.protocol.response,
    );
    this.ringRef = this.env.grants.grantAccess(backendId, this.ringPfn);
    this.channel = await EventChannel.allocUnbound(this.env.hypercalls, this.env.events, backendId);
    const ch = this.channel;
    this.ring = new AsyncFrontRing(front, () => ch.notify(), this.protocol.ids, this.flushMode);
    const ring = this.ring;
    ch.events$.subscribe(() => ring.onNotification());
    return { "ring-ref": String(this.ringRef), "event-channel": String(ch.port) };
  }

  protected override async teardown(): Promise<void> {
    this.ring?.shutdown();
    await this.channel?.close();
    if (this.ringRef >= 0) this.env.grants.endAccess(this.ringRef);
  }

  /** Sends one request; resolves with its response. */
  request(req: Req): Promise<Rsp> {
    if (!this.ring) return Promise.reject(new XenbusError("not connected"));
    return this.ring.request(req);
  }
}

/** A back end with one shared ring: maps ring-ref, binds event-channel. */
export class RingBackend<Req, Rsp> extends PvBackend {
  ring: AsyncBackRing<Req, Rsp> | null = null;
  channel: EventChannel | null = null;
  private mapping: GrantMapping | null = null;

  constructor(
    env: PvEnv,
    type: string,
    frontendId: number,
    devid: number,
    readonly protocol: RingProtocol<Req, Rsp>,
    /** Called with the ring once connected, before the first request is taken. */
    private readonly serve: (ring: AsyncBackRing<Req, Rsp>) => void,
    readonly flushMode: FlushMode = "microtask",
    /** Yield once before sleeping so a busy front end can refill without notifying (see AsyncBackRing). */
    readonly pollBeforeSleep = true,
  ) {
    super(env, type, frontendId, devid);
  }

  protected override async attach(): Promise<void> {
    const ref = Number(await this.frontendKey("ring-ref"));
    const port = Number(await this.frontendKey("event-channel"));
    this.mapping = await this.env.grants.map(this.frontendId, ref);
    const back = new BackRing(this.mapping.page, this.protocol.request, this.protocol.response);
    this.channel = await EventChannel.bindInterdomain(
      this.env.hypercalls,
      this.env.events,
      this.frontendId,
      port,
    );
    const ch = this.channel;
    this.ring = new AsyncBackRing(
      back,
      () => ch.notify(),
      this.flushMode,
      this.pollBeforeSleep ? () => this.env.hypercalls.schedYield() : null,
    );
    const ring = this.ring;
    this.serve(ring);
    ch.events$.subscribe(() => ring.onNotification());
    ring.onNotification(); // requests published before we bound the port
  }

  protected override async detach(): Promise<void> {
    this.ring?.shutdown();
    await this.channel?.close();
    // Unmap before the front end ends access: the grant stays pinned until then.
    if (this.mapping) await this.env.grants.unmap(this.mapping);
    this.mapping = null;
  }
}
