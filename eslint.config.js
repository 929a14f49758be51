// ESLint: typescript-eslint's recommended rules everywhere, and the type-aware rules that catch
// real bugs in an async codebase (a promise nobody awaits, a promise where a boolean is expected)
// for the product's source only, where the type information is cheap enough to build.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // An unused import or variable is dead weight a reader has to check; `_name` says "unused on purpose".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `import()` in a type position is how a lazily loaded module's type is named without loading it.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // Input checks name the control characters they refuse (a version, a note, a mail header).
      'no-control-regex': 'off',
      // Casting to never silences the compiler exactly where it should speak.
      'no-restricted-syntax': ['error', { selector: 'TSAsExpression > TSNeverKeyword', message: 'do not cast to never: type the value instead' }],
      eqeqeq: ['error', 'always'],
      // A `let` a closure reads before its one assignment cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['src/**/*.ts', 'commands/**/*.ts', 'sandbox/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // Migrations describe the schema as it was at each step, so they cannot use today's Database
    // type: Kysely's documented idiom is Kysely<any> there.
    files: ['src/adapters/store/migrations.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ignores: ['src/server/console/assets/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The console's one script runs in the browser, as a classic script.
    files: ['src/server/console/assets/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
  {
    // Tests may cast to reach into what they check, and use non-null assertions on what they just built.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-syntax': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Test files share their worker's modules (vitest.config.ts: isolate: false), so a module
      // mock or a stubbed global would leak into the next file. Tests use real parts and fakes.
      'no-restricted-properties': [
        'error',
        ...['mock', 'doMock', 'stubGlobal', 'stubEnv', 'useFakeTimers'].map((property) => ({
          object: 'vi',
          property,
          message: 'test files share modules (isolate: false): inject a fake or a clock instead',
        })),
      ],
    },
  },
);
