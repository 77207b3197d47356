// Lint for the peer benchmark: `npx eslint bench/peers` (ESLint takes the config nearest each
// file), with the rules of the repository's own config. A config and tsconfig of its own because
// the peers it imports are installed in bench/node_modules only (`npm run bench:peers` installs
// them), which the root install and CI don't have; the root config ignores bench/, so a root
// `eslint .` never comes here. Without that install this config ignores everything: type-aware
// rules would see every peer's API as `any`.
import { existsSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const installed = existsSync(new URL('./node_modules/bullmq', import.meta.url));

export default tseslint.config(
  { ignores: installed ? ['node_modules/**', 'results/**', 'weft/**'] : ['**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
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
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
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
