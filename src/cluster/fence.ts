/**
 * Fencing without touching the dispatcher: the claim being handled travels with the handler's async
 * context (AsyncLocalStorage), and the WebexApi the dispatcher is given checks it before anything
 * that speaks for the bot (send, delete). Reads (fetching the message, a person) are never fenced.
 * Outside a claim (no cluster, or the preferred instance answering alone) calls pass straight through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { WebexApi } from '../webex/types.js';
import type { HeldClaim } from './held.js';

const current = new AsyncLocalStorage<HeldClaim>();

/** Runs a handler with this claim as the one its replies are fenced by. */
export function underClaim<T>(held: HeldClaim, work: () => Promise<T>): Promise<T> {
  return current.run(held, work);
}

export function fencedApi(api: WebexApi): WebexApi {
  const confirm = async () => current.getStore()?.confirm();
  return {
    getMessage: (id, signal) => api.getMessage(id, signal),
    getCardAction: (id, signal) => api.getCardAction(id, signal),
    getPerson: (id, signal) => api.getPerson(id, signal),
    send: async (message, signal) => {
      await confirm();
      return api.send(message, signal);
    },
    deleteMessage: async (id, signal) => {
      await confirm();
      return api.deleteMessage(id, signal);
    },
  };
}
