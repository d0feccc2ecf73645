/**
 * What both bot programs share: the readings the bench wants (memory at ready, after warm-up and at
 * N reconnects; warnings and dropped duplicates from the bot's log), sent over IPC, and the stop.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { writeHeapSnapshot } from 'node:v8';
import pino, { type Logger } from 'pino';
import { STOP, type ChildArgs, type ChildMessage, type Memory } from './protocol.js';

function memory(snapshotName?: string): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  // BENCH_HEAP_DIR=/some/dir: heap snapshots of the bot at start and at N, to find what grows
  // (taken after the reading: writing one inflates RSS).
  const heapDir = process.env.BENCH_HEAP_DIR;
  if (heapDir && snapshotName) writeHeapSnapshot(join(heapDir, `${snapshotName}-${process.pid}.heapsnapshot`));
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

/** Counts the bot's reconnects and reads its log; reports to the bench as it goes and at N. */
export class Meter {
  private count = 0;
  private start?: Memory;
  private warm?: Memory;
  private warnings = 0;
  private readonly firstWarnings: string[] = [];
  private duplicatesDropped = 0;
  private readonly gc = typeof (globalThis as { gc?: unknown }).gc === 'function';

  constructor(private readonly args: ChildArgs) {}

  /** The bot is online: said at once; then the reading growth is measured from, on a clean stack. */
  ready(): void {
    const cpu = process.cpuUsage();
    send({ type: 'online', cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
    setImmediate(() => {
      this.start = memory(`${this.args.strategy}-start`);
      send({ type: 'ready', mem: this.start });
    });
  }

  reconnected(deafMs: number, durationMs: number): void {
    this.count += 1;
    send({ type: 'reconnect', n: this.count, deafMs, durationMs, rss: process.memoryUsage().rss });
    // Measured outside the log write, so the gc runs on a clean stack.
    if (this.count === this.args.warmup) setImmediate(() => (this.warm = memory()));
    if (this.count === this.args.reconnects) setImmediate(() => this.measured());
  }

  /** A pino logger whose lines the meter reads: reconnects, warnings, dropped duplicates. */
  logger(): Logger {
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString().split('\n')) if (line) this.read(line);
        done();
      },
    });
    return pino({ level: 'debug' }, sink);
  }

  private read(line: string): void {
    if (line.includes('"activity.duplicate"')) this.duplicatesDropped += 1;
    if (line.includes('"reconnect.done"')) {
      const l = JSON.parse(line) as { deafMs?: number; durationMs?: number };
      this.reconnected(Number(l.deafMs), Number(l.durationMs));
    }
    const level = /"level":(\d+)/.exec(line);
    if (level && Number(level[1]) >= 40) {
      this.warnings += 1;
      if (this.firstWarnings.length < 5) this.firstWarnings.push(line.slice(0, 300));
    }
  }

  private measured(): void {
    const start = this.start;
    if (!start) return send({ type: 'failed', error: `${this.count} reconnects before the bot was online` });
    send({
      type: 'measured',
      reconnects: this.count,
      start,
      warm: this.warm,
      end: memory(`${this.args.strategy}-end`),
      gc: this.gc,
      warnings: this.warnings,
      firstWarnings: this.firstWarnings,
      duplicatesDropped: this.duplicatesDropped,
    });
  }
}

export interface BotChild {
  args: ChildArgs;
  meter: Meter;
  /** The meter's logger: the bot logs here so the meter sees its reconnects and warnings. */
  logger: Logger;
  /** Resolves when the bench says stop. */
  stop: Promise<void>;
}

/** Runs a bot program with its one JSON argument; a failure is sent to the bench, then it exits. */
export function runBotChild(bot: (child: BotChild) => Promise<void>): void {
  const run = async () => {
    const args = JSON.parse(process.argv[2] ?? '') as ChildArgs;
    const meter = new Meter(args);
    const stop = new Promise<void>((resolve) => process.on('message', (m: { type?: string }) => m.type === STOP.type && resolve()));
    await bot({ args, meter, logger: meter.logger(), stop });
  };
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      send({ type: 'failed', error: String((err as Error)?.stack ?? err) });
      process.exit(1);
    },
  );
}
