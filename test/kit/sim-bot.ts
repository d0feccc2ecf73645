/**
 * Test helper: a real Webex SDK (via src/webex/sdk.ts) wired to a running simulator, recording
 * the Mercury events and SDK events tests assert on.
 */
import type { Simulator } from '../../src/simulator/index.js';
import { createWebexSdkWithPlugins, type MercuryTuning, type SdkLogLevel } from '../../src/webex/sdk.js';
import type { AttachmentActionCreatedEvent, MessageCreatedEvent, WebexSdkWithPlugins } from '../../src/webex/sdk-types.js';

/**
 * Rejections the SDK leaves unhandled in situations the simulator provokes on purpose (see
 * webex-wire.md). Node 20 exits on them and tap fails the file; the daemon must handle them too.
 * Known ones are recorded here and swallowed; anything else still reaches tap.
 */
export const KNOWN_SDK_REJECTIONS = [
  /INVALID_STATE_ERROR/,
  /`event\.data\.id` is required/,
  /Mercury (Connection|Shutdown Switchover) Aborted/,
];
export const sdkRejections: unknown[] = [];
{
  const previous = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', (reason, promise) => {
    const text = String((reason as Error)?.message ?? reason);
    if (KNOWN_SDK_REJECTIONS.some((re) => re.test(text))) {
      sdkRejections.push(reason);
      return;
    }
    if (!previous.length) throw reason;
    for (const l of previous) l(reason, promise);
  });
}

/** Short timings so liveness faults show up in well under a second. */
export const FAST_MERCURY: MercuryTuning = {
  pingInterval: 300,
  pongTimeout: 300,
  backoffTimeReset: 50,
  backoffTimeMax: 200,
  forceCloseDelay: 200,
};

const MERCURY_EVENTS = [
  'online',
  'offline',
  'offline.transient',
  'offline.permanent',
  'offline.replaced',
  'event:mercury.buffer_state',
  'event:mercury_shutdown_imminent',
];

export interface SimBot {
  webex: WebexSdkWithPlugins;
  /** Mercury lifecycle events in order, each with the close code when there is one: "offline:1006". */
  events: string[];
  created: MessageCreatedEvent[];
  actions: AttachmentActionCreatedEvent[];
  /** Record events of another mercury session (names suffixed ":<sessionId>"). */
  watchSession(sessionId: string): void;
  close(): Promise<void>;
}

export function newSdk(sim: Simulator, opts: { mercury?: MercuryTuning; wsOptions?: Record<string, unknown> } = {}): WebexSdkWithPlugins {
  return createWebexSdkWithPlugins({
    token: sim.botToken,
    u2cUrl: sim.u2cUrl,
    hydraUrl: sim.hydraUrl,
    mercury: { ...FAST_MERCURY, ...opts.mercury },
    ...(opts.wsOptions ? { wsOptions: opts.wsOptions } : {}),
    logLevel: (process.env.SIM_SDK_LOG as SdkLogLevel | undefined) ?? 'silent',
  });
}

export async function startBot(
  sim: Simulator,
  opts: { mercury?: MercuryTuning; wsOptions?: Record<string, unknown>; listen?: boolean } = {},
): Promise<SimBot> {
  const webex = newSdk(sim, opts);
  const events: string[] = [];
  const record = (suffix: string) => {
    for (const name of MERCURY_EVENTS) {
      webex.internal.mercury.on(name + suffix, (e?: { code?: number }) =>
        events.push(`${name}${suffix}${typeof e?.code === 'number' ? `:${e.code}` : ''}`),
      );
    }
  };
  record('');
  const created: MessageCreatedEvent[] = [];
  const actions: AttachmentActionCreatedEvent[] = [];
  webex.messages.on('created', (e: MessageCreatedEvent) => created.push(e));
  webex.attachmentActions.on('created', (e: AttachmentActionCreatedEvent) => actions.push(e));
  if (opts.listen !== false) {
    await webex.messages.listen();
    await webex.attachmentActions.listen();
  }
  return {
    webex,
    events,
    created,
    actions,
    watchSession: (id) => record(`:${id}`),
    close: async () => {
      // 3050 + a non-"normal" reason: the SDK treats it as final and does not reconnect.
      await webex.internal.mercury.disconnectAll({ code: 3050, reason: 'done (permanent)' });
    },
  };
}

/** The SDK leaves un-unref'd timers (10-60 s) behind; end the test process once tap is done. */
export function exitAfterTests(t: { teardown(fn: () => void): void }): void {
  t.teardown(() => {
    setTimeout(() => process.exit(), 100).unref();
  });
}
