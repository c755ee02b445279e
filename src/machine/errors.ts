/** Base of every error pvkit raises on purpose; the message tells the user what to do. */
export class PvkitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A fault in the simulated hardware's configuration or a host-side misuse of a machine. */
export class MachineError extends PvkitError {}

/** A guest image that cannot be loaded (bad ELF, bad multiboot header, bad placement). */
export class LoaderError extends PvkitError {}
