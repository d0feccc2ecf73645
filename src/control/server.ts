/**
 * The control socket: HTTP over a Unix socket in the runtime directory, so `toodles status`, the
 * canary and `curl --unix-socket` all speak to the running daemon without any network exposure.
 *
 *   GET  /status          the status document (src/control/status.ts)
 *   GET  /heard?id=ID     {id, heard}: did this instance's own sockets deliver that activity lately
 *   POST /canary          {ok, stage?, roundTripMs?} -> {consecutiveFailures, heal?}: heal is what to ask for next, if anything
 *   POST /reload          read the settings file again: 200 {ok, changed, restartNeeded, ignored}, or 422 {ok: false, error}
 *   POST /heal/rebuild    {reason} rebuild the Webex link from scratch (new SDK instance, new device)
 *   POST /heal/restart    {reason} stop and exit with a status that makes systemd restart the daemon
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { chmodSync, unlinkSync } from 'node:fs';
import type { Logger } from 'pino';
import { bounded } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import { CANARY_STAGES, type CanaryStage, type HealAction } from '../stats/stats.js';
import type { ReloadOutcome } from '../settings/reload.js';

export const CONTROL_SOCKET = 'control.sock';
const MAX_BODY = 4096;

export interface ControlHandlers {
  status(): unknown;
  heard(activityId: string): boolean;
  canary(report: { ok: boolean; stage?: CanaryStage; roundTripMs?: number }): { consecutiveFailures: number; heal?: HealAction };
  rebuild(reason: string): void;
  restart(reason: string): void;
  reload(): Promise<ReloadOutcome>;
}

export interface ControlServer {
  path: string;
  close: () => Promise<void>;
}

class BadRequest extends Error {}

export async function startControlServer(path: string, handlers: ControlHandlers, log: Logger): Promise<ControlServer> {
  const server = createServer((req, res) => {
    route(req, handlers).then(
      ([status, body]) => send(res, status, body),
      (err: unknown) => send(res, err instanceof BadRequest ? 400 : 500, { error: errorText(err) }),
    );
  });
  // A socket left by a process that died is in the way; systemd's RuntimeDirectory is ours alone.
  try {
    unlinkSync(path);
  } catch {
    /* not there */
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  // The unit's UMask (0077) creates it 0600; the group (operators, the canary) may talk to it too.
  chmodSync(path, 0o660);
  log.info({ event: 'control.listening', path });
  return {
    path,
    close: () =>
      bounded('control socket close', new Promise<void>((resolve) => server.close(() => resolve())), { timeoutMs: 1_000 }).catch(() =>
        server.closeAllConnections(),
      ),
  };
}

async function route(req: IncomingMessage, h: ControlHandlers): Promise<[number, unknown]> {
  const url = new URL(req.url ?? '/', 'http://x');
  const key = `${req.method} ${url.pathname}`;
  switch (key) {
    case 'GET /status':
      return [200, h.status()];
    case 'GET /heard': {
      const id = url.searchParams.get('id');
      if (!id) throw new BadRequest('"id" (an activity id) is missing');
      return [200, { id, heard: h.heard(id) }];
    }
    case 'POST /canary': {
      const body = await readBody(req);
      if (typeof body.ok !== 'boolean') throw new BadRequest('"ok" must be true or false');
      const stage =
        body.stage === undefined
          ? undefined
          : (CANARY_STAGES as readonly unknown[]).includes(body.stage)
            ? (body.stage as CanaryStage)
            : undefined;
      if (body.stage !== undefined && !stage) throw new BadRequest(`"stage" must be one of ${CANARY_STAGES.join(', ')}`);
      const roundTripMs = typeof body.roundTripMs === 'number' ? body.roundTripMs : undefined;
      return [200, h.canary({ ok: body.ok, stage, roundTripMs })];
    }
    case 'POST /heal/rebuild':
      h.rebuild(reasonOf(await readBody(req)));
      return [202, { accepted: 'rebuild' }];
    case 'POST /heal/restart':
      h.restart(reasonOf(await readBody(req)));
      return [202, { accepted: 'restart' }];
    case 'POST /reload': {
      const outcome = await h.reload();
      return [outcome.ok ? 200 : 422, outcome];
    }
    default:
      return [404, { error: `no route ${key}` }];
  }
}

function reasonOf(body: Record<string, unknown>): string {
  return typeof body.reason === 'string' && body.reason.trim() ? body.reason.trim().slice(0, 200) : 'asked over the control socket';
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_BODY) throw new BadRequest('body too large');
  }
  if (!text.trim()) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    /* answered below */
  }
  throw new BadRequest('body must be a JSON object');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}
