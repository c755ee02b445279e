/**
 * `scan_for_nonvirtualizable` (the seed's VMware section; Robin & Irvine's 17 instructions):
 * before guest ring-0 code runs, the monitor follows its basic blocks from the entry point and
 * replaces every sensitive non-trapping instruction with INT3 (0xCC). The classification is the
 * opcode table's (`vclass === "sensitive"` from src/machine/x86/opcodes.ts): nothing here lists
 * opcodes by hand except the control-flow shapes the scan follows.
 *
 * Patched code lives in a copy of each code frame ("patched copy"), never in the guest's frame:
 * the guest's ring-0 code descriptors get a private CS base (the code window in the monitor hole),
 * so instruction fetch goes to CODE_WINDOW_BASE + EIP and reaches the copy through the shadow
 * page tables, while every data access (DS/ES/SS, and hence the guest reading its own code)
 * reaches the original frame: self-examining code sees unpatched bytes by plain segmentation
 * and paging — no fetch-path overlay.
 *
 * Policy for returns and indirect branches (counted as `lazyEntryScans`): they run natively. A
 * copy starts filled with INT3, and only bytes the scan reached are copied, so the first arrival
 * at an entry the scan has not seen — a return address, an indirect jump or call target, a
 * branch into another page — traps as a breakpoint that is not a patch; the monitor scans from
 * there and resumes. Direct branches within the page are followed at scan time; conditional
 * branches scan both ways; calls scan the target and the fall-through.
 *
 * Self-modifying code: the original frame of every copy is watched (PhysicalMemory page
 * watching); a write to a byte the scan copied drops the copy and unmaps it from every shadow,
 * so the next fetch rescans (writes to bytes never scanned leave the copy alone: see onWrite).
 */
import { type PhysicalMemory, x86 } from "../../machine/index.js";

export interface Patch {
  /** Bytes of the original instruction. */
  readonly length: number;
  readonly mnemonic: string;
}

export interface CodeCopy {
  /** Guest frame whose code this copies. */
  readonly pfn: number;
  /** Machine frame of the original and of the copy. */
  readonly origMfn: number;
  readonly mfn: number;
  /** 1 where the scan copied (or patched) the byte. */
  readonly scanned: Uint8Array;
  /** Patched instructions by page offset. */
  readonly patches: Map<number, Patch>;
  /** Machine addresses of shadow PTEs that map the copy (unmapped on invalidation). */
  readonly mappings: number[];
}

export interface ScannerHost {
  /** Guest frame of guest linear `lin` for an instruction fetch (supervisor), or -1. */
  pfnOf(lin: number): number;
  /** Machine frame of guest frame `pfn`, or -1. */
  mfnOf(pfn: number): number;
  allocFrame(): number;
  freeFrame(mfn: number): void;
  /** The CPU's translations may be stale. */
  flushTlb(): void;
}

export interface ScanCounters {
  patches: number;
  pagesScanned: number;
  scans: number;
  codeInvalidations: number;
}

const INT3 = 0xcc;
const MAX_WORK = 4096;

export class CodeScanner {
  readonly copies = new Map<number, CodeCopy>();
  private readonly byOrigMfn = new Map<number, CodeCopy>();
  private readonly buf = new Uint8Array(15);
  private readonly work = new Int32Array(MAX_WORK);
  frames = 0;

  constructor(
    private readonly mem: PhysicalMemory,
    private readonly host: ScannerHost,
    private readonly counters: ScanCounters,
  ) {}

  /** The copy of guest frame `pfn`, made (all INT3, original watched) if missing; null if no frame. */
  copyOf(pfn: number): CodeCopy | null {
    const c = this.copies.get(pfn);
    if (c !== undefined) return c;
    const origMfn = this.host.mfnOf(pfn);
    const mfn = this.host.allocFrame();
    if (origMfn < 0 || mfn < 0) return null;
    this.frames++;
    this.mem.u8.fill(INT3, mfn * 4096, mfn * 4096 + 4096);
    // The CPU may hold compiled blocks of this frame from an earlier use: tell it (page watch).
    if (this.mem.watched[mfn] !== 0) this.mem.notifyWatchedWrite(mfn * 4096, 4096);
    const copy: CodeCopy = {
      pfn,
      origMfn,
      mfn,
      scanned: new Uint8Array(4096),
      patches: new Map(),
      mappings: [],
    };
    this.copies.set(pfn, copy);
    this.byOrigMfn.set(origMfn, copy);
    this.mem.watchPage(origMfn, true);
    this.counters.pagesScanned++;
    return copy;
  }

  /** Reads up to 15 original bytes at guest linear `lin` into the scratch buffer; returns how many. */
  private fetchOriginal(lin: number): number {
    let n = 0;
    while (n < 15) {
      const a = (lin + n) >>> 0;
      const pfn = this.host.pfnOf(a);
      if (pfn < 0) break;
      const mfn = this.host.mfnOf(pfn);
      if (mfn < 0) break;
      this.buf[n] = this.mem.u8[mfn * 4096 + (a & 0xfff)]!;
      n++;
    }
    return n;
  }

