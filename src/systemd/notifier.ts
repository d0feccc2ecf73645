/** What the daemon tells its supervisor; outside systemd (no NOTIFY_SOCKET) every call is a no-op. */
export interface Notifier {
  ready(): void;
  status(text: string): void;
  watchdog(): void;
  stopping(): void;
  /** RELOADING=1: a reload has begun; READY=1 (ready()) ends it, whatever its outcome. */
  reloading(): void;
  /** How often systemd wants WATCHDOG=1, in ms (half of WatchdogSec); 0 when it does not. */
  readonly watchdogIntervalMs: number;
}

/** systemd's notify protocol; the sd-notify addon is loaded only when systemd listens (NOTIFY_SOCKET). */
export async function systemdNotifier(env: NodeJS.ProcessEnv = process.env): Promise<Notifier> {
  const watchdogUsec = Number(env.WATCHDOG_USEC ?? 0);
  const forThisProcess = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
  const watchdogIntervalMs = watchdogUsec > 0 && forThisProcess ? Math.floor(watchdogUsec / 2000) : 0;
  if (!env.NOTIFY_SOCKET) {
    const nobody = () => undefined;
    return { ready: nobody, status: nobody, watchdog: nobody, stopping: nobody, reloading: nobody, watchdogIntervalMs };
  }
  const { default: sdNotify } = await import('sd-notify');
  return {
    ready: () => sdNotify.ready(),
    // STATUS is one line of operator-facing text; newlines would be read as more assignments.
    status: (text) => sdNotify.sendStatus(text.replace(/\s+/g, ' ')),
    watchdog: () => sdNotify.watchdog(),
    stopping: () => sdNotify.stopping(process.pid),
    // sd_notify(3): MONOTONIC_USEC (CLOCK_MONOTONIC, which hrtime reads) lets systemd tell this reload from an earlier one.
    reloading: () => sdNotify.sendState(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`),
    watchdogIntervalMs,
  };
}
