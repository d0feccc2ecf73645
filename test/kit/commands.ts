/** Test helpers for the command platform: ask, click a card, read the audit trail. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runActivity } from '../../src/activity/cli.js';
import { submitData, type Command, type Form } from '../../src/bot/command.js';
import type { SimMessage, Simulator } from '../../src/simulator/index.js';
import { sleep } from './wait.js';

export function tempStateDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-state-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Posts a message and resolves with the first answer in its thread. */
export async function ask(sim: Simulator, from: string, roomId: string, text: string): Promise<SimMessage> {
  const asked = sim.postMessage({ from, roomId, text });
  return sim.waitForBotMessage((m) => m.parentId === asked.id, 10_000);
}

/** Submits a card and resolves with the next bot message in the card's thread (or its space, when the card is gone). */
export async function click(sim: Simulator, from: string, card: SimMessage, inputs: Record<string, unknown>): Promise<SimMessage> {
  const before = new Set(sim.botMessages().map((m) => m.id));
  const thread = card.parentId ?? card.id;
  sim.submitCard({ from, cardMessageId: card.id, inputs });
  return sim.waitForBotMessage((m) => !before.has(m.id) && m.roomId === card.roomId && (m.parentId === thread || !m.parentId), 10_000);
}

export const text = (m: SimMessage): string => m.markdown ?? m.text ?? '';

/** Runs a command directly, without Webex, as Alice in a 1:1 space: the markdown of each reply. */
export async function repliesTo(command: Command | undefined, args = ''): Promise<string[]> {
  const replies: string[] = [];
  await command?.run({
    sender: { id: 'p1', email: 'alice@example.com', displayName: 'Alice', isBot: false },
    room: { id: 'r1', type: 'direct' },
    threadId: 'm1',
    signal: new AbortController().signal,
    args,
    fetchMs: 1,
    reply: async (r) => void replies.push(r.markdown),
    post: async () => undefined,
  });
  return replies;
}

/** A command whose form has one required text input, `text`; `submit` decides what a submit becomes. */
export function textFormCommand(keyword: string, description: string, submit: Form['submit']): Command {
  const card = () => ({
    type: 'AdaptiveCard',
    version: '1.3',
    body: [{ type: 'Input.Text', id: 'text' }],
    actions: [{ type: 'Action.Submit', title: 'Save', data: submitData(keyword) }],
  });
  return {
    keyword,
    description,
    run: (ctx) => ctx.reply({ markdown: `${keyword} form`, card: card() }),
    form: { fields: ['text'], required: ['text'], card, submit },
  };
}

export interface AuditRow {
  personEmail: string;
  roomId: string;
  command: string;
  kind: string;
  outcome: string;
  durationMs: number;
  ref: string;
}

/** The audit trail as `toodles activity --json` prints it (from `env`'s database when it names one, else `dir`). */
export async function audit(dir: string | undefined, ...args: string[]): Promise<AuditRow[]> {
  return auditFrom({}, ['--json', ...(dir === undefined ? [] : ['--state-dir', dir]), ...args]);
}

/** `toodles activity --json` with this environment (e.g. TOODLES_DATABASE_URL), nothing else from ours. */
export async function auditFrom(env: NodeJS.ProcessEnv, args: string[]): Promise<AuditRow[]> {
  let out = '';
  let err = '';
  const code = await runActivity(
    args,
    (s) => (out += s),
    (s) => (err += s),
    Date.now(),
    env,
  );
  if (code !== 0) throw new Error(`toodles activity exited ${code}: ${err}`);
  return JSON.parse(out) as AuditRow[];
}

/** The audit trail once `ready` holds for it: a record is written just after the reply it follows. */
export async function auditWhen(dir: string, ready: (rows: AuditRow[]) => boolean, timeoutMs = 5_000): Promise<AuditRow[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const rows = await audit(dir);
    if (ready(rows) || Date.now() > end) return rows;
    await sleep(20);
  }
}
