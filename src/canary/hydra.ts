/**
 * The few Webex REST calls the canary makes as its own identity: post into its 1:1 space with the
 * bot, and read that thread. Plain HTTPS (through the configured proxy); the SDK would be a
 * 100 MB, device-registering way to send one message.
 */
import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { bounded } from '../util/bounded.js';

export interface HydraMessage {
  id: string;
  roomId: string;
  personEmail?: string;
  text?: string;
  markdown?: string;
  parentId?: string;
}

export class HydraError extends Error {
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(`${what}: Webex answered ${status}`);
    this.name = 'HydraError';
  }
}

export class Hydra {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly agent: Agent | undefined,
  ) {}

  /** Posts into the 1:1 space with that person (the bot); nowhere else. */
  sendDirect(toPersonEmail: string, text: string, timeoutMs: number): Promise<HydraMessage> {
    return this.call('POST', '/messages', { toPersonEmail, text }, timeoutMs) as Promise<HydraMessage>;
  }

  /** Replies in a thread of the 1:1 space with that person, newest first. */
  async directThread(personEmail: string, parentId: string, timeoutMs: number): Promise<HydraMessage[]> {
    const q = new URLSearchParams({ personEmail, parentId });
    const body = (await this.call('GET', `/messages/direct?${q}`, undefined, timeoutMs)) as { items?: HydraMessage[] };
    return body.items ?? [];
  }

  private call(method: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const url = new URL(this.baseUrl + path);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const what = `${method} ${url.pathname}`;
    return bounded(
      what,
      (signal) =>
        new Promise((resolve, reject) => {
          const req = request(
            url,
            {
              method,
              signal,
              agent: this.agent,
              headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', accept: 'application/json' },
            },
            (res) => {
              let text = '';
              res.setEncoding('utf8').on('data', (d: string) => (text += d));
              res.on('error', reject);
              res.on('end', () => {
                const status = res.statusCode ?? 0;
                if (status < 200 || status >= 300) return reject(new HydraError(status, what));
                try {
                  resolve(text ? JSON.parse(text) : {});
                } catch {
                  reject(new Error(`${what}: the answer is not JSON`));
                }
              });
            },
          );
          req.on('error', reject);
          req.end(body === undefined ? undefined : JSON.stringify(body));
        }),
      { timeoutMs },
    );
  }
}
