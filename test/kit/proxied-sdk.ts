/**
 * Test helpers: the real SDK wired through a proxy the way src/webex/sdk.ts should wire it
 * (Mercury agent in wsOptions + the REST hook), and teardown ordering.
 */
import type { Simulator } from '../../src/simulator/index.js';
import { createWebexSdkWithPlugins, type WebexSdkWithPlugins } from '../../src/webex/sdk.js';
import { createProxyAgent } from '../../src/webex/proxy/agent.js';
import { installRestProxy } from '../../src/webex/proxy/rest-hook.js';
import type { ProxySettings } from '../../src/webex/proxy/settings.js';
import { eventually } from './wait.js';

/**
 * listen() resolves before the SDK's own GET people/me (for its event envelope) has finished; tearing
 * the proxy down under it is an unhandled rejection inside the SDK. Wait for it.
 */
export async function servedPeopleMe(sim: Simulator, timeoutMs = 5000): Promise<void> {
  await eventually(
    'the SDK to fetch people/me',
    () => sim.traffic().some((l) => l.kind === 'http' && String(l['path']).startsWith('/v1/people/me')),
    timeoutMs,
  );
}

/** Teardowns that run last-registered-first (SDK, then proxy, then simulator). */
export function lifo(t: { teardown(fn: () => unknown): void }): (fn: () => unknown) => void {
  const fns: Array<() => unknown> = [];
  t.teardown(async () => {
    for (const fn of fns.reverse()) await fn();
  });
  return (fn) => {
    fns.push(fn);
  };
}

/** An SDK instance wired the way sdk.ts should wire it: Mercury agent + REST hook. */
export async function connectSdk(
  sim: Simulator,
  settings: ProxySettings,
  extra: { mercury?: Parameters<typeof createWebexSdkWithPlugins>[0]['mercury']; connectTimeoutMs?: number } = {},
): Promise<{ sdk: WebexSdkWithPlugins; stop: () => Promise<void> }> {
  const agentOpts = extra.connectTimeoutMs !== undefined ? { connectTimeoutMs: extra.connectTimeoutMs } : {};
  const wsAgent = await createProxyAgent(settings, agentOpts);
  const restAgent = await createProxyAgent(settings, agentOpts);
  const sdk = createWebexSdkWithPlugins({
    token: sim.botToken,
    u2cUrl: sim.u2cUrl,
    hydraUrl: sim.hydraUrl,
    ...(extra.mercury ? { mercury: extra.mercury } : {}),
    wsOptions: { handshakeTimeout: 5000, ...(wsAgent ? { agent: wsAgent } : {}) },
  });
  installRestProxy(sdk, restAgent);
  const stop = async (): Promise<void> => {
    try {
      await sdk.internal.mercury.disconnect({ code: 3050, reason: 'done (permanent)' });
    } catch {
      // already gone
    }
    wsAgent?.destroy();
    restAgent?.destroy();
  };
  return { sdk, stop };
}
