import { ConfigError } from '../config.js';

type Env = Record<string, string | undefined>;

/**
 * Loads settings, naming every bad one rather than the first: the loaders stop at the first, so each
 * bad setting is taken out in turn (its default then applies) to find the next. One that cannot be
 * taken out (it is not in the environment: a required one missing) ends the search.
 */
export function loadNamingEveryProblem<T>(env: Env, load: (env: Env) => T): { loaded: T } | { problems: ConfigError[] } {
  const rest = { ...env };
  const problems: ConfigError[] = [];
  for (;;) {
    try {
      const loaded = load(rest);
      return problems.length ? { problems } : { loaded };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err);
      if (!(err.setting in rest)) return { problems };
      delete rest[err.setting];
    }
  }
}
