/** bench:catchup's figures: each beside its target with PASS or MISS, and what the same scenario does with catch-up off. */

/** One figure of a scenario. */
export interface Row {
  figure: string;
  /** The target; none for a figure shown for information. */
  target?: string;
  /** With catch-up on. */
  value: string;
  /** Whether `value` meets `target` (only with a target). */
  pass?: boolean;
  /** The same scenario with catch-up off: what would be lost. */
  baseline: string;
}

export interface ScenarioResult {
  title: string;
  rows: Row[];
}

export const secs = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '-');
export const ofAll = (n: number, all: number) => `${n} of ${all}`;

/** A figure judged against its target. */
export function judged(figure: string, target: string, value: string, pass: boolean, baseline: string): Row {
  return { figure, target, value, pass, baseline };
}

/** A figure shown for information. */
export function shown(figure: string, value: string, baseline: string): Row {
  return { figure, value, baseline };
}

/** The scenario as a table: figure, target, value, PASS/MISS, baseline. */
export function table(r: ScenarioResult): string[] {
  const head: [string, string, string, string, string] = ['', 'target', 'catch-up on', '', 'catch-up off'];
  const cells = r.rows.map((x): [string, string, string, string, string] => [
    x.figure,
    x.target ?? '',
    x.value,
    x.pass === undefined ? '' : x.pass ? 'PASS' : 'MISS',
    x.baseline,
  ]);
  const all = [head, ...cells];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...all.map((c) => c[i]!.length)));
  return [r.title, ...all.map((c) => `  ${c.map((v, i) => (i < 4 ? v.padEnd(widths[i]!) : v)).join('  ')}`.trimEnd())];
}

/** Every judged figure met its target. */
export function allPass(results: ScenarioResult[]): boolean {
  return results.every((r) => r.rows.every((x) => x.pass !== false));
}
