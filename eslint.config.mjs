// Lint rules that guard correctness, not taste: floating promises lose errors, and workflow code
// must stay deterministic (no Node built-ins, no activity implementations, only their types).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '.tools/', '.test-artifacts/', 'dist/', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs what describe() and test() return; they are not lost promises.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code must be deterministic: no Node built-ins.' })),
          patterns: [
            {
              group: ['**/activities/*', '**/activities', '!**/activities/types'],
              allowTypeImports: true,
              message: 'Workflows may import activity types only (import type ...).',
            },
            { group: ['pg', 'nodemailer', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Not in workflow code.' },
          ],
        },
      ],
    },
  },
);
