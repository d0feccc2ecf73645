import type { Logger } from 'pino';
import { bounded, waitForEvent } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import { hydraIdsFor, type WebexSdk } from './sdk.js';
import { PERMANENT_CLOSE, attemptFailedEvent, onSocketFrames } from './sdk-internals.js';
import { FATAL_CLOSE_CODES, FatalWebexError, type CloseInfo, type IncomingActivity, type LinkConnection } from './types.js';

export interface MercuryConnectionOptions {
  /** An instance tamed by tameMercury(): one try per connect, no reconnects of its own. */
  sdk: WebexSdk;
  sessionId: string;
  log: Logger;
  /** Called once, when the session is closed. */
  onReleased: () => void;
}

/**
 * Opens one more Mercury session on the instance's device registration; resolves once it is online
 * (buffer_state seen). On failure or abort the session is closed (and released) before this rejects.
 */
export async function openMercuryConnection(opts: MercuryConnectionOptions, signal: AbortSignal): Promise<LinkConnection> {
  const { sdk, sessionId } = opts;
  const mercury = sdk.internal.mercury;
  const connection = new MercuryConnection(opts);
  // The SDK's first failed attempt ends the connect (tameMercury): its error, not the abort's.
  const settled = new AbortController();
  const failure = waitForEvent<unknown>(mercury, attemptFailedEvent(sessionId), { timeoutMs: Infinity, signal: settled.signal });
  failure.catch(() => undefined);
  const connected = Promise.race([mercury.connect(undefined, sessionId), failure.then((err) => Promise.reject(err))]);
  connected.catch(() => undefined); // an abort below rejects it; the outcome is read through `bounded`
  const onAbort = () => void connection.close();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await bounded(`mercury connect ${sessionId}`, connected, { timeoutMs: Infinity, signal });
  } catch (err) {
    await connection.close();
    throw classifyConnectError(err);
  } finally {
    signal.removeEventListener('abort', onAbort);
    settled.abort();
  }
  connection.attach();
  return connection;
}

function classifyConnectError(err: unknown): unknown {
  const code = (err as { code?: number }).code;
  if (code !== undefined && FATAL_CLOSE_CODES.has(code)) {
    return new FatalWebexError(`Webex refused the socket (${code}): check the bot token`, code);
  }
  return err;
}

/** One Mercury session on the shared device registration. */
class MercuryConnection implements LinkConnection {
  readonly id: string;
  private heardAt = Date.now();
  private activityListeners: Array<(a: IncomingActivity) => void> = [];
  private closeListeners: Array<(info: CloseInfo) => void> = [];
  private retiringListeners: Array<() => void> = [];
  private readonly unclaimed: IncomingActivity[] = [];
  private closed = false;
  private readonly mercury: WebexSdk['internal']['mercury'];
  private readonly log: Logger;

  constructor(private readonly opts: MercuryConnectionOptions) {
    this.id = opts.sessionId;
    this.mercury = opts.sdk.internal.mercury;
    this.log = opts.log;
    this.mercury.on(`event:conversation.activity:${this.id}`, this.onEnvelope);
    this.mercury.on(`offline:${this.id}`, this.onOffline);
    this.mercury.on(`event:mercury_shutdown_imminent:${this.id}`, this.onShutdownNotice);
  }

  lastHeardAt(): number {
    return this.heardAt;
  }

  onActivity(listener: (activity: IncomingActivity) => void): void {
    this.activityListeners.push(listener);
    // Events that arrived between `online` and the supervisor taking the socket: acked already, so
    // dropping them would lose them for good.
    for (const activity of this.unclaimed.splice(0)) listener(activity);
  }

  onClose(listener: (info: CloseInfo) => void): void {
    this.closeListeners.push(listener);
  }

  onRetiring(listener: () => void): void {
    this.retiringListeners.push(listener);
  }

  /** Called once online: from now on every frame (pongs included) counts as a sign of life. */
  attach(): void {
    this.heardAt = Date.now();
    onSocketFrames(this.mercury, this.id, () => {
      this.heardAt = Date.now();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.mercury.off(`event:conversation.activity:${this.id}`, this.onEnvelope);
    this.mercury.off(`offline:${this.id}`, this.onOffline);
    this.mercury.off(`event:mercury_shutdown_imminent:${this.id}`, this.onShutdownNotice);
    try {
      await this.mercury.disconnect(PERMANENT_CLOSE, this.id);
    } catch (err) {
      this.log.debug({ event: 'connection.disconnect_error', connection: this.id, err: errorText(err) });
    } finally {
      this.opts.onReleased();
    }
  }

  private readonly onOffline = (event?: { code?: number; reason?: string }) => {
    const info: CloseInfo = { code: event?.code, reason: event?.reason || 'socket closed' };
    for (const listener of this.closeListeners) listener(info);
  };

  private readonly onShutdownNotice = () => {
    for (const listener of this.retiringListeners) listener();
  };

  private readonly onEnvelope = (envelope: { data?: { activity?: RawActivity } }) => {
    this.heardAt = Date.now();
    const activity = envelope.data?.activity;
    let incoming: IncomingActivity | undefined;
    try {
      incoming = activity && toIncoming(activity, this.opts.sdk);
    } catch (err) {
      this.log.warn({ event: 'activity.malformed', connection: this.id, err: errorText(err) });
      return;
    }
    if (!incoming) {
      this.log.debug({ event: 'activity.ignored', connection: this.id, verb: activity?.verb });
      return;
    }
    if (this.activityListeners.length === 0) this.unclaimed.push(incoming);
    for (const listener of this.activityListeners) listener(incoming);
  };
}

interface RawActivity {
  id?: string;
  verb?: string;
  actor?: { entryUUID?: string };
  target?: { id?: string; url?: string };
}

/** Posts and card submits become ids in Webex's public (hydra) form; everything else is not ours to handle. */
function toIncoming(activity: RawActivity, sdk: WebexSdk): IncomingActivity | undefined {
  const { id, verb, actor, target } = activity;
  if (!id || !actor?.entryUUID || !target?.id || !target.url) return undefined;
  const hydra = hydraIdsFor(sdk, target.url);
  const common = { actorId: hydra('PEOPLE', actor.entryUUID), roomId: hydra('ROOM', target.id) };
  if (verb === 'post' || verb === 'share') return { id: hydra('MESSAGE', id), kind: 'message', ...common };
  if (verb === 'cardAction') return { id: hydra('ATTACHMENT_ACTION', id), kind: 'cardAction', ...common };
  return undefined;
}
