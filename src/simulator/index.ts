/**
 * A local Webex cloud for tests, demos and benchmarks. The real Webex JS SDK talks to it unmodified.
 *
 *   const sim = await startSimulator({ port: 0 });
 *   // point the SDK at sim.u2cUrl + sim.hydraUrl with sim.botToken
 *   const room = sim.directRoom('alice@example.com');
 *   sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'hi' });
 *   await sim.waitForBotMessage((m) => m.roomId === room.id);
 *
 * Module map: state.ts (world model) · catalog.ts (u2c) · rest.ts (hydra, wdm, metrics) ·
 * listing.ts (the rooms and messages a bot may list) · dto.ts (hydra shapes) ·
 * mercury.ts (websocket + delivery) · faults.ts (switches) · control.ts (/_sim/ HTTP API) · cli.ts ·
 * types.ts (the Simulator interface, shared by this file and control.ts).
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { serviceUrls } from './catalog.js';
import { ControlApi, CONTROL_PREFIX } from './control.js';
import { FaultState } from './faults.js';
import { sendJson, hydraError } from './http-util.js';
import { newUuid } from './ids.js';
import { TrafficLog } from './log.js';
import { MercuryServer } from './mercury.js';
import { RestApi } from './rest.js';
import { SimState, type SimMessage, type SimPerson } from './state.js';
import type { SimFaults, Simulator, SimulatorOptions } from './types.js';

export type { SimMessage, SimPerson, SimRoom } from './state.js';
export type { SimConnection } from './mercury.js';
export type { TrafficLine } from './log.js';
export type { MalformedKind, Redelivery } from './faults.js';
export type { NewSimMessage, SimDeviceInfo, SimFaults, Simulator, SimulatorOptions } from './types.js';

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? '127.0.0.1';
  const orgId = newUuid();
  // Real bot tokens look like <random>_<cluster>_<orgId>; the SDK reads the org from the last part.
  const botToken = `${randomBytes(24).toString('hex')}_PF84_${orgId}`;
  const log = new TrafficLog(opts.logTraffic);
  const faults = new FaultState(opts.redelivery ?? 'none');
  let baseUrl = '';
  const state = new SimState(
    opts.botEmail ?? 'toodles@webex.bot',
    opts.botDisplayName ?? 'Toodles',
    // Filled in lazily: the port is known only after listen().
    '',
  );
  const identities = new Map<string, SimPerson>(); // token -> identity, besides the bot
  const rest = new RestApi({ state, faults, baseUrl: () => baseUrl, botToken, orgId, identities });
  const mercury = new MercuryServer(state, faults, log, botToken);

  const server: Server = createServer();
  server.on('upgrade', (req, socket, head) => mercury.handleUpgrade(req, socket, head));
  // Keep-alive sockets would hold stop() open; tests stop the simulator while the SDK still idles.
  server.keepAliveTimeout = 1000;

  // Connections arrive here first, so a black-holed path can swallow them before HTTP sees a byte.
  const held = new Set<Socket>();
  const listener = createTcpServer((socket) => {
    if (!faults.blackhole) return void server.emit('connection', socket);
    log.log('blackholed', { remotePort: socket.remotePort });
    socket.pause();
    held.add(socket);
    socket.once('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (listener.address() as AddressInfo).port;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const urls = serviceUrls(baseUrl);
  state.conversationUrl = urls.conversation;

  const waiters = new Set<{ pred: (m: SimMessage) => boolean; resolve: (m: SimMessage) => void }>();
  state.on('botMessage', (m) => {
    for (const w of waiters) {
      if (!w.pred(m)) continue;
      waiters.delete(w);
      w.resolve(m);
    }
  });

  const setSilent = (on: boolean) => {
    faults.silent = on;
    if (!on) mercury.silenceLifted();
  };
  const simFaults: SimFaults = {
    killSockets: (deviceId) => mercury.kill(deviceId),
    closeSockets: (code, reason = '', o = {}) => mercury.close(code, reason, o),
    silence: (on = true) => setSilent(on),
    stopReading: (on = true) => {
      faults.notReading = on;
      mercury.setReading(!on);
    },
    refuseUpgrades: (o = {}) => {
      faults.refuseUpgrades =
        o === false
          ? undefined
          : {
              status: o.status ?? 503,
              ...(o.forMs !== undefined ? { until: Date.now() + o.forMs } : {}),
              ...(o.count !== undefined ? { remaining: o.count } : {}),
            };
    },
    withholdBufferState: (on = true) => void (faults.withholdBufferState = on),
    zombie: (on = true) => {
      faults.hangUpgrades = on;
      setSilent(on);
    },
    blackhole: (on = true) => {
      // Open sockets go quiet both ways; new connections are swallowed (those already held stay so).
      faults.blackhole = on;
      faults.notReading = on;
      mercury.setReading(!on);
      setSilent(on);
    },
    failRest: (o) =>
      faults.addRestRule({ path: o.path, status: o.status, method: o.method, retryAfterSec: o.retryAfterSec, remaining: o.count }),
    slowRest: (o) => faults.addRestRule({ path: o.path, delayMs: o.delayMs, method: o.method, remaining: o.count }),
    malformedFrame: (kind = 'not-json', deviceId) => mercury.malformed(kind, deviceId),
    oversizedFrame: (bytes = 2 * 1024 * 1024, deviceId) => mercury.oversized(bytes, deviceId),
    excessiveDeviceRegistrations: (o = {}) => void (faults.excessiveRegistrations = o === false ? undefined : o),
    replaceOnNewConnection: (on = true) => void (faults.replaceOnNewConnection = on),
    deafDevice: (deviceId) => {
      const hit = [...state.devices.values()].filter((d) => !d.deleted && (!deviceId || d.uuid === deviceId));
      for (const d of hit) faults.deafDevices.add(d.uuid);
      return hit.length;
    },
    redelivery: (mode) => {
      if (mode !== 'none' && mode !== 'queue') throw new Error(`redelivery must be 'none' or 'queue' (got ${String(mode)})`);
      faults.redelivery = mode;
      mercury.redeliveryChanged();
    },
    snapshot: () => faults.snapshot(),
    clear: () => {
      const wasNotReading = faults.notReading;
      faults.clear();
      if (wasNotReading) mercury.setReading(true);
      mercury.redeliveryChanged();
      log.log('fault', { action: 'clear' });
    },
  };
  // Every fault switch is logged, so a traffic log explains itself.
  for (const [name, fn] of Object.entries(simFaults) as Array<[keyof SimFaults, (...a: unknown[]) => unknown]>) {
    if (name === 'snapshot' || name === 'clear') continue;
    (simFaults as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      log.log('fault', { action: name, args });
      return fn(...args);
    };
  }

  const sim: Simulator = {
    baseUrl,
    u2cUrl: urls.u2c,
    hydraUrl: urls.hydra,
    controlUrl: `${baseUrl}${CONTROL_PREFIX}`,
    botToken,
    bot: { id: state.bot.id, email: state.bot.email, displayName: state.bot.displayName },
    addPerson: (p) => state.addPerson(p),
    addIdentity: (p) => {
      const person = state.addPerson(p);
      person.type = 'bot';
      const token = `${randomBytes(24).toString('hex')}_PF84_${orgId}`;
      identities.set(token, person);
      return { token, person };
    },
    directRoom: (email) => state.directRoom(email),
    groupRoom: (title, members) => state.groupRoom(title, members),
    postMessage: (m) => {
      const room = state.roomById(m.roomId);
      if (!room) throw new Error(`no such room: ${m.roomId}`);
      const author = state.addPerson({ email: m.from });
      // In a group room a bot only hears messages that mention it; Webex renders the mention as
      // the bot's display name at the start of the text.
      const mention = room.type === 'group' && m.mentionBot !== false;
      const text = mention ? `${state.bot.displayName} ${m.text}`.trim() : m.text;
      return state.addMessage({
        author,
        room,
        // Webex leaves `text` out of a message that is only a file.
        text: !text && m.files?.length ? undefined : text,
        parentId: m.parentId,
        mentionedPeople: mention ? [state.bot.id] : undefined,
        files: m.files,
        at: m.at,
      });
    },
    submitCard: (c) => ({ actionId: state.submitCard(c).id }),
    botMessages: () => [...state.botSent],
    repliesTo: (id) => state.repliesTo(id),
    waitForBotMessage: (pred, timeoutMs = 5000) => {
      const found = state.botSent.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (m: SimMessage) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no matching bot message within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    devices: () =>
      [...state.devices.values()].map((d) => ({
        id: d.uuid,
        url: d.url,
        webSocketUrl: d.webSocketUrl,
        registeredAt: d.registeredAt,
        deleted: d.deleted,
        refreshes: d.refreshes,
        pending: mercury.pendingCount(d.uuid),
      })),
    connections: () => mercury.connections(),
    traffic: () => log.all(),
    faults: simFaults,
    stop: async () => {
      await mercury.stop();
      server.closeAllConnections();
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
  const control = new ControlApi(sim);
  // Routed only now that the control API exists; nothing is read before this function returns.
  server.on('request', (req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://x');
    res.on('finish', () => {
      if (!url.pathname.startsWith(CONTROL_PREFIX) || opts.logTraffic) {
        log.log('http', { method: req.method, path: url.pathname + url.search, status: res.statusCode, ms: Date.now() - started });
      }
    });
    const handle = async () => {
      if (url.pathname.startsWith(CONTROL_PREFIX)) return control.handle(req, res, url);
      if (!(await rest.handle(req, res, url.pathname, url.searchParams)))
        sendJson(res, 404, hydraError(404, `no route ${req.method} ${url.pathname}`));
    };
    handle().catch((e: unknown) => {
      log.log('error', { path: url.pathname, error: e instanceof Error ? (e.stack ?? String(e)) : String(e) });
      if (!res.headersSent) sendJson(res, 500, hydraError(500, e instanceof Error ? e.message : String(e)));
      else res.destroy();
    });
  });
  return sim;
}
