/**
 * NFS over UDP/IP through an emulated NIC — the full-virtualization path of DESIGN.md's NFS
 * bullet: the guest's client sends the same ONC RPC records as the ring front end, one per
 * datagram, through its NE2000 (every register access a trap under `full`); the server's port
 * on the virtual switch answers them with the same real NFS server (SyncNfsExport).
 *
 * Addresses are static (no ARP): the server is 10.0.0.1 at SERVER_MAC, guest n is 10.0.0.(n+1)
 * and uses its card's MAC. The reply leaves the server port `backendPerRequest +
 * backendPerPage × pages` cycles after the call arrived (the host's work at cost-model time).
 */
import type { SimClock } from "../../../src/machine/index.js";
import {
  AcceptStat,
  authSysBody,
  type NetDevice,
  Nfs3Client,
  NfsTransportError,
  type RpcCaller,
  type RpcResult,
  readReplyHeader,
  type SwitchPort,
  type SyncRecordHandler,
  type VirtualSwitch,
  writeCallHeader,
  XdrWriter,
} from "../../../src/pv-drivers/index.js";
import type { FrameInbox } from "../net/frame.js";
import { buildUdpFrame, formatIp, ip4, parseUdpFrame, UDP_MAX_PAYLOAD } from "./udp-ip.js";

export const SERVER_MAC = Uint8Array.of(0x00, 0x16, 0x3e, 0x00, 0xff, 0x01);
export const SERVER_IP = ip4(10, 0, 0, 1);
export const NFS_PORT = 2049;
/** READ/WRITE size that keeps every datagram in one frame (NFSv2-era rsize=1024 over UDP). */
export const UDP_TRANSFER = 1024;

/** The server's port on the switch: parses IPv4/UDP, answers RPCs to 10.0.0.1:2049. */
export function attachNfsUdpServer(
  sw: VirtualSwitch,
  server: SyncRecordHandler,
  clock: SimClock,
  costs: { readonly backendPerRequest: number; readonly backendPerPage: number },
): { port: SwitchPort; counters: { calls: number; dropped: number; replyBytes: number } } {
  const counters = { calls: 0, dropped: 0, replyBytes: 0 };
  const port: SwitchPort = sw.attachHost("nfs-udp", (frame) => {
    const d = parseUdpFrame(frame);
    if (d === null || d.dstIp !== SERVER_IP || d.dstPort !== NFS_PORT) {
      if (d !== null) counters.dropped++;
      return;
    }
    counters.calls++;
    const reply = server.handleRecordSync(d.payload, {
      transport: "udp",
      peer: `${formatIp(d.srcIp)}:${d.srcPort}`,
    });
    if (reply === null) return;
    const out = buildUdpFrame({
      dstMac: d.srcMac.slice(),
      srcMac: SERVER_MAC,
      srcIp: SERVER_IP,
      dstIp: d.srcIp,
      srcPort: NFS_PORT,
      dstPort: d.srcPort,
      payload: reply,
    });
    if (out === null) {
      counters.dropped++; // a reply larger than a frame: the client times out (no fragments)
      return;
    }
    counters.replyBytes += reply.length;
    const delay = costs.backendPerRequest + costs.backendPerPage * Math.ceil(reply.length / 4096);
    clock.after(delay, () => port.transmit(out));
  });
  return { port, counters };
}

/** One RPC at a time over UDP datagrams through a NetDevice. */
export class NfsUdpClient implements RpcCaller {
  readonly maxRead = UDP_TRANSFER;
  readonly nfs3: Nfs3Client;
  calls = 0;
  private xid: number;
  private readonly credBody: Uint8Array;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dev: NetDevice,
    private readonly inbox: FrameInbox,
    private readonly ip: number,
    private readonly localPort = 800,
  ) {
    this.xid = (ip & 0xff) << 24;
    this.credBody = authSysBody({ uid: 1000, gid: 1000, machineName: `pvkit-${formatIp(ip)}`, gids: [1000] });
    this.nfs3 = new Nfs3Client(this);
  }

  readReplyPages(): number {
    return 0;
  }

  call(prog: number, vers: number, proc: number, args: (w: XdrWriter) => void): Promise<RpcResult> {
    const p = this.busy.then(() => this.exchange(prog, vers, proc, args));
    this.busy = p.catch(() => undefined);
    return p;
  }

  private async exchange(
    prog: number,
    vers: number,
    proc: number,
    args: (w: XdrWriter) => void,
  ): Promise<RpcResult> {
    const w = new XdrWriter(1536);
    const xid = this.xid;
    this.xid = (this.xid + 1) >>> 0;
    writeCallHeader(w, xid, prog, vers, proc, this.credBody);
    args(w);
    if (w.length > UDP_MAX_PAYLOAD)
      throw new NfsTransportError(
        0,
        `call of ${w.length} bytes does not fit one datagram (${UDP_MAX_PAYLOAD})`,
      );
    const frame = buildUdpFrame({
      dstMac: SERVER_MAC,
      srcMac: this.dev.mac,
      srcIp: this.ip,
      dstIp: SERVER_IP,
      srcPort: this.localPort,
      dstPort: NFS_PORT,
      payload: w.bytes(),
    })!;
    this.calls++;
    await this.dev.send(frame);
    const got = await this.inbox.next((f) => {
      const d = parseUdpFrame(f);
      return (
        d !== null &&
        d.dstPort === this.localPort &&
        d.srcIp === SERVER_IP &&
        d.payload.length >= 4 &&
        new DataView(d.payload.buffer, d.payload.byteOffset).getUint32(0) === xid
      );
    });
    const h = readReplyHeader(parseUdpFrame(got)!.payload.slice());
    if (h.kind === "malformed") throw new NfsTransportError(0, `malformed RPC reply: ${h.reason}`);
    if (h.kind === "denied") throw new NfsTransportError(0, `RPC call denied (reject_stat ${h.rejectStat})`);
    if (h.acceptStat !== AcceptStat.Success)
      throw new NfsTransportError(0, `RPC call not accepted: accept_stat ${h.acceptStat}`);
    return { r: h.r };
  }
}

/** Makes an NFS workload of an emulated-NIC guest: its client, mounted. */
export async function udpClient(
  dev: NetDevice,
  inbox: FrameInbox,
  ip: number,
  exportPath: string,
): Promise<NfsUdpClient> {
  const c = new NfsUdpClient(dev, inbox, ip);
  await c.nfs3.mount(exportPath);
  return c;
}
