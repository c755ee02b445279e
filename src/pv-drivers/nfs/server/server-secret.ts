/**
 * The key that authenticates file handles. It lives in a small JSON state file outside the
 * export (never inside: a client could read it and forge handles), so handles survive a
 * server restart; without a usable state file the key is random per run (handles then go
 * stale on restart, which NFS clients handle by re-looking-up from the mount).
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { PvkitError } from "../../../machine/index.js";

/** Raised when the NFS server cannot start (bad export, state file in the export, …). */
export class NfsServerError extends PvkitError {}

/** The default state file: $XDG_STATE_HOME/pvkit/nfs-state.json or ~/.local/state/pvkit/nfs-state.json. */
export function defaultStateFile(): string {
  const base = process.env.XDG_STATE_HOME ?? join(homedir(), ".local", "state");
  return join(base, "pvkit", "nfs-state.json");
}

interface StateFileV1 {
  readonly version: 1;
  /** 32 random bytes, hex. */
  readonly secret: string;
}

/** Outcome of loading the secret: the key and whether it persists across restarts. */
export interface HandleSecret {
  readonly key: Uint8Array;
  readonly persistent: boolean;
  /** Why the key is not persistent, for the start-up message. */
  readonly warning?: string;
}

/**
 * Reads the secret from `stateFile`, creating it (mode 0600, written then renamed) when absent.
 * Refuses a state file inside the export root.
 */
export async function loadHandleSecret(stateFile: string, exportRoot: string): Promise<HandleSecret> {
  const path = resolve(stateFile);
  if (path === exportRoot || path.startsWith(exportRoot + sep)) {
    throw new NfsServerError(
      `state file ${path} is inside the export ${exportRoot}; clients could read it. Pass --state-file outside the export.`,
    );
  }
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<StateFileV1>;
    if (parsed.version === 1 && typeof parsed.secret === "string" && /^[0-9a-f]{64}$/.test(parsed.secret)) {
      return { key: Buffer.from(parsed.secret, "hex"), persistent: true };
    }
    return {
      key: randomBytes(32),
      persistent: false,
      warning: `state file ${path} is malformed; using a key for this run only`,
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      return {
        key: randomBytes(32),
        persistent: false,
        warning: `cannot read ${path} (${(err as Error).message})`,
      };
    }
  }
  const key = randomBytes(32);
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    const state: StateFileV1 = { version: 1, secret: key.toString("hex") };
    await writeFile(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    await rename(tmp, path);
    return { key, persistent: true };
  } catch (err) {
    return { key, persistent: false, warning: `cannot write ${path} (${(err as Error).message})` };
  }
}
