// Type-aware lint. The import zones enforce the architecture of DESIGN.md: imports point
// core ← sdk ← engine ← server ← cli, and stores depend on the store contract only. Import
// cycles are checked by `dpdm` in `npm run lint`.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/** Forbids the files under `folder` to import from the `forbidden` folders of src/. */
const zone = (folder, forbidden, why) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `(^|/)(${forbidden.join('|')})(/|$)`,
            message: `src/${folder} must not import from ${forbidden.join(', ')}: ${why}`,
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'bench/**', 'coverage/**', 'artifacts/**', '.weft/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      // Abort reasons are whatever the signal carries; rejecting with them keeps the cause.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
    },
  },
  zone(
    'core',
    ['sdk', 'engine', 'store', 'server', 'client', 'testing', 'cli'],
    'core imports nothing else of src/',
  ),
  zone(
    'sdk',
    ['engine', 'store', 'server', 'client', 'testing', 'cli'],
    'the SDK depends on core alone, so user code can be imported anywhere',
  ),
  zone(
    'store/contract',
    ['sdk', 'engine', 'server', 'cli', 'testing', 'sqlite', 'postgres'],
    'the store contract depends on core only',
  ),
  zone(
    'store/sqlite',
    ['sdk', 'engine', 'server', 'cli', 'testing', 'postgres'],
    'a store backend depends on the store contract and core only',
  ),
  zone(
    'store/postgres',
    ['sdk', 'engine', 'server', 'cli', 'testing', 'sqlite'],
    'a store backend depends on the store contract and core only',
  ),
  zone(
    'engine',
    ['server', 'cli', 'client', 'testing', 'sqlite', 'postgres'],
    'the engine receives a Store; only the CLI and the server factory pick one',
  ),
  zone(
    'server',
    ['sdk', 'cli', 'client', 'testing', 'sqlite', 'postgres'],
    'the server builds on engine, store/contract and core; the CLI picks its store',
  ),
  zone(
    'testing',
    ['server', 'cli', 'client', 'store'],
    'the testing kit builds on engine, sdk and core',
  ),
  zone(
    'client',
    ['sdk', 'engine', 'store', 'testing', 'cli'],
    'the client depends on core only (and on the API types of the server)',
  ),
  {
    // The client takes the API's types from the server, and nothing else of it.
    files: ['src/client/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)server/(?!api-types\\.js$)',
              message: 'src/client imports only the API types of src/server (server/api-types.js)',
            },
            {
              regex: '(^|/)server/api-types\\.js$',
              allowTypeImports: true,
              message: 'src/client imports the API types as types only (import type)',
            },
          ],
        },
      ],
    },
  },
  {
    // The web UI: React's rules of hooks and their dependency lists.
    files: ['ui/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  {
    files: ['test/**/*.ts', 'examples/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: null },
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
);
