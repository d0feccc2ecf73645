/**
 * Mercury: Webex's websocket for events.
 *
 * Life of a socket, as the SDK expects it:
 *   1. The device registration (wdm) hands out webSocketUrl; the SDK opens it with
 *      ?outboundWireFormat=text&bufferStates=true&aliasHttpStatus=true&multipleConnections=true.
 *   2. Client sends {"type":"authorization","data":{"token":"Bearer ..."}}.
 *   3. Server sends a frame whose data.eventType is "mercury.buffer_state" (no top-level type).
 *      Only then does the SDK consider itself connected ("online") and start pinging; events go
 *      only to sockets past this point.
 *   4. Client pings {"id","type":"ping"}; server answers {"id":<same id>,"type":"pong"}.
 *   5. Server frames carry an id and a per-socket sequenceNumber; the client acks each id.
 * Delivery: an event goes to every socket of each device that is online when it is sent, and stays
 * un-acked per device until some socket acks it. What becomes of the rest is FaultState.redelivery:
 * under 'none' nothing more (an event no socket took, or whose sockets all died un-acked, is gone);
 * under 'queue' un-acked events whose sockets all died are delivered again on another live socket
 * of the device, or on its next one once that gets its buffer_state, and events sent while the
 * device had no socket (or was silenced) wait for it.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { newUuid } from './ids.js';
import type { FaultState, MalformedKind } from './faults.js';
import type { TrafficLog } from './log.js';
import type { Activity, SimState } from './state.js';

export interface SimConnection {
  id: string;
  deviceId: string;
  open: boolean;
  authorized: boolean;
  openedAt: number;
  closedAt?: number;
  closeCode?: number;
  multipleConnections: boolean;
}

interface Conn extends SimConnection {
  ws: WebSocket;
  seq: number;
  /** buffer_state sent: events flow only from then on, as on Webex. */
  ready: boolean;
}

/** What the simulator reads of a frame from the SDK; others' fields are only logged. */
interface ClientFrame {
  id?: string;
  type?: string;
  messageId?: string;
  data?: { token?: string };
}

interface Pending {
  id: string;
  frame: Record<string, unknown>;
  /** Sockets this event was written to and that are still open. */
  sentOn: Set<string>;
}

/** Path of a device's socket; the device uuid is the segment after "registrations". */
export const MERCURY_PATH = '/mercury/api/v1/apps/wx2/registrations';

