/**
 * One canary run: as a second identity, say `ping` to the bot in their 1:1 space and wait (bounded)
 * for its answer in that thread. The result goes to the daemon over the control socket, which counts
 * failures in a row; on the second the canary asks it to rebuild its Webex link from scratch, on the
 * third (and after) to exit so that systemd restarts it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { controlRequest } from '../control/client.js';
import type { CanaryStage, HealAction } from '../stats/stats.js';
import { errorText } from '../util/error-text.js';
import type { Hydra, HydraMessage } from './hydra.js';

export const REBUILD_AFTER = 2;
export const RESTART_AFTER = 3;

export interface CanaryDeps {
  hydra: Hydra;
  socketPath: string;
  timeoutMs: number;
  log: Logger;
  /** How often the thread is read while waiting for the answer. */
  pollMs?: number;
}

export interface CanaryResult {
  ok: boolean;
  stage?: CanaryStage;
  roundTripMs?: number;
  /** What the canary asked the daemon to do about it. */
  healed?: HealAction;
}

export async function runCanary(d: CanaryDeps): Promise<CanaryResult> {
  const result = await probe(d);
  if (result.ok) d.log.info({ event: 'canary.ok', roundTripMs: result.roundTripMs });
  if (result.stage === 'daemon') return result; // nobody to tell, nobody to heal
  let failures: number;
  try {
    const answer = await controlRequest(d.socketPath, 'POST', '/canary', { ok: result.ok, stage: result.stage, roundTripMs: result.roundTripMs });
    failures = Number(answer.body.consecutiveFailures ?? 0);
  } catch (err) {
    d.log.error({ event: 'canary.report_failed', err: errorText(err) });
    return result;
  }
  if (result.ok) return result;
  const action: HealAction | undefined = failures >= RESTART_AFTER ? 'restart' : failures >= REBUILD_AFTER ? 'rebuild' : undefined;
  if (!action) return result;
  const reason = `canary failed ${failures} times in a row (last at ${result.stage})`;
  d.log.warn({ event: 'canary.heal', action, consecutiveFailures: failures });
  try {
    await controlRequest(d.socketPath, 'POST', `/heal/${action}`, { reason });
  } catch (err) {
    d.log.error({ event: 'canary.heal_failed', action, err: errorText(err) });
    return result;
  }
  return { ...result, healed: action };
}

async function probe(d: CanaryDeps): Promise<CanaryResult> {
  const failed = (stage: CanaryStage, reason: string, extra: Record<string, unknown> = {}): CanaryResult => {
    d.log.error({ event: 'canary.failed', stage, reason, ...extra });
    return { ok: false, stage };
  };
  let botEmail: string | undefined;
  try {
    const status = await controlRequest(d.socketPath, 'GET', '/status');
    botEmail = (status.body.bot as { email?: string } | undefined)?.email;
  } catch (err) {
    return failed('daemon', errorText(err));
  }
  if (!botEmail) return failed('daemon', 'the daemon has not signed in to Webex yet');
  const started = Date.now();
  const deadline = started + d.timeoutMs;
  let ping: HydraMessage;
  try {
    ping = await d.hydra.sendDirect(botEmail, 'ping', d.timeoutMs);
  } catch (err) {
    return failed('send', errorText(err));
  }
  for (;;) {
    let replies: HydraMessage[] = [];
    try {
      replies = await d.hydra.directThread(botEmail, ping.id, Math.max(1, deadline - Date.now()));
    } catch (err) {
      d.log.debug({ event: 'canary.read_failed', err: errorText(err) });
    }
    const reply = replies.find((m) => m.personEmail?.toLowerCase() === botEmail.toLowerCase());
    const roundTripMs = Date.now() - started;
    if (reply) {
      const text = reply.text ?? reply.markdown ?? '';
      if (!/^pong\b/i.test(text)) return failed('wrong_reply', 'the bot did not answer pong', { reply: text.slice(0, 80) });
      return { ok: true, roundTripMs };
    }
    if (Date.now() >= deadline) return failed('no_reply', `no answer within ${d.timeoutMs} ms`);
    // A timer that keeps the process alive: the daemon's sleeps are unref'd, but here nothing else would.
    await delay(Math.min(d.pollMs ?? 250, Math.max(0, deadline - Date.now())));
  }
}
