/**
 * A domain's console: bytes written through console_io or the xencons ring page, split into
 * lines for the runner (which prefixes them per domain), and an input queue for console_io read.
 */
import { Subject } from "rxjs";

export interface ConsoleLine {
  readonly domid: number;
  readonly name: string;
  readonly text: string;
}

export class DomainConsole {
  /** Everything the guest wrote, as text (for tests and `--stats`). */
  output = "";
  private partial = "";
  private readonly input: number[] = [];
  private readonly lines$ = new Subject<ConsoleLine>();
  private readonly decoder = new TextDecoder("latin1");

  constructor(
    readonly domid: number,
    readonly name: string,
  ) {}

  /** Complete lines as the guest finishes them (and the trailing partial line on flush). */
  get lines(): Subject<ConsoleLine> {
    return this.lines$;
  }

  write(bytes: Uint8Array): void {
    const text = this.decoder.decode(bytes);
    this.output += text;
    this.partial += text;
    let nl = this.partial.indexOf("\n");
    while (nl >= 0) {
      this.lines$.next({ domid: this.domid, name: this.name, text: this.partial.slice(0, nl) });
      this.partial = this.partial.slice(nl + 1);
      nl = this.partial.indexOf("\n");
    }
  }

  /** Emits an unterminated last line, e.g. when the domain dies. */
  flush(): void {
    if (this.partial.length > 0) {
      this.lines$.next({ domid: this.domid, name: this.name, text: this.partial });
      this.partial = "";
    }
  }

  /** Queues host input for console_io read / the ring's `in` side. */
  feed(bytes: Uint8Array): void {
    for (const b of bytes) this.input.push(b);
  }

  /** Takes up to `max` queued input bytes. */
  take(max: number): Uint8Array {
    return Uint8Array.from(this.input.splice(0, Math.max(0, max)));
  }

  get pendingInput(): number {
    return this.input.length;
  }

  close(): void {
    this.flush();
    this.lines$.complete();
  }
}
