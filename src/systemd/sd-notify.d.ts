// sd-notify ships no types, and @types/sd-notify is wrong for sendState; this is the surface toodles uses.
declare module 'sd-notify' {
  interface SdNotify {
    ready(): void;
    stopping(pid?: number): void;
    watchdog(): void;
    /** Half-period systemd expects pings at, in ms; 0 when no watchdog is set for this process. */
    watchdogInterval(): number;
    sendStatus(text: string): void;
    sendState(state: string): void;
  }
  const sdNotify: SdNotify;
  export default sdNotify;
}