  /**
   * scan_for_nonvirtualizable from entry `eip` (guest linear, flat code): follows basic blocks
   * within the entry's page, copying instructions into the page's copy and patching sensitive
   * ones with INT3. Returns false if the entry's frame cannot be copied.
   */
  scan(eip: number): boolean {
    const page = (eip & ~0xfff) >>> 0;
    const pfn = this.host.pfnOf(page);
    if (pfn < 0) return false;
    const copy = this.copyOf(pfn);
    if (copy === null) return false;
    this.counters.scans++;
    const work = this.work;
    let top = 0;
    work[top++] = eip & 0xfff;
    while (top > 0) {
      let off = work[--top]!;
      for (;;) {
        if (off >= 4096 || copy.scanned[off] !== 0) break;
        const lin = (page + off) >>> 0;
        const n = this.fetchOriginal(lin);
        const d = x86.decodeInstruction(this.buf.subarray(0, n), true);
        if (d.length === 0 || d.entry === undefined) {
          // Undecodable: copy the bytes as they are, so the CPU raises #UD (or #PF) as natively.
          this.place(copy, page, off, Math.max(1, d.length), false);
          break;
        }
        const sensitive = d.vclass === "sensitive";
        this.place(copy, page, off, d.length, sensitive);
        if (sensitive) {
          this.counters.patches++;
          copy.patches.set(off, { length: d.length, mnemonic: d.entry.mnemonic });
        }
        const next = off + d.length;
        const op = d.opcode;
        const rel = d.immediates.length > 0 ? d.immediates[d.immediates.length - 1]! : 0;
        const target = next + rel;
        const push = (t: number) => {
          if (t >= 0 && t < 4096 && copy.scanned[t] === 0 && top < MAX_WORK) work[top++] = t;
        };
        if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f) || (op >= 0xe0 && op <= 0xe3)) {
          push(target); // conditional: both ways
          off = next;
          continue;
        }
        if (op === 0xeb || op === 0xe9) {
          push(target); // unconditional direct jump: the target only
          break;
        }
        if (op === 0xe8) {
          push(target); // direct call: target and the return point
          off = next;
          continue;
        }
        if (op === 0xc3 || op === 0xc2) break; // return: the policy above (lazy scan at the return address)
        if (op === 0xff && d.modrm !== null && (d.modrm.reg === 4 || d.modrm.reg === 5)) break; // indirect/far jmp
        if (sensitive && (op === 0xea || op === 0xcb || op === 0xca || op === 0xcf)) break; // far jmp/ret, iret
        off = next;
      }
    }
    this.host.flushTlb();
    return true;
  }

  /** Copies (or patches) one instruction of `len` bytes at `off`; bytes past the page go to the next copy. */
  private place(copy: CodeCopy, page: number, off: number, len: number, patch: boolean): void {
    let c = copy;
    let base = page;
    for (let i = 0; i < len; i++) {
      let o = off + i;
      if (o >= 4096) {
        if (c === copy) {
          const nextPfn = this.host.pfnOf((page + 4096) >>> 0);
          const nc = nextPfn < 0 ? null : this.copyOf(nextPfn);
          if (nc === null) return;
          c = nc;
          base = (page + 4096) >>> 0;
        }
        o -= 4096;
      }
      const b = patch && i === 0 ? INT3 : this.buf[i]!;
      // write8, not a raw store: the CPU's compiled blocks of the copy (watched page) must see it.
      this.mem.write8(c.mfn * 4096 + o, b);
      c.scanned[o] = 1;
      void base;
    }
  }

  /** Records that shadow PTE `pteAddr` maps `copy`. */
  mapped(copy: CodeCopy, pteAddr: number): void {
    copy.mappings.push(pteAddr);
  }

  /**
   * Watch handler: a store of `size` bytes at machine address `paddr` (it may cross into the next
   * frame). A copy is dropped only if the store touches a byte the scan copied: bytes it never
   * reached are still INT3 in the copy, so the first arrival there rescans the new original
   * anyway. Data sharing a page with code (compute's tables beside its loops) then costs
   * nothing, as on VMware, instead of a rescan per store.
   */
  onWrite(paddr: number, size: number): boolean {
    const end = paddr + Math.max(1, size);
    let dropped = false;
    for (let frame = paddr >>> 12; frame <= (end - 1) >>> 12; frame++) {
      const copy = this.byOrigMfn.get(frame);
      if (copy === undefined) continue;
      const base = frame * 4096;
      const hi = Math.min(end, base + 4096) - base;
      let o = Math.max(paddr, base) - base;
      while (o < hi && copy.scanned[o] === 0) o++;
      if (o === hi) continue;
      this.drop(copy);
      this.counters.codeInvalidations++;
      dropped = true;
    }
    return dropped;
  }

  private drop(copy: CodeCopy): void {
    for (const a of copy.mappings) {
      if (this.mem.read32(a) >>> 12 === copy.mfn) this.mem.write32(a, 0);
    }
    this.copies.delete(copy.pfn);
    this.byOrigMfn.delete(copy.origMfn);
    this.mem.watchPage(copy.origMfn, false);
    this.host.freeFrame(copy.mfn);
    this.frames--;
    this.host.flushTlb();
  }

  /** Drops every copy (the domain's address spaces were dropped). */
  dropAll(): void {
    for (const c of [...this.copies.values()]) this.drop(c);
  }
}
