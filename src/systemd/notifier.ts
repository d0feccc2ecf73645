import sdNotify from 'sd-notify';

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

export function systemdNotifier(env: NodeJS.ProcessEnv = process.env): Notifier {
  const watchdogUsec = Number(env.WATCHDOG_USEC ?? 0);
  const forThisProcess = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
  const intervalMs = watchdogUsec > 0 && forThisProcess ? Math.floor(watchdogUsec / 2000) : 0;
  return {
    ready: () => sdNotify.ready(),
    // STATUS is one line of operator-facing text; newlines would be read as more assignments.
    status: (text) => sdNotify.sendStatus(text.replace(/\s+/g, ' ')),
    watchdog: () => sdNotify.watchdog(),
    stopping: () => sdNotify.stopping(process.pid),
    // sd_notify(3): MONOTONIC_USEC (CLOCK_MONOTONIC, which hrtime reads) lets systemd tell this reload from an earlier one.
    reloading: () => sdNotify.sendState(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`),
    watchdogIntervalMs: intervalMs,
  };
}
