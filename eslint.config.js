// Type-aware lint. The import zones enforce the architecture of DESIGN.md: imports point
// core ← sdk ← engine ← server ← cli, stores depend on the store contract only, and no cycles.
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const zone = (target, from, message) => ({ target, from, message });

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'bench/**',
      'ui/**',
      'coverage/**',
      'artifacts/**',
      '.weft/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver': { node: { extensions: ['.ts', '.js'] } },
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
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            zone('./src/core', './src/!(core)/**', 'core imports nothing else of src/'),
            zone(
              './src/sdk',
              [
                './src/engine',
                './src/store',
                './src/server',
                './src/client',
                './src/testing',
                './src/cli',
              ],
              'the SDK depends on core alone, so user code can be imported anywhere',
            ),
            zone(
              './src/store/contract',
              [
                './src/sdk',
                './src/engine',
                './src/server',
                './src/cli',
                './src/testing',
                './src/store/sqlite',
                './src/store/postgres',
              ],
              'the store contract depends on core only',
            ),
            zone(
              './src/store/sqlite',
              [
                './src/sdk',
                './src/engine',
                './src/server',
                './src/cli',
                './src/testing',
                './src/store/postgres',
              ],
              'a store backend depends on the store contract and core only',
            ),
            zone(
              './src/store/postgres',
              [
                './src/sdk',
                './src/engine',
                './src/server',
                './src/cli',
                './src/testing',
                './src/store/sqlite',
              ],
              'a store backend depends on the store contract and core only',
            ),
            zone(
              './src/engine',
              [
                './src/server',
                './src/cli',
                './src/client',
                './src/testing',
                './src/store/sqlite',
                './src/store/postgres',
              ],
              'the engine receives a Store; only the CLI and the server factory pick one',
            ),
            zone(
              './src/testing',
              [
                './src/server',
                './src/cli',
                './src/client',
                './src/store/sqlite',
                './src/store/postgres',
              ],
              'the testing kit builds on engine, sdk and core',
            ),
            zone('./src/client', ['./src/!(core|client)/**'], 'the client depends on core only'),
          ],
        },
      ],
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
