/**
 * A steady stream of `ping`s from one person, and the count of the bot's answers to each: the
 * measure of "every message answered exactly once". Times are the simulator's own `created`
 * stamps, so a question and its answer are timed on one clock.
 */
import type { Simulator } from '../../src/simulator/index.js';
import { sleep } from './wait.js';

export interface Asked {
  id: string;
  /** ms since epoch, when the simulator took the message. */
  at: number;
}

export interface Tally {
  sent: number;
  once: number;
  /** Answered twice or more. */
  more: number;
  never: number;
  /** The most answers one message got. */
  mostAnswers: number;
}

export class PingTraffic {
  readonly asked: Asked[] = [];
  private readonly roomId: string;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly sim: Simulator,
    private readonly from = 'traffic@example.com',
  ) {
    this.roomId = sim.directRoom(from).id;
  }

  send(): Asked {
    const m = this.sim.postMessage({ from: this.from, roomId: this.roomId, text: 'ping' });
    const asked = { id: m.id, at: Date.parse(m.created) };
    this.asked.push(asked);
    return asked;
  }

  /** Sends `perSecond` until stop(); a late timer catches up, so the rate is the rate asked for. */
  start(perSecond: number): void {
    this.stop();
    const began = Date.now();
    let sent = 0;
    const everyMs = 1000 / perSecond;
    this.timer = setInterval(
      () => {
        const due = Math.floor((Date.now() - began) / everyMs);
        for (; sent < due; sent++) this.send();
      },
      Math.min(everyMs, 50),
    );
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The questions asked from `since` (ms since epoch) on, or all. */
  since(since = 0): Asked[] {
    return this.asked.filter((a) => a.at >= since);
  }

  /** The times (ms since epoch) of the bot's answers to each question, in order. */
  answers(): Map<string, number[]> {
    const out = new Map<string, number[]>(this.asked.map((a) => [a.id, []]));
    for (const m of this.sim.botMessages()) {
      if (m.parentId !== undefined) out.get(m.parentId)?.push(Date.parse(m.created));
    }
    return out;
  }

  tally(questions: Asked[] = this.asked): Tally {
    const answers = this.answers();
    const counts = questions.map((q) => answers.get(q.id)?.length ?? 0);
    return {
      sent: counts.length,
      once: counts.filter((n) => n === 1).length,
      more: counts.filter((n) => n > 1).length,
      never: counts.filter((n) => n === 0).length,
      mostAnswers: Math.max(0, ...counts),
    };
  }

  /** Resolves true once every question has an answer, false at the deadline. */
  async allAnswered(timeoutMs: number, questions: Asked[] = this.asked): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answers = this.answers();
      if (questions.every((q) => answers.get(q.id)!.length > 0)) return true;
      if (Date.now() >= deadline) return false;
      await sleep(100);
    }
  }
}
