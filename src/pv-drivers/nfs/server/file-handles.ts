/**
 * NFSv3 file handles: who a file is on the host (device, inode, birth time as a generation
 * number) plus the export it belongs to, authenticated with an HMAC so clients cannot forge
 * handles to files they never looked up.
 *
 * Layout (48 bytes, ≤ NFS3_FHSIZE = 64, RFC 1813 §2.4), all big-endian:
 * ```
 *  0  u8   version (1)
 *  1  u8[3] zero
 *  4  u32  export id    first 4 bytes of HMAC(key, "export\0" + export root path)
 *  8  u64  st_dev
 * 16  u64  st_ino
 * 24  u64  generation   st_birthtime in ns (statx btime), 0 where the host has none
 * 32  u8[16] mac        HMAC-SHA256(key, bytes 0..31), truncated
 * ```
 * Device + inode + birth time survive a server restart and tell a replaced file (same
 * inode number reused) from the original.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Handle size in bytes. */
export const FILE_HANDLE_BYTES = 48;
const VERSION = 1;
const MAC_OFFSET = 32;
const MAC_BYTES = 16;

/** The identity a handle names. */
export interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly generation: bigint;
}

/** Map key of an identity without the generation ("dev:ino"). */
export function identityKey(dev: bigint, ino: bigint): string {
  return `${dev}:${ino}`;
}

/** Encodes and authenticates handles for one export. */
export class FileHandleCodec {
  private readonly exportId: number;

  constructor(
    private readonly key: Uint8Array,
    exportRoot: string,
  ) {
    this.exportId = createHmac("sha256", key).update(`export\0${exportRoot}`).digest().readUInt32BE(0);
  }

  /** A fresh handle for the identity. */
  encode(id: FileIdentity): Uint8Array {
    const fh = Buffer.alloc(FILE_HANDLE_BYTES);
    fh[0] = VERSION;
    fh.writeUInt32BE(this.exportId, 4);
    fh.writeBigUInt64BE(BigInt.asUintN(64, id.dev), 8);
    fh.writeBigUInt64BE(BigInt.asUintN(64, id.ino), 16);
    fh.writeBigUInt64BE(BigInt.asUintN(64, id.generation), 24);
    this.mac(fh.subarray(0, MAC_OFFSET)).copy(fh, MAC_OFFSET, 0, MAC_BYTES);
    return fh;
  }

  /** The identity in a handle, or undefined when it is not one of ours (wrong size, export or MAC). */
  decode(fh: Uint8Array): FileIdentity | undefined {
    if (fh.length !== FILE_HANDLE_BYTES || fh[0] !== VERSION) return undefined;
    const b = Buffer.from(fh.buffer, fh.byteOffset, fh.byteLength);
    if (b[1] !== 0 || b[2] !== 0 || b[3] !== 0 || b.readUInt32BE(4) !== this.exportId) return undefined;
    const expected = this.mac(b.subarray(0, MAC_OFFSET)).subarray(0, MAC_BYTES);
    if (!timingSafeEqual(expected, b.subarray(MAC_OFFSET, MAC_OFFSET + MAC_BYTES))) return undefined;
    return { dev: b.readBigUInt64BE(8), ino: b.readBigUInt64BE(16), generation: b.readBigUInt64BE(24) };
  }

  /** 8 bytes derived from the key and a label (cookie verifiers). */
  derive8(label: string): Uint8Array {
    return this.mac(Buffer.from(label)).subarray(0, 8);
  }

  private mac(data: Uint8Array): Buffer {
    return createHmac("sha256", this.key).update(data).digest();
  }
}
