/**
 * The toolstack's store side (what libxl does in Xen): creates each domain's home
 * /local/domain/<id>, writes split-driver device entries for a front and a back end, and
 * cleans up when a domain goes away. Runs as dom0 through the daemon's host API.
 *
 * Device entries follow libxl's layout and permissions:
 *   /local/domain/<fe>/device/<type>/<devid>         owner fe, back end may read  ("n<fe>", "r<be>")
 *       backend, backend-id, state
 *   /local/domain/<be>/backend/<type>/<fe>/<devid>   owner be, front end may read ("n<be>", "r<fe>")
 *       frontend, frontend-id, online, state
 * Both `state` keys start at XenbusState Initialising (1) (xen/include/public/io/xenbus.h).
 */
import type { XenStore } from "./xenstored.js";

/** A split device to wire between two domains. */
export interface DeviceSpec {
  /** Device class as in Xen's paths: "vbd", "vif", "console", "echo", … */
  type: string;
  frontend: number;
  backend: number;
  devid: number;
  /** Extra keys for the front end's directory (values as strings). */
  frontendKeys?: Record<string, string>;
  /** Extra keys for the back end's directory. */
  backendKeys?: Record<string, string>;
}

/** The store paths of one device. */
export interface DevicePaths {
  frontend: string;
  backend: string;
}

const XENBUS_STATE_INITIALISING = 1;

export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

export function devicePaths(d: Pick<DeviceSpec, "type" | "frontend" | "backend" | "devid">): DevicePaths {
  return {
    frontend: `${domainPath(d.frontend)}/device/${d.type}/${d.devid}`,
    backend: `${domainPath(d.backend)}/backend/${d.type}/${d.frontend}/${d.devid}`,
  };
}

export class StoreToolstack {
  constructor(readonly store: XenStore) {
    store.hostMkdir("/local", ["n0"]);
    store.hostMkdir("/local/domain", ["n0"]);
  }

  /** Creates /local/domain/<id> owned by the domain (others: no access) with name and domid. */
  createDomain(domid: number, name: string): string {
    const home = domainPath(domid);
    this.store.hostMkdir(home, [`n${domid}`]);
    this.store.hostWrite(`${home}/name`, name, [`n${domid}`]);
    this.store.hostWrite(`${home}/domid`, String(domid), [`n${domid}`]);
    this.store.hostMkdir(`${home}/device`, [`n${domid}`]);
    this.store.hostMkdir(`${home}/data`, [`n${domid}`]);
    this.store.hostIntroduce(domid);
    return home;
  }

  /** Writes both halves of a device's entries; each side can read the other's directory. */
  addDevice(d: DeviceSpec): DevicePaths {
    const p = devicePaths(d);
    const fePerms = [`n${d.frontend}`, `r${d.backend}`];
    const bePerms = [`n${d.backend}`, `r${d.frontend}`];
    this.store.hostMkdir(`${domainPath(d.backend)}/backend`, [`n${d.backend}`]);
    this.store.hostMkdir(p.frontend, fePerms);
    this.store.hostMkdir(p.backend, bePerms);
    const fe: Record<string, string> = {
      backend: p.backend,
      "backend-id": String(d.backend),
      state: String(XENBUS_STATE_INITIALISING),
      ...d.frontendKeys,
    };
    const be: Record<string, string> = {
      frontend: p.frontend,
      "frontend-id": String(d.frontend),
      online: "1",
      state: String(XENBUS_STATE_INITIALISING),
      ...d.backendKeys,
    };
    for (const [k, v] of Object.entries(fe)) this.store.hostWrite(`${p.frontend}/${k}`, v, fePerms);
    for (const [k, v] of Object.entries(be)) this.store.hostWrite(`${p.backend}/${k}`, v, bePerms);
    return p;
  }

  /** Removes a device's entries (both halves). */
  removeDevice(d: Pick<DeviceSpec, "type" | "frontend" | "backend" | "devid">): void {
    const p = devicePaths(d);
    this.store.hostRm(p.frontend);
    this.store.hostRm(p.backend);
  }

  /**
   * Forgets a destroyed domain: its home, the back-end directories other domains hold for it,
   * its connection; fires @releaseDomain.
   */
  destroyDomain(domid: number): void {
    this.store.hostRm(domainPath(domid));
    for (const other of this.store.hostDirectory("/local/domain")) {
      for (const type of this.store.hostDirectory(`/local/domain/${other}/backend`)) {
        this.store.hostRm(`/local/domain/${other}/backend/${type}/${domid}`);
      }
    }
    this.store.hostRelease(domid);
  }
}
