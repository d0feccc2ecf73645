import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'coverage/', '.tap/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // tap's t.test() returns a promise that tap itself tracks: the parent waits for it and reports its failures.
        { allowForKnownSafeCalls: [{ from: 'package', package: '@tapjs/test', name: 'test' }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // Off: an async function without await is how a synchronous implementation keeps an async contract
      // (the SQLite storage behind the Storage interface, tap callbacks): its throws become rejections, as
      // callers expect. Dropping `async` to please the rule would turn those rejections into synchronous throws.
      '@typescript-eslint/require-await': 'off',
      // Passing a caught error on unchanged is not inventing a non-Error reason (only-throw-error allows the same).
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // `{ pid: _pid, ...rest }` is how the code leaves a field out of a copy; `_` names a value read only for its effect.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, varsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], extends: [tseslint.configs.disableTypeChecked] },
  // The SDK's package lists are CommonJS, bundled as they are: require() is how a plugin registers itself.
  {
    files: ['src/webex/sdk-packages/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
