/**
 * One canary run: as a second identity, say `ping` to the bot in their 1:1 space and wait (bounded)
 * for its answer in that thread, and for the local daemon to confirm that its own sockets delivered
 * the ping (with several instances a peer may answer for a deaf one). The result goes to the daemon
 * over the control socket, which counts failures in a row and answers what to ask for (by default, on
 * the second: rebuild its Webex link from scratch; on the third and after: exit so that systemd
 * restarts it; TOODLES_CANARY_REBUILD_AFTER, _RESTART_AFTER, which a reload may change).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { controlRequest } from '../control/client.js';
import type { CanaryStage, HealAction } from '../stats/stats.js';
import { errorText } from '../util/error-text.js';
import type { Hydra, HydraMessage } from './hydra.js';

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
  let action: HealAction | undefined;
  try {
    const answer = await controlRequest(d.socketPath, 'POST', '/canary', {
      ok: result.ok,
      stage: result.stage,
      roundTripMs: result.roundTripMs,
    });
    failures = Number(answer.body.consecutiveFailures ?? 0);
    const heal = answer.body.heal;
    action = heal === 'rebuild' || heal === 'restart' ? heal : undefined;
  } catch (err) {
    d.log.error({ event: 'canary.report_failed', err: errorText(err) });
    return result;
  }
  if (result.ok || !action) return result;
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
  // The answer alone is not enough: with peers, one of them may have answered a ping this instance
  // never heard. Once answered, the canary asks the local daemon until it says it heard the ping too.
  let answer: { roundTripMs: number } | undefined;
  for (;;) {
    if (!answer) {
      const reply = await botReply(d, botEmail, ping.id, deadline);
      if (reply) {
        const text = reply.text ?? reply.markdown ?? '';
        if (!/^pong\b/i.test(text)) return failed('wrong_reply', 'the bot did not answer pong', { reply: text.slice(0, 80) });
        answer = { roundTripMs: Date.now() - started };
      }
    }
    if (answer && (await heardLocally(d, ping.id))) return { ok: true, roundTripMs: answer.roundTripMs };
    if (Date.now() >= deadline) {
      if (!answer) return failed('no_reply', `no answer within ${d.timeoutMs} ms`);
      return failed('local', 'the bot answered, but this instance never heard the ping (a peer answered for it)', {
        roundTripMs: answer.roundTripMs,
      });
    }
    // A timer that keeps the process alive: the daemon's sleeps are unref'd, but here nothing else would.
    await delay(Math.min(d.pollMs ?? 250, Math.max(0, deadline - Date.now())));
  }
}

async function botReply(d: CanaryDeps, botEmail: string, pingId: string, deadline: number): Promise<HydraMessage | undefined> {
  try {
    const replies = await d.hydra.directThread(botEmail, pingId, Math.max(1, deadline - Date.now()));
    return replies.find((m) => m.personEmail?.toLowerCase() === botEmail.toLowerCase());
  } catch (err) {
    d.log.debug({ event: 'canary.read_failed', err: errorText(err) });
    return undefined;
  }
}

/** Did the local daemon's own sockets deliver the ping? A daemon that cannot say counts as "not yet". */
async function heardLocally(d: CanaryDeps, pingId: string): Promise<boolean> {
  try {
    const answer = await controlRequest(d.socketPath, 'GET', `/heard?id=${encodeURIComponent(pingId)}`);
    return answer.body.heard === true;
  } catch (err) {
    d.log.debug({ event: 'canary.read_failed', err: errorText(err) });
    return false;
  }
}
