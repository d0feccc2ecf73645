// The published API, as a module's author meets it: `toodles/command-api` resolves through the
// package's exports to the .d.ts tsc makes of src/modules/api.ts, it catches a wrong module, and
// the shipped examples and the new-command starters check against it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { starterModule } from '../../src/modules/starter.js';
import { ROOT } from '../kit/spawn-daemon.js';

const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

function tsc(args: string[], cwd: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSC, ...args], { cwd, timeout: 120_000 }, (err, stdout) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout }),
    );
  });
}

t.test('modules type-check against toodles/command-api', async (t) => {
  // The test commands build first (npm run build), tsconfig.api.json's declarations included.
  t.ok(existsSync(join(ROOT, 'dist/src/modules/api.d.ts')), 'npm run build made the declarations');

  const project = mkdtempSync(join(tmpdir(), 'toodles-api-'));
  t.teardown(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(ROOT, join(project, 'node_modules/toodles')); // as `npm install /opt/toodles/current` would
  writeFileSync(join(project, 'package.json'), '{"type":"module"}');
  writeFileSync(
    join(project, 'good.ts'),
    `import type { ModuleCommand } from 'toodles/command-api';
export const apiVersion = 1;
const hello: ModuleCommand = {
  keyword: 'hello',
  description: 'says hello',
  adminOnly: true,
  async run(ctx) {
    const seen = await ctx.store.get(ctx.sender.email);
    await ctx.store.set(ctx.sender.email, { at: Date.now() });
    await ctx.reply({ markdown: ctx.escape.markdownText(ctx.args) + (seen ? ' again' : '') });
    return seen ? undefined : 'invalid';
  },
};
export default hello;
`,
  );
  writeFileSync(
    join(project, 'wrong.ts'),
    `import type { ModuleCommand } from 'toodles/command-api';
export default { keyword: 'x', description: 'y', adminonly: true, async run(ctx) { await ctx.reply('text'); } } satisfies ModuleCommand;
`,
  );
  writeFileSync(join(project, 'plain.mjs'), starterModule('plain', false));
  writeFileSync(join(project, 'withform.mjs'), starterModule('withform', true));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        noEmit: true,
        allowJs: true,
        checkJs: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules/@types')],
      },
      files: [
        'good.ts',
        'wrong.ts',
        'plain.mjs',
        'withform.mjs',
        ...['links', 'oncall'].map((m) => join(ROOT, `examples/commands/${m}.mjs`)),
      ],
    }),
  );
  const checked = await tsc(['-p', 'tsconfig.json', '--pretty', 'false'], project);
  const errors = checked.stdout.trim().split('\n');
  t.match(
    errors,
    [
      /^wrong\.ts\(2,\d+\): error TS2561: .*'adminonly' does not exist in type 'ModuleCommand'\. Did you mean to write 'adminOnly'\?/,
      /^wrong\.ts\(2,\d+\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'Reply'\./,
    ],
    'the wrong module is caught, and nothing else',
  );
  t.equal(errors.length, 2, checked.stdout);
});