export class MercuryServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  private readonly conns = new Map<string, Conn>();
  private readonly hung = new Set<Duplex>();
  /** deviceUuid -> eventId -> pending (un-acked) event, in insertion order. */
  private readonly pending = new Map<string, Map<string, Pending>>();

  constructor(
    private readonly state: SimState,
    private readonly faults: FaultState,
    private readonly log: TrafficLog,
    private readonly botToken: string,
  ) {
    state.on('activity', (a) => this.publish(a));
  }

  /** http server 'upgrade' handler. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = new RegExp(`^${MERCURY_PATH}/([^/]+)/messages$`).exec(url.pathname);
    const device = m ? this.state.devices.get(m[1]!) : undefined;
    this.log.log('ws-upgrade', { path: url.pathname });
    if (this.faults.hangUpgrades) {
      // Read and never answered, like a server that is up but wedged; held until stop().
      this.hung.add(socket);
      socket.once('close', () => this.hung.delete(socket));
      return;
    }
    const refusal = this.faults.takeUpgradeRefusal();
    const status = refusal ?? (!device ? 404 : device.deleted ? 404 : undefined);
    if (status) {
      // A refused upgrade is a plain HTTP response; the SDK's ws sees "Unexpected server response".
      this.log.log('ws-refused', { path: url.pathname, status });
      socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, device!.uuid, url));
  }

  private accept(ws: WebSocket, deviceId: string, url: URL): void {
    const conn: Conn = {
      id: newUuid(),
      deviceId,
      ws,
      open: true,
      authorized: false,
      openedAt: Date.now(),
      multipleConnections: url.searchParams.get('multipleConnections') === 'true',
      seq: 0,
      ready: false,
    };
    this.conns.set(conn.id, conn);
    this.log.log('ws-open', { conn: conn.id, device: deviceId, query: Object.fromEntries(url.searchParams) });
    if (this.faults.notReading) this.pauseReading(conn);
    ws.on('message', (data, isBinary) => this.onFrame(conn, data, isBinary));
    ws.on('close', (code, reason) => {
      conn.open = false;
      conn.closedAt = Date.now();
      conn.closeCode = code;
      // Events written to this socket but not acked go to another live socket of the device, or to
      // its next one; or nowhere.
      const heldOnlyHere = [...(this.pending.get(deviceId)?.values() ?? [])].filter((p) => p.sentOn.delete(conn.id) && p.sentOn.size === 0);
      const other = this.openConns(deviceId).find((c) => c.ready);
      if (this.faults.redelivery === 'none') this.forget(deviceId, heldOnlyHere);
      else if (other && !this.faults.silent) this.redeliver(other, heldOnlyHere);
      this.log.log('ws-close', { conn: conn.id, code, reason: reason.toString() });
    });
    ws.on('error', (err) => this.log.log('ws-error', { conn: conn.id, error: String(err) }));
  }

  private onFrame(conn: Conn, data: RawData, isBinary: boolean): void {
    // The server keeps ws's default binaryType, so a message arrives as one Buffer.
    const text = isBinary ? '<binary>' : (data as Buffer).toString();
    let frame: ClientFrame;
    try {
      frame = JSON.parse(text) as ClientFrame;
    } catch {
      this.log.log('ws-in', { conn: conn.id, malformed: text.slice(0, 200) });
      return;
    }
    this.log.log('ws-in', { conn: conn.id, frame });
    switch (frame.type) {
      case 'authorization':
        return this.authorize(conn, frame.data?.token);
      case 'ping':
        // Silence: the socket stays up but the server neither answers nor delivers.
        if (!this.faults.silent) this.send(conn, { id: frame.id, type: 'pong' });
        return;
      case 'ack':
        if (frame.messageId) this.pending.get(conn.deviceId)?.delete(frame.messageId);
        return;
      case undefined: // untyped frames, like those of any other type, are only logged (above)
      default:
        return;
    }
  }

  private authorize(conn: Conn, token: string | undefined): void {
    if (token !== `Bearer ${this.botToken}`) {
      conn.ws.close(4401, 'authentication failed');
      return;
    }
    conn.authorized = true;
    // Replace semantics: one socket per device unless the client asked for multipleConnections.
    if (this.faults.replaceOnNewConnection || !conn.multipleConnections) {
      for (const other of this.conns.values()) {
        if (other !== conn && other.deviceId === conn.deviceId && other.open) {
          this.log.log('ws-replace', { conn: other.id, by: conn.id });
          other.ws.close(4000, 'replaced');
        }
      }
    }
    if (this.faults.withholdBufferState) return;
    conn.ready = true;
    this.send(conn, {
      id: newUuid(),
      data: { eventType: 'mercury.buffer_state', fastPath: false, conversation: 'UNKNOWN', locus: 'UNKNOWN' },
    });
    this.redeliver(conn);
  }

  /** Send un-acked events (of `events`, or all) that no open socket of this device is currently holding. */
  private redeliver(conn: Conn, events?: Pending[]): void {
    if (this.faults.silent || this.faults.redelivery === 'none') return;
    for (const p of events ?? this.pending.get(conn.deviceId)?.values() ?? []) {
      if (this.held(p)) continue;
      p.sentOn.add(conn.id);
      this.send(conn, { ...p.frame, redelivered: true });
    }
  }

  /** Fan an activity out to every live device of the bot. */
  private publish(activity: Activity): void {
    const id = newUuid();
    const frame = {
      id,
      data: { eventType: 'conversation.activity', activity },
      timestamp: Date.now(),
      trackingId: `sim_${id}`,
      alertType: 'full',
      headers: {},
      filterMessage: false,
    };
    for (const device of this.state.devices.values()) {
      if (device.deleted || this.faults.deafDevices.has(device.uuid)) continue;
      const p: Pending = { id, frame, sentOn: new Set() };
      // Silenced: written nowhere (under 'queue' it waits for the next socket).
      for (const c of this.faults.silent ? [] : this.conns.values()) {
        if (c.deviceId === device.uuid && c.open && c.ready && c.ws.readyState === c.ws.OPEN) {
          p.sentOn.add(c.id);
          this.send(c, frame);
        }
      }
      if (p.sentOn.size === 0 && this.faults.redelivery === 'none') continue;
      let q = this.pending.get(device.uuid);
      if (!q) this.pending.set(device.uuid, (q = new Map<string, Pending>()));
      q.set(id, p);
    }
  }

  private forget(deviceId: string, events: Pending[]): void {
    for (const p of events) this.pending.get(deviceId)?.delete(p.id);
  }

  /** The server speaks again: under 'queue', what waited goes to the sockets that came up meanwhile (they got none on authorizing). */
  silenceLifted(): void {
    for (const c of this.conns.values()) if (c.open && c.ready) this.redeliver(c);
  }

  /** Called when FaultState.redelivery changes: under 'none', events no open socket holds are gone. */
  redeliveryChanged(): void {
    if (this.faults.redelivery !== 'none') return;
    for (const [deviceId, q] of this.pending) {
      this.forget(
        deviceId,
        [...q.values()].filter((p) => !this.held(p)),
      );
    }
  }

  /** Is an open socket holding this event (written to it, not yet acked)? */
  private held(p: Pending): boolean {
    return [...p.sentOn].some((id) => this.conns.get(id)?.open);
  }

  private send(conn: Conn, frame: Record<string, unknown>): void {
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    const out = { ...frame, sequenceNumber: ++conn.seq, wsWriteTimestamp: Date.now() };
    this.log.log('ws-out', { conn: conn.id, frame: out });
    conn.ws.send(JSON.stringify(out));
  }

  private pauseReading(conn: Conn): void {
    // ws reads from the underlying net.Socket; pausing it means nothing (pings, acks) is read.
    (conn.ws as unknown as { _socket?: { pause(): void } })._socket?.pause();
  }

  setReading(on: boolean): void {
    for (const c of this.openConns()) {
      const s = (c.ws as unknown as { _socket?: { pause(): void; resume(): void } })._socket;
      if (on) s?.resume();
      else s?.pause();
    }
  }

  private openConns(deviceId?: string): Conn[] {
    return [...this.conns.values()].filter((c) => c.open && (!deviceId || c.deviceId === deviceId));
  }

  /** Drop the TCP connection without a close frame: the client sees 1006. */
  kill(deviceId?: string): number {
    const cs = this.openConns(deviceId);
    for (const c of cs) {
      this.log.log('fault', { action: 'kill', conn: c.id });
      c.ws.terminate();
    }
    return cs.length;
  }

  /**
   * Close with a code and reason. 4001 is the drain sequence: a {"type":"shutdown"} frame first
   * (the SDK then opens a replacement socket, make-before-break), the close after graceMs.
   */
  close(code: number, reason: string, opts: { deviceId?: string; graceMs?: number } = {}): number {
    const cs = this.openConns(opts.deviceId);
    for (const c of cs) {
      this.log.log('fault', { action: 'close', conn: c.id, code, reason });
      if (code === 4001) {
        this.send(c, { id: newUuid(), type: 'shutdown' });
        setTimeout(() => c.ws.close(4001, reason), opts.graceMs ?? 300).unref();
      } else {
        c.ws.close(code, reason);
      }
    }
    return cs.length;
  }

  /** Write a broken frame to every open socket. */
  malformed(kind: MalformedKind, deviceId?: string): number {
    const cs = this.openConns(deviceId);
    for (const c of cs) {
      this.log.log('fault', { action: 'malformed', kind, conn: c.id });
      switch (kind) {
        case 'not-json':
          c.ws.send('{"id": this is not json');
          break;
        case 'binary':
          c.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
          break;
        case 'no-id':
          c.ws.send(JSON.stringify({ sequenceNumber: ++c.seq, data: { eventType: 'conversation.activity', activity: {} } }));
          break;
        case 'no-data':
          this.send(c, { id: newUuid() });
          break;
        case 'unknown-event':
          this.send(c, { id: newUuid(), data: { eventType: 'sim.unknown_event', payload: 42 } });
          break;
      }
    }
    return cs.length;
  }

  /** A syntactically valid but huge event frame (bytes of padding). */
  oversized(bytes: number, deviceId?: string): number {
    const cs = this.openConns(deviceId);
    for (const c of cs) {
      this.log.log('fault', { action: 'oversized', bytes, conn: c.id });
      this.send(c, { id: newUuid(), data: { eventType: 'sim.oversized', padding: 'x'.repeat(bytes) } });
    }
    return cs.length;
  }

  connections(): SimConnection[] {
    return [...this.conns.values()].map(({ ws: _ws, seq: _seq, ready: _ready, ...rest }) => ({ ...rest }));
  }

  /** Number of events waiting for an ack, per device. */
  pendingCount(deviceId: string): number {
    return this.pending.get(deviceId)?.size ?? 0;
  }

  async stop(): Promise<void> {
    for (const c of this.conns.values()) if (c.open) c.ws.terminate();
    for (const socket of this.hung) socket.destroy();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
