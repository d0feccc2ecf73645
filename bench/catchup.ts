/**
 * bench:catchup (issue 19): the catch-up's targets on the simulator, which (like Webex) sends an
 * event only to the sockets online when it is sent. Each scenario runs with catch-up on and, side by
 * side on a simulator of its own, off (TOODLES_CATCHUP_MAX_AGE_S=0: what would be lost), each bot a
 * daemon process. Prints every figure beside its target, PASS or MISS, and the baseline's.
 *
 *   npm run bench:catchup [-- --quick] [--only kill,silent,graceful,spaces,missed,first]
 *
 * About 4 minutes; --quick (about 2) keeps the bot down 5 s instead of 30, the silent outage at 15 s
 * instead of 60 and makes 20 graceful reconnects instead of 200. A benchmark, not a test: exits 0
 * unless the run itself broke (test/bench/catchup.test.ts runs it quick).
 */
import { pathToFileURL } from 'node:url';
import { allPass, table, type ScenarioResult } from './catchup/report.js';
import {
  FULL,
  QUICK,
  firstStart,
  gracefulUnderTraffic,
  killAndRestart,
  manyMissed,
  manySpaces,
  silentOutage,
  type CatchUpBenchOptions,
} from './catchup/scenarios.js';

export const SCENARIOS = {
  kill: killAndRestart,
  silent: silentOutage,
  graceful: gracefulUnderTraffic,
  spaces: manySpaces,
  missed: manyMissed,
  first: firstStart,
} satisfies Record<string, (o: CatchUpBenchOptions) => Promise<ScenarioResult>>;

export type ScenarioName = keyof typeof SCENARIOS;
const isScenario = (name: string): name is ScenarioName => name in SCENARIOS;

export interface CatchUpBenchArgs {
  options: CatchUpBenchOptions;
  quick: boolean;
  only: ScenarioName[];
}

export function benchArgs(args: string[]): CatchUpBenchArgs {
  const quick = args.includes('--quick');
  const i = args.indexOf('--only');
  const names = i >= 0 ? (args[i + 1] ?? '').split(',') : Object.keys(SCENARIOS);
  const unknown = names.filter((name) => !isScenario(name));
  if (unknown.length) throw new Error(`--only: no scenario ${unknown.join(', ')} (there are ${Object.keys(SCENARIOS).join(', ')})`);
  return { options: quick ? QUICK : FULL, quick, only: names.filter(isScenario) };
}

/** Runs the scenarios one after the other, printing each table as it is done. */
export async function runCatchUpBench(a: CatchUpBenchArgs, print: (line: string) => void): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const name of a.only) {
    const result = await SCENARIOS[name](a.options);
    results.push(result);
    for (const line of ['', ...table(result)]) print(line);
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = benchArgs(process.argv.slice(2));
  console.log(
    `bench:catchup${a.quick ? ' --quick' : ''}: catch-up on vs off (TOODLES_CATCHUP_MAX_AGE_S=0), each a daemon process on a simulator that does not re-deliver`,
  );
  const started = Date.now();
  runCatchUpBench(a, (line) => console.log(line)).then(
    (results) => {
      console.log(
        `\n${allPass(results) ? 'every target met' : 'some targets MISSED'}; done in ${((Date.now() - started) / 60_000).toFixed(1)} min`,
      );
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
